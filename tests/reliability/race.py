"""Real threads against a real database: create-or-get from both sides at once, 16 writers on
shared and separate threads with retried idempotent sends, mark-read racing the writers, one
idempotency key sent from 8 threads at once, and deletes racing sends. Prints the figures as
JSON; exits 1 if any error or loss was seen.

    SQLITE_PATH=/tmp/race.sqlite3 python -m tests.reliability.race --writers 16 --messages 50
    RACE_DB=postgres RACE_PG_NAME=chat_race python -m tests.reliability.race

Writers and readers go through the HTTP stack (Django's test client, one per thread, each with
its own database connection), so a 500 from any layer counts as an error.
"""

import argparse
import json
import os
import sys
import threading
from collections import Counter, defaultdict

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.reliability.race_settings")
# No rate limit gets in the way of the load (the limits have tests of their own).
for scope in ("LOGIN", "REGISTER", "REFRESH", "SEND"):
    os.environ.setdefault(f"THROTTLE_{scope}", "1000000/min")

import django  # noqa: E402


def prepare_database() -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql"):
        import psycopg

        admin = psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            dbname="postgres",
            autocommit=True,
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database["NAME"]}"')
        admin.close()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Tally:
    """Requests tried and every unexpected outcome, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.errors = []

    def check(self, response, expected, what):
        with self.lock:
            self.requests += 1
            if response.status_code not in expected:
                self.errors.append(f"{what}: {response.status_code} {response.content[:200]!r}")
        return response


def run_threads(targets) -> None:
    from django.db import connections

    failures = []

    def wrap(target):
        def run():
            try:
                target()
            except Exception as error:  # any crash in a worker is a failure of the run
                failures.append(repr(error))
            finally:
                connections.close_all()

        return run

    threads = [threading.Thread(target=wrap(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures)


def client_for(user):
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    return Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")


def race_create_or_get(tally, pairs: int) -> dict:
    """Both users of each pair create their thread at the same moment."""
    from django.contrib.auth import get_user_model

    from chat.models import Thread

    User = get_user_model()
    users = [User.objects.create_user(f"pair{n}", password="x") for n in range(2 * pairs)]
    barrier = threading.Barrier(2 * pairs)
    results = defaultdict(list)

    def create(me, other):
        def run():
            client = client_for(me)
            barrier.wait()
            response = tally.check(
                client.post(
                    "/api/threads/", {"participants": [other.pk]}, content_type="application/json"
                ),
                {200, 201},
                "create-or-get",
            )
            results[frozenset((me.pk, other.pk))].append(
                (response.status_code, response.json().get("id"))
            )

        return run

    targets = []
    for n in range(pairs):
        low, high = users[2 * n], users[2 * n + 1]
        targets += [create(low, high), create(high, low)]
    run_threads(targets)
    problems = []
    for pair, answers in results.items():
        ids = {thread_id for _, thread_id in answers}
        stored = Thread.objects.filter(user_low__in=pair, user_high__in=pair).count()
        created = sorted(status for status, _ in answers)
        if len(ids) != 1 or stored != 1 or created != [200, 201]:
            problems.append({"pair": sorted(pair), "answers": answers, "stored": stored})
    return {"pairs": pairs, "requests": 2 * pairs, "problems": problems}


def race_writers_and_readers(tally, writers: int, per_writer: int, shared_threads: int) -> dict:
    """`writers` threads post `per_writer` messages each, spread over `shared_threads` threads
    (several writers per thread, from both sides); every send is retried once with its key, as
    after a lost response. Meanwhile each participant keeps marking their threads read."""
    from django.contrib.auth import get_user_model

    from chat import services
    from chat.models import Message

    User = get_user_model()
    people = [
        User.objects.create_user(f"writer{n}", password="x") for n in range(2 * shared_threads)
    ]
    threads = [
        services.thread_get_or_create(user=people[2 * n], other=people[2 * n + 1])[0]
        for n in range(shared_threads)
    ]
    sent = {}  # message id -> (thread id, sender id, text)
    retries_matched = Counter()
    writing = threading.Event()
    writing.set()
    marked = Counter()  # user id -> messages reported marked by POST .../read/

    def writer(w):
        thread = threads[w % shared_threads]
        sender = people[2 * (w % shared_threads) + (w // shared_threads) % 2]

        def run():
            client = client_for(sender)
            url = f"/api/threads/{thread.pk}/messages/"
            for n in range(per_writer):
                text = f"writer {w} message {n}"
                key = f"w{w}-m{n}"
                first = tally.check(
                    client.post(
                        url,
                        {"text": text},
                        content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=key,
                    ),
                    {201},
                    "send",
                )
                retry = tally.check(
                    client.post(
                        url,
                        {"text": text},
                        content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=key,
                    ),
                    {200},
                    "send retry",
                )
                if first.status_code == 201:
                    sent[first.json()["id"]] = (thread.pk, sender.pk, text)
                    if retry.status_code == 200 and retry.json()["id"] == first.json()["id"]:
                        with tally.lock:
                            retries_matched[w] += 1

        return run

    def reader(user, thread):
        def run():
            client = client_for(user)
            url = f"/api/threads/{thread.pk}/read/"
            while True:
                done = not writing.is_set()
                response = tally.check(client.post(url), {200}, "mark read")
                if response.status_code == 200:
                    with tally.lock:
                        marked[user.pk] += response.json()["marked"]
                if done:
                    return

        return run

    readers = [reader(user, thread) for thread in threads for user in thread.pair]
    write_targets = [writer(w) for w in range(writers)]

    def writers_then_stop():
        run_threads(write_targets)
        writing.clear()

    run_threads([writers_then_stop, *readers])

    stored = list(Message.objects.values_list("id", "thread_id", "sender_id", "text"))
    stored_texts = Counter(text for _, _, _, text in stored)
    lost = [mid for mid in sent if not Message.objects.filter(pk=mid).exists()]
    duplicates = [text for text, count in stored_texts.items() if count > 1]
    mismatched = [
        mid
        for mid, thread_id, sender_id, text in stored
        if sent.get(mid) != (thread_id, sender_id, text)
    ]
    to_user = Counter()
    for _, thread_id, sender_id, _ in stored:
        thread = next(t for t in threads if t.pk == thread_id)
        to_user[thread.other_participant_id(sender_id)] += 1
    unread_after = {}
    for user in people:
        count = client_for(user).get("/api/messages/unread-count/").json()["unread_count"]
        unread_after[user.pk] = count
    marking = [
        {"user": user.pk, "to_user": to_user[user.pk], "marked": marked[user.pk]}
        for user in people
        if marked[user.pk] != to_user[user.pk] or unread_after[user.pk] != 0
    ]
    return {
        "writers": writers,
        "sends": writers * per_writer,
        "stored": len(stored),
        "lost": len(lost),
        "duplicates": len(duplicates),
        "mismatched": len(mismatched),
        "retries_returning_the_first_message": sum(retries_matched.values()),
        "mark_read_mismatches": marking,
    }


def race_same_key(tally, rounds: int, senders: int) -> dict:
    """The same send (same Idempotency-Key) from `senders` threads at once, as a client retrying
    while its first attempt is still in flight: one 201, the rest 200 with that message."""
    from django.contrib.auth import get_user_model

    from chat import services
    from chat.models import Message

    User = get_user_model()
    a = User.objects.create_user("retrier-a", password="x")
    b = User.objects.create_user("retrier-b", password="x")
    thread, _ = services.thread_get_or_create(user=a, other=b)
    problems = []
    for round_number in range(rounds):
        barrier = threading.Barrier(senders)
        answers = []

        def send(round_number=round_number, barrier=barrier, answers=answers):
            client = client_for(a)
            barrier.wait()
            response = tally.check(
                client.post(
                    f"/api/threads/{thread.pk}/messages/",
                    {"text": f"retried {round_number}"},
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"same-{round_number}",
                ),
                {200, 201},
                "same key at once",
            )
            answers.append((response.status_code, response.json().get("id")))

        run_threads([send] * senders)
        stored = Message.objects.filter(thread=thread, text=f"retried {round_number}").count()
        statuses = sorted(status for status, _ in answers)
        if (
            stored != 1
            or len({mid for _, mid in answers}) != 1
            or statuses != [200] * (senders - 1) + [201]
        ):
            problems.append({"round": round_number, "answers": answers, "stored": stored})
    return {"rounds": rounds, "senders": senders, "problems": problems}


def race_delete_and_send(tally, rounds: int, senders: int) -> dict:
    """A thread is deleted while its participants post to it: each send is a 201 or a 404."""
    from django.contrib.auth import get_user_model

    from chat import services
    from chat.models import Message, Participant, Thread

    User = get_user_model()
    a = User.objects.create_user("deleter-a", password="x")
    b = User.objects.create_user("deleter-b", password="x")
    statuses = Counter()
    for _ in range(rounds):
        thread, _ = services.thread_get_or_create(user=a, other=b)
        barrier = threading.Barrier(senders + 1)

        def send(user, n, thread=thread, barrier=barrier):
            def run():
                client = client_for(user)
                barrier.wait()
                for m in range(3):
                    response = tally.check(
                        client.post(
                            f"/api/threads/{thread.pk}/messages/",
                            {"text": f"{n}-{m}"},
                            content_type="application/json",
                        ),
                        {201, 404},
                        "send while deleting",
                    )
                    with tally.lock:
                        statuses[response.status_code] += 1

            return run

        def delete(thread=thread, barrier=barrier):
            client = client_for(a)
            barrier.wait()
            response = tally.check(
                client.delete(f"/api/threads/{thread.pk}/"), {204}, "delete while sending"
            )
            with tally.lock:
                statuses[response.status_code] += 1

        run_threads([delete, *[send((a, b)[n % 2], n) for n in range(senders)]])
    orphans = Message.objects.filter(thread__isnull=True).count()
    orphans += Message.objects.exclude(thread__in=Thread.objects.all()).count()
    leftover = Thread.objects.filter(user_low__in=[a, b]).count()
    seats = Participant.objects.filter(user__in=[a, b]).count()
    return {
        "rounds": rounds,
        "statuses": dict(statuses),
        "orphan_messages": orphans,
        "threads_left": leftover,
        "participant_rows_left": seats,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--messages", type=int, default=10, help="per writer")
    parser.add_argument("--threads", type=int, default=4, help="threads the writers share")
    parser.add_argument("--pairs", type=int, default=8, help="create-or-get races")
    parser.add_argument("--delete-rounds", type=int, default=5)
    args = parser.parse_args(argv)

    django.setup()
    prepare_database()
    from django.db import connection

    tally = Tally()
    report = {"database": connection.vendor}
    report["create_or_get"] = race_create_or_get(tally, args.pairs)
    report["writers"] = race_writers_and_readers(tally, args.writers, args.messages, args.threads)
    report["same_key"] = race_same_key(tally, args.delete_rounds, senders=8)
    report["delete"] = race_delete_and_send(tally, args.delete_rounds, senders=4)
    report["requests"] = tally.requests
    report["errors"] = tally.errors
    print(json.dumps(report, indent=2))
    writers = report["writers"]
    failed = (
        tally.errors
        or report["create_or_get"]["problems"]
        or report["same_key"]["problems"]
        or writers["lost"]
        or writers["duplicates"]
        or writers["mismatched"]
        or writers["stored"] != writers["sends"]
        or writers["retries_returning_the_first_message"] != writers["sends"]
        or writers["mark_read_mismatches"]
        or report["delete"]["orphan_messages"]
        or report["delete"]["threads_left"]
        or report["delete"]["participant_rows_left"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
