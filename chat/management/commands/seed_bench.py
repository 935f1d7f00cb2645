"""`manage.py seed_bench`: a large, deterministic, skewed data set for the benchmark (bench/).

Users are `bench_user_<n>` (password `bench-pass`); the lower `n`, the more threads a user takes
part in (Zipf-like), so `bench_user_1` has thousands of threads and most users a few. Messages
are spread over the threads with the same kind of skew, and the thread of `bench_user_1` with
`bench_user_2` is the busiest of all (the deep history the benchmark pages through). In a share
of threads the last burst of messages is unread by its recipient.

Rows go in with plain `executemany` in batches, bypassing the ORM (a million model instances
would take minutes), so this command fills the denormalised columns itself, exactly as
`chat.services` would: `Thread.user_low < user_high`, `Thread.updated` = newest message time,
two `Participant` rows per thread (positions 0 and 1), `Message.recipient` = the other
participant, and `created` increasing with `id` in a thread. The database's triggers count the
messages and copy `updated` to the participants, as for any other writer.
"""

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import BaseCommand, CommandError, call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from chat.models import Message, Participant, Thread

User = get_user_model()

USERNAME_PREFIX = "bench_user_"
PASSWORD = "bench-pass"  # noqa: S105 (benchmark accounts, documented in bench/README.md)
BATCH = 20_000
# Zipf exponents: how unevenly users share threads, and threads share messages.
USER_SKEW = 0.8
THREAD_SKEW = 0.8
# Share of threads whose last burst of messages the recipient has not read yet.
UNREAD_THREAD_SHARE = 0.5
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=365)
RARE_WORD = "zanzibar"
WORDS = [
    "hello",
    "hi",
    "yes",
    "no",
    "maybe",
    "later",
    "today",
    "tomorrow",
    "meeting",
    "lunch",
    "coffee",
    "call",
    "deploy",
    "review",
    "merge",
    "ticket",
    "bug",
    "fix",
    "test",
    "release",
    "thanks",
    "ok",
    "sure",
    "great",
    "see",
    "you",
    "soon",
    "when",
    "where",
    "why",
    "how",
    "what",
    "the",
    "a",
    "an",
    "and",
    "or",
    "but",
    "so",
    "then",
    "now",
    "please",
    "sorry",
    "sounds",
    "good",
    "done",
    "working",
    "on",
    "it",
]


class Progress:
    """A one-line progress bar on stderr (no dependency; quiet when not a terminal)."""

    def __init__(self, label: str, total: int, stream) -> None:
        self.label, self.total, self.stream = label, max(total, 1), stream
        self.done = 0
        self.started = time.monotonic()
        self.live = hasattr(stream, "isatty") and stream.isatty()

    def advance(self, count: int) -> None:
        self.done += count
        if self.live:
            self._draw()

    def _draw(self, end: str = "") -> None:
        share = self.done / self.total
        bar = "#" * int(share * 30)
        elapsed = time.monotonic() - self.started
        self.stream.write(
            f"\r{self.label:<13} [{bar:<30}] {share:6.1%} {self.done:>10,} rows "
            f"{elapsed:5.1f}s{end}"
        )
        self.stream.flush()

    def close(self) -> None:
        self._draw(end="\n")


def zipf_cum_weights(count: int, skew: float) -> list[float]:
    cum, total = [], 0.0
    for rank in range(1, count + 1):
        total += rank**-skew
        cum.append(total)
    return cum


def db_time(value: datetime) -> str:
    """The text Django's SQLite backend stores for an aware datetime (naive UTC, microseconds)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def insert_sql(model, columns: list[str]) -> str:
    names = [model._meta.get_field(name).column for name in columns]
    quoted = ", ".join(connection.ops.quote_name(name) for name in names)
    marks = ", ".join(["%s"] * len(names))
    return (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({quoted}) VALUES ({marks})"  # noqa: S608 (names from model metadata)
    )


class Command(BaseCommand):
    help = (
        "Fill a database with bench_user_<n> users, threads and messages for the benchmark. "
        "Deterministic for a given --seed; refuses a database holding other data unless "
        "--allow-other-data is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=10_000)
        parser.add_argument("--threads", type=int, default=100_000)
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--seed", type=int, default=6, help="Random seed (default 6).")
        parser.add_argument(
            "--db",
            metavar="PATH",
            help="SQLite file to fill (created and migrated if needed) instead of the configured "
            "database; e.g. bench/data/bench-1m.sqlite3.",
        )
        parser.add_argument(
            "--allow-other-data",
            action="store_true",
            help="Seed even though the database holds users that are not bench users.",
        )

    def handle(self, *args, users, threads, messages, seed, db, allow_other_data, **options):
        if users < 2 or threads < 1 or messages < threads:
            raise CommandError("Need --users >= 2, --threads >= 1 and --messages >= --threads.")
        if threads > users * (users - 1) // 2:
            raise CommandError(f"{users} users can have at most {users * (users - 1) // 2} pairs.")
        if db:
            self._use_database(Path(db), verbosity=options["verbosity"])
        if self._already_seeded(users, threads, messages, allow_other_data):
            return
        started = time.monotonic()
        plan = SeedPlan(users=users, threads=threads, messages=messages, seed=seed)
        self._write(plan)
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {users:,} users, {threads:,} threads, {messages:,} messages "
                f"({plan.unread_total:,} unread) in {time.monotonic() - started:.1f}s. "
                f"Log in as bench_user_1 .. bench_user_{users} with password {PASSWORD}."
            )
        )

    def _use_database(self, path: Path, *, verbosity: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection.close()
        connection.settings_dict["NAME"] = str(path)
        call_command("migrate", verbosity=max(verbosity - 1, 0), interactive=False)

    def _already_seeded(self, users, threads, messages, allow_other_data) -> bool:
        """True when the very same data set is there; CommandError when it is not ours to fill."""
        bench_users = User.objects.filter(username__startswith=USERNAME_PREFIX).count()
        other_users = User.objects.exclude(username__startswith=USERNAME_PREFIX).count()
        if other_users and not allow_other_data:
            raise CommandError(
                f"The database has {other_users} users that are not bench users; seed a "
                "separate file with --db PATH, or pass --allow-other-data to add to it anyway."
            )
        if not bench_users:
            return False
        sizes = (bench_users, Thread.objects.count(), Message.objects.count())
        if not other_users and sizes == (users, threads, messages):
            self.stdout.write(f"Bench data already there ({messages:,} messages); reusing it.")
            return True
        raise CommandError(
            f"The database already has bench data of another size (users, threads, messages = "
            f"{sizes}); delete that file or seed another with --db PATH."
        )

    def _write(self, plan: "SeedPlan") -> None:
        user_base = User.objects.aggregate(top=Max("pk"))["top"] or 0
        thread_base = Thread.objects.aggregate(top=Max("pk"))["top"] or 0
        participant_base = Participant.objects.aggregate(top=Max("pk"))["top"] or 0
        message_base = Message.objects.aggregate(top=Max("pk"))["top"] or 0
        joined = db_time(START - timedelta(days=30))
        password = make_password(PASSWORD)
        user_rows = (
            (
                user_base + n,
                password,
                f"{USERNAME_PREFIX}{n}",
                "",
                "",
                "",
                False,
                False,
                True,
                joined,
            )
            for n in range(1, plan.users + 1)
        )
        thread_rows = (
            (thread_base + t + 1, low + user_base, high + user_base, created, updated)
            for t, ((low, high), created, updated) in enumerate(
                zip(plan.pairs, plan.thread_created, plan.thread_updated, strict=True)
            )
        )
        participant_rows = (
            (
                participant_base + 2 * t + position + 1,
                thread_base + t + 1,
                user + user_base,
                position,
                updated,
            )
            for t, (pair, updated) in enumerate(zip(plan.pairs, plan.thread_updated, strict=True))
            for position, user in enumerate(pair)
        )
        message_rows = (
            (message_base + m + 1, thread_base + t + 1, sender + user_base,
             recipient + user_base, text, created, is_read, "")
            for m, (t, sender, recipient, text, created, is_read) in enumerate(plan.message_rows())
        )  # fmt: skip
        tables = [
            (User, ["id", "password", "username", "first_name", "last_name", "email",
                    "is_superuser", "is_staff", "is_active", "date_joined"],
             user_rows, plan.users),
            (Thread, ["id", "user_low", "user_high", "created", "updated"],
             thread_rows, plan.threads),
            (Participant, ["id", "thread", "user", "position", "thread_updated"],
             participant_rows, 2 * plan.threads),
            (Message, ["id", "thread", "sender", "recipient", "text", "created", "is_read",
                       "idempotency_key"],
             message_rows, plan.messages),
        ]  # fmt: skip
        standalone = not connection.in_atomic_block
        with connection.cursor() as cursor:
            if standalone and connection.vendor == "sqlite":
                # A throwaway bench file: trade crash safety for speed while filling it.
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA cache_size=-1000000")
            for model, columns, rows, total in tables:
                self._insert(cursor, model, columns, rows, total)
            # The ids were given explicitly: PostgreSQL's sequences must move past them.
            models = [model for model, *_ in tables]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)

    def _insert(self, cursor, model, columns, rows, total) -> None:
        sql = insert_sql(model, columns)
        progress = Progress(model._meta.verbose_name_plural, total, sys.stderr)
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                with transaction.atomic():
                    cursor.executemany(sql, batch)
                progress.advance(len(batch))
                batch = []
        if batch:
            with transaction.atomic():
                cursor.executemany(sql, batch)
            progress.advance(len(batch))
        progress.close()


class SeedPlan:
    """Who talks to whom and when, drawn from one seeded random generator.

    Users and threads are numbered from 1 and 0 here; the command adds the id offsets.
    """

    def __init__(self, *, users: int, threads: int, messages: int, seed: int) -> None:
        self.users, self.threads, self.messages = users, threads, messages
        rng = random.Random(seed)  # noqa: S311 (reproducible data, not secrets)
        self.pairs = self._pairs(rng)
        # Every thread gets one message, the rest go to threads by a Zipf draw over a shuffled
        # ranking in which thread 0 (bench_user_1 with bench_user_2) is the busiest.
        ranking = list(range(1, threads))
        rng.shuffle(ranking)
        ranking.insert(0, 0)
        drawn = rng.choices(ranking, cum_weights=zipf_cum_weights(threads, THREAD_SKEW),
                            k=messages - threads)  # fmt: skip
        self.message_threads = list(range(threads)) + drawn
        rng.shuffle(self.message_threads)
        self.texts = [" ".join(rng.choices(WORDS, k=rng.randint(1, 12))) for _ in range(4096)]
        # One text in 4,096 also carries a word found nowhere else: search's rare case (some 250
        # messages of a million).
        self.texts[0] += f" {RARE_WORD}"
        self._times_and_senders(rng)

    def _pairs(self, rng: random.Random) -> list[tuple[int, int]]:
        pairs = [(1, 2)]
        seen = set(pairs)
        cum_weights = zipf_cum_weights(self.users, USER_SKEW)
        population = range(1, self.users + 1)
        while len(pairs) < self.threads:
            draws = iter(rng.choices(population, cum_weights=cum_weights, k=2048))
            for a, b in zip(draws, draws, strict=True):
                pair = (a, b) if a < b else (b, a)
                if a != b and pair not in seen and len(pairs) < self.threads:
                    seen.add(pair)
                    pairs.append(pair)
        return pairs

    def _times_and_senders(self, rng: random.Random) -> None:
        step = SPAN / self.messages
        step_us = max(int(step.total_seconds() * 1_000_000), 2)
        self.message_created = []
        self.message_sender = []
        first_time: dict[int, str] = {}
        last_time: dict[int, str] = {}
        last_sender: dict[int, int] = {}
        burst: dict[int, list[int]] = {}
        # Messages come in bursts: the next one is from the same sender 60% of the time.
        for m, t in enumerate(self.message_threads):
            moment = START + timedelta(microseconds=m * step_us + rng.randrange(1, step_us))
            created = db_time(moment)
            self.message_created.append(created)
            low, high = self.pairs[t]
            previous = last_sender.get(t)
            if previous is None:
                sender = rng.choice((low, high))
            else:
                sender = previous if rng.random() < 0.6 else (low if previous == high else high)
            self.message_sender.append(sender)
            if sender != previous:
                burst[t] = []
            burst[t].append(m)
            last_sender[t] = sender
            if t not in first_time:
                first_time[t] = db_time(moment - timedelta(seconds=rng.randrange(1, 3600)))
            last_time[t] = created
        self.thread_created = [first_time[t] for t in range(self.threads)]
        self.thread_updated = [last_time[t] for t in range(self.threads)]
        # The recipient has read everything before the last burst (replying means reading);
        # in a share of threads they have not opened that last burst yet.
        self.unread = set()
        for t in range(self.threads):
            if rng.random() < UNREAD_THREAD_SHARE:
                self.unread.update(burst[t])
        self.unread_total = len(self.unread)

    def message_rows(self):
        texts, unread = self.texts, self.unread
        for m, t in enumerate(self.message_threads):
            low, high = self.pairs[t]
            sender = self.message_sender[m]
            recipient = high if sender == low else low
            yield t, sender, recipient, texts[m % 4096], self.message_created[m], m not in unread
