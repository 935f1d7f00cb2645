"""Presence: who is online, counted across every worker process, and the events that say so.

The state lives in the database, one `PresenceSocket` row per open socket, so that every worker
(the uvicorn processes of `make serve`, daphne under `make run`; SQLite or PostgreSQL) sees every
socket with one implementation. A user is online while any of their rows has not expired.

- A socket opens (`socket_open`): its row is inserted, expiring in `PRESENCE_TTL` seconds. If the
  user had no unexpired row before, they came online: `presence` is published on commit.
- A socket closes (`sockets_close`): its row stays, without a worker, until `PRESENCE_GRACE`
  seconds from now. A reconnect within the grace finds the user still online and announces
  nothing: no flapping on a reload or a brief network drop.
- Each process runs one `Keeper`, an asyncio task started with its first socket. Every
  `PRESENCE_REFRESH` seconds it pushes the expiry of all its own rows forward in one UPDATE, and
  it sweeps: `sweep` deletes the expired rows, and each user left with no unexpired row is offline:
  their `Profile.last_seen` becomes the removed rows' latest `seen`, to the minute, and `presence`
  is published. The keeper also sweeps right when the grace of a socket it closed runs out, so
  that "offline" comes `PRESENCE_GRACE` seconds after the last close, not up to a refresh later.
- A process that dies stops refreshing: its rows expire after `PRESENCE_TTL` and another process's
  sweep announces their users offline. A process that cannot write (the database is away for a
  moment) keeps the sockets it could not register or close and retries at its next refresh;
  if it never manages to, nobody refreshes its rows and they expire all the same, so no socket
  stays counted forever.

Exactly once: on PostgreSQL the sweep takes the expired rows `FOR UPDATE SKIP LOCKED`, so with
several processes sweeping each row is deleted by one of them; on SQLite the write lock taken
at `BEGIN IMMEDIATE` serialises sweeps. Whether a user came online or went offline is decided
under a lock of their user row (PostgreSQL; SQLite's write lock again), so that a socket opening
while the user's last row is swept ends in one order or the other, never in "offline" last
while a socket is open.

The events go to the users who share a thread with that user and have a socket open, never
across a block, never for a user who hides their presence (`chat.events.presence_changed`).
Turning `show_presence` off announces the user offline (with `last_seen` null) to everyone who
could see them; turning it on announces what they are now (`visibility_changed`, connected to
accounts' `presence_visibility_changed` signal in `ChatConfig.ready`).
"""

import asyncio
import contextlib
import heapq
import logging
import math
import os
import secrets
import socket
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Profile
from chat import events, queries
from chat.models import PresenceSocket
from chat.queries import PresenceView
from chat.services import publish

logger = logging.getLogger(__name__)

User = get_user_model()

# Rows removed per sweep transaction: a mass disconnect (a worker died with thousands of
# sockets) is swept in bounded steps, each short for the locks it holds.
SWEEP_BATCH = 500
# A sweep at the end of a grace waits this much longer, so that the row has expired by then.
SWEEP_MARGIN_SECONDS = 0.05


def ttl() -> timedelta:
    return timedelta(seconds=settings.PRESENCE_TTL)


def to_the_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def lock_users(user_ids) -> None:
    """Take the users' rows for the rest of the transaction (in id order, so two transactions
    never wait on each other crosswise), so that one user's online and offline decisions happen
    one after the other. SQLite has no row locks: its write lock, taken at BEGIN, does it."""
    if connection.features.has_select_for_update:
        list(User.objects.select_for_update().filter(pk__in=user_ids).order_by("pk").values("pk"))


@transaction.atomic
def socket_open(*, user_id: int, channel_name: str, worker: str) -> None:
    """Count a socket of `user_id`, held by the process `worker`; publishes `presence` (online)
    on commit if it is the user's first. Registering a socket already counted does nothing."""
    now = timezone.now()
    lock_users([user_id])
    was_online = PresenceSocket.objects.filter(user_id=user_id, expires__gt=now).exists()
    try:
        with transaction.atomic():
            PresenceSocket.objects.create(
                channel_name=channel_name,
                user_id=user_id,
                worker=worker,
                seen=now,
                expires=now + ttl(),
            )
    except IntegrityError:
        return  # counted already: a retry that crossed the first attempt
    if not was_online:
        publish(
            events.presence_changed,
            user_id=user_id,
            presence=PresenceView(online=True, last_seen=None),
        )


def sockets_close(*, channel_names: list[str]) -> None:
    """The sockets closed: their rows linger for the grace, held by no process, so that a
    reconnect within it finds the user still online."""
    now = timezone.now()
    PresenceSocket.objects.filter(channel_name__in=channel_names).update(
        worker="",
        seen=now,
        expires=now + timedelta(seconds=settings.PRESENCE_GRACE),
        viewing_thread=None,
    )


def socket_view(*, channel_name: str, thread_id: int | None) -> None:
    """The socket's window now shows `thread_id` while focused (None: nothing): no push of that
    thread's messages to its user meanwhile. A socket whose registration failed has no row, and
    is then not counted as viewing anything: a push too many rather than one missed."""
    PresenceSocket.objects.filter(channel_name=channel_name).update(viewing_thread=thread_id)


@transaction.atomic
def worker_refresh(*, worker: str, sockets: dict[str, int]) -> None:
    """Push forward the expiry of every row of `worker`, whose open sockets are `sockets`
    (channel name: user id), in one UPDATE. Sockets without a row (their registration failed, or
    the process stalled past the TTL and another swept them) are registered again."""
    now = timezone.now()
    refreshed = PresenceSocket.objects.filter(worker=worker).update(seen=now, expires=now + ttl())
    if refreshed >= len(sockets):
        return
    counted = set(
        PresenceSocket.objects.filter(channel_name__in=list(sockets)).values_list(
            "channel_name", flat=True
        )
    )
    for channel_name, user_id in sockets.items():
        if channel_name not in counted:
            socket_open(user_id=user_id, channel_name=channel_name, worker=worker)


def sweep() -> int:
    """Delete every expired row, and announce offline each user left without an unexpired one;
    how many users went offline."""
    offline = 0
    while True:
        gone, more = _sweep_batch()
        offline += gone
        if not more:
            return offline


@transaction.atomic
def _sweep_batch() -> tuple[int, bool]:
    now = timezone.now()
    expired = list(
        PresenceSocket.objects.select_for_update(skip_locked=True)
        .filter(expires__lte=now)
        .order_by("id")
        .values_list("id", "user_id", "seen")[:SWEEP_BATCH]
    )
    if not expired:
        return 0, False
    PresenceSocket.objects.filter(id__in=[row_id for row_id, _, _ in expired]).delete()
    last_seen: dict[int, datetime] = {}
    for _, user_id, seen in expired:
        last_seen[user_id] = max(seen, last_seen.get(user_id, seen))
    lock_users(list(last_seen))
    still_online = set(
        PresenceSocket.objects.filter(user_id__in=list(last_seen), expires__gt=now).values_list(
            "user_id", flat=True
        )
    )
    gone = {
        user_id: to_the_minute(seen)
        for user_id, seen in last_seen.items()
        if user_id not in still_online
    }
    Profile.objects.bulk_create(
        [Profile(user_id=user_id, last_seen=seen) for user_id, seen in gone.items()],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["last_seen"],
    )
    for user_id, seen in gone.items():
        publish(
            events.presence_changed,
            user_id=user_id,
            presence=PresenceView(online=False, last_seen=seen),
        )
    return len(gone), len(expired) == SWEEP_BATCH


def visibility_changed(sender, *, user_id: int, show_presence: bool, **kwargs) -> None:
    """Receiver of accounts' `presence_visibility_changed`: hidden, the user's partners see them
    offline with no `last_seen` (all who could see them, hence `hidden_too`); shown again, what
    they are now."""
    if show_presence:
        events.presence_changed(user_id=user_id, presence=queries.presence_shown(user_id=user_id))
    else:
        events.presence_changed(user_id=user_id, presence=queries.OFFLINE_UNKNOWN, hidden_too=True)


def block_changed(sender, *, user_ids: tuple[int, int], **kwargs) -> None:
    """Receiver of accounts' `block_changed`: each of the two is told the other's presence as
    they may now see it."""
    events.presence_across_block(user_ids=user_ids)


def new_worker_id() -> str:
    """This process, in the rows of its sockets: host and pid, and a random part so that a
    restarted process that gets the same pid does not take up the rows of the dead one."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


class Keeper:
    """The presence work of one process: it registers and closes the process's sockets, keeps
    their rows from expiring, and sweeps. Consumers call `opened` and `closed`; one task of the
    event loop does the rest (module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.worker = new_worker_id()
        # The sockets open in this process (channel name: user id), and those whose close could
        # not be written yet.
        self.sockets: dict[str, int] = {}
        self.unclosed: set[str] = set()
        # Loop times at which the grace of a socket closed here runs out: sweep then.
        self.sweeps_due: list[float] = []
        self.wake = asyncio.Event()
        self.stopping = False
        self.failing = False  # the last round failed: said once, until one works
        self.task: asyncio.Task | None = None

    async def opened(self, *, user_id: int, channel_name: str) -> None:
        if self.task is None:
            self.task = self.loop.create_task(self.run(), name="presence-keeper")
        try:
            await database_sync_to_async(socket_open)(
                user_id=user_id, channel_name=channel_name, worker=self.worker
            )
        except DatabaseError:
            logger.warning("Presence: could not count a socket now; retrying at the next refresh.")
        # Either way: a socket without its row is registered again at the next refresh.
        self.sockets[channel_name] = user_id

    async def closed(self, *, channel_name: str) -> None:
        self.sockets.pop(channel_name, None)
        try:
            await database_sync_to_async(sockets_close)(channel_names=[channel_name])
        except DatabaseError:
            logger.warning(
                "Presence: could not uncount a socket now; retrying at the next refresh."
            )
            self.unclosed.add(channel_name)
        grace = settings.PRESENCE_GRACE + SWEEP_MARGIN_SECONDS
        heapq.heappush(self.sweeps_due, self.loop.time() + grace)
        self.wake.set()

    async def run(self) -> None:
        next_refresh = self.loop.time() + settings.PRESENCE_REFRESH
        while not self.stopping:
            wake_at = min(next_refresh, self.sweeps_due[0] if self.sweeps_due else math.inf)
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), max(0.0, wake_at - self.loop.time()))
            now = self.loop.time()
            refresh = now >= next_refresh
            if refresh:
                next_refresh = now + settings.PRESENCE_REFRESH
            due = bool(self.sweeps_due) and self.sweeps_due[0] <= now
            while self.sweeps_due and self.sweeps_due[0] <= now:
                heapq.heappop(self.sweeps_due)
            if self.stopping or not (refresh or due):
                continue
            try:
                await database_sync_to_async(self.round)(refresh=refresh)
            except Exception:
                # The next round tries again; the task must outlive a database outage. Said once
                # until a round works again, not at every refresh of the outage.
                if not self.failing:
                    logger.exception(
                        "Presence: refresh or sweep failed; retrying at every refresh until one "
                        "works."
                    )
                self.failing = True
                continue
            if self.failing:
                logger.warning("Presence: refresh and sweep work again.")
                self.failing = False

    def round(self, *, refresh: bool) -> None:
        """In the database's thread: the closes that failed, the refresh when due, the sweep."""
        if refresh:
            closing = list(self.unclosed)
            with transaction.atomic():
                if closing:
                    sockets_close(channel_names=closing)
                worker_refresh(worker=self.worker, sockets=dict(self.sockets))
            self.unclosed.difference_update(closing)
        sweep()

    async def stop(self) -> None:
        """End the task once its current round is over (tests; a process that ends just stops)."""
        self.stopping = True
        self.wake.set()
        if self.task is not None:
            await self.task


_keeper: Keeper | None = None


def keeper() -> Keeper:
    """This process's keeper, for the running event loop (a test's new loop gets a new one)."""
    global _keeper
    loop = asyncio.get_running_loop()
    if _keeper is None or _keeper.loop is not loop:
        _keeper = Keeper(loop)
    return _keeper


async def stop_keeper() -> None:
    """Stop this process's keeper, if any (tests, before their database goes away)."""
    global _keeper
    if _keeper is not None and _keeper.loop is asyncio.get_running_loop():
        await _keeper.stop()
    _keeper = None
