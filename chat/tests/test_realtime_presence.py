"""Presence over the whole ASGI stack: sockets open and close through the real consumer, and the
`presence` frames reach the partners' sockets, or do not.

A tiny grace and refresh period (settings) keep the waits short; one process here, so the
keeper of this test's event loop does every refresh and sweep (test_realtime_e2e.py has two
processes and a killed one). Events are published on commit: real transactions.
"""

import asyncio
import logging
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as db_async
from channels.layers import get_channel_layer
from django.db import DatabaseError
from django.utils import timezone

from accounts.models import Block, Profile
from accounts.services import profile_set_show_presence, user_block, user_unblock
from chat import presence, services
from chat.models import PresenceSocket
from chat.tests.factories import UserFactory
from chat.tests.test_realtime_consumer import connect

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 0.5
REFRESH = 0.2
# Long enough for a frame that is coming to arrive, on a busy machine too.
ARRIVES = 3


@pytest.fixture(autouse=True)
async def _quick_presence(settings):
    settings.PRESENCE_GRACE = GRACE
    settings.PRESENCE_REFRESH = REFRESH
    await get_channel_layer().flush()
    yield
    await presence.stop_keeper()
    await get_channel_layer().flush()


@pytest.fixture
async def people():
    """alice and bob share a thread; mallory shares none with either."""
    alice = await db_async(UserFactory)(username="alice")
    bob = await db_async(UserFactory)(username="bob")
    mallory = await db_async(UserFactory)(username="mallory")
    await db_async(services.thread_get_or_create)(user=alice, other=bob)
    return alice, bob, mallory


def online(user) -> dict:
    return {"type": "presence", "user": user.pk, "online": True, "last_seen": None}


def to_the_minute(moment) -> str:
    return moment.replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")


async def open_socket(user):
    communicator, connected, _ = await connect(user)
    assert connected
    return communicator


async def test_a_first_socket_is_announced_to_partners_online_only(people):
    alice, bob, mallory = people
    alice_socket, mallory_socket = await open_socket(alice), await open_socket(mallory)

    bob_socket = await open_socket(bob)

    # Counted before the handshake completed: the frame is on its way once bob's socket is open.
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)
    assert await mallory_socket.receive_nothing()
    assert await bob_socket.receive_nothing()  # nobody hears of themselves
    for communicator in (alice_socket, mallory_socket, bob_socket):
        await communicator.disconnect()


async def test_two_sockets_one_online_and_offline_only_after_the_last_and_the_grace(people):
    alice, bob, _ = people
    alice_socket = await open_socket(alice)
    first, second = await open_socket(bob), await open_socket(bob)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)

    await first.disconnect()
    assert await alice_socket.receive_nothing(timeout=GRACE + 3 * REFRESH)  # one is still open
    await second.disconnect()
    closed_at = timezone.now()
    assert await alice_socket.receive_nothing(timeout=GRACE / 2)  # within the grace: nothing

    offline = await alice_socket.receive_json_from(timeout=ARRIVES)
    assert offline == {
        "type": "presence",
        "user": bob.pk,
        "online": False,
        "last_seen": to_the_minute(closed_at),
    }
    profile = await db_async(Profile.objects.get)(user=bob)
    assert profile.last_seen == closed_at.replace(second=0, microsecond=0)
    assert not await db_async(PresenceSocket.objects.filter(user=bob).exists)()
    assert await alice_socket.receive_nothing(timeout=2 * REFRESH)  # once
    await alice_socket.disconnect()


async def test_a_reconnect_within_the_grace_announces_nothing(people):
    alice, bob, _ = people
    alice_socket = await open_socket(alice)
    bob_socket = await open_socket(bob)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)

    await bob_socket.disconnect()
    bob_socket = await open_socket(bob)  # a page reload

    assert await alice_socket.receive_nothing(timeout=GRACE + 3 * REFRESH)
    await bob_socket.disconnect()
    assert (await alice_socket.receive_json_from(timeout=ARRIVES))["online"] is False
    await alice_socket.disconnect()


@pytest.mark.parametrize("direction", ["alice blocks bob", "bob blocks alice"])
async def test_nothing_crosses_a_block(people, direction):
    alice, bob, _ = people
    blocker, blocked = (alice, bob) if direction == "alice blocks bob" else (bob, alice)
    await db_async(Block.objects.create)(blocker=blocker, blocked=blocked)
    alice_socket = await open_socket(alice)

    bob_socket = await open_socket(bob)
    await bob_socket.disconnect()

    assert await alice_socket.receive_nothing(timeout=GRACE + 3 * REFRESH)
    await alice_socket.disconnect()


async def test_a_block_hides_each_from_the_other_at_once_and_unblocking_shows_them_again(people):
    alice, bob, mallory = people
    alice_socket, bob_socket = await open_socket(alice), await open_socket(bob)
    mallory_socket = await open_socket(mallory)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)
    hidden = {"type": "presence", "online": False, "last_seen": None}

    await db_async(user_block)(user=bob, other=alice)

    # Both sides see the other as someone who hides their presence: nothing tells who blocked.
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == hidden | {"user": bob.pk}
    assert await bob_socket.receive_json_from(timeout=ARRIVES) == hidden | {"user": alice.pk}
    await db_async(user_unblock)(user=bob, other=alice)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)
    assert await bob_socket.receive_json_from(timeout=ARRIVES) == online(alice)
    await db_async(user_unblock)(user=bob, other=alice)  # nothing to unblock: nothing sent
    assert await alice_socket.receive_nothing()
    assert await mallory_socket.receive_nothing()
    for communicator in (alice_socket, bob_socket, mallory_socket):
        await communicator.disconnect()


async def test_nothing_is_sent_for_a_user_who_hides_their_presence(people):
    alice, bob, _ = people
    await db_async(Profile.objects.create)(user=bob, show_presence=False)
    alice_socket = await open_socket(alice)

    bob_socket = await open_socket(bob)
    await bob_socket.disconnect()

    assert await alice_socket.receive_nothing(timeout=GRACE + 3 * REFRESH)
    # The row was counted and swept all the same: their last_seen is kept for when they show it.
    assert (await db_async(Profile.objects.get)(user=bob)).last_seen is not None
    await alice_socket.disconnect()


async def test_hiding_presence_announces_offline_and_showing_it_again_online(people):
    alice, bob, mallory = people
    alice_socket, bob_socket = await open_socket(alice), await open_socket(bob)
    mallory_socket = await open_socket(mallory)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)
    # bob came second: who was online already, he reads from REST (the thread list), not frames.
    assert await bob_socket.receive_nothing()

    await db_async(profile_set_show_presence)(user=bob, show_presence=False)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == {
        "type": "presence",
        "user": bob.pk,
        "online": False,
        "last_seen": None,
    }
    await db_async(profile_set_show_presence)(user=bob, show_presence=False)  # no change
    await db_async(profile_set_show_presence)(user=bob, show_presence=True)
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)

    assert await alice_socket.receive_nothing()
    assert await bob_socket.receive_nothing()
    assert await mallory_socket.receive_nothing()
    for communicator in (alice_socket, bob_socket, mallory_socket):
        await communicator.disconnect()


async def test_the_socket_of_a_process_that_died_expires_and_is_announced(people):
    alice, bob, _ = people
    alice_socket = await open_socket(alice)  # starts this process's keeper
    seen = timezone.now()
    # bob's socket was held by another process, which stopped refreshing it (killed): it
    # expires at its TTL, and this process's next sweep finds it.
    await db_async(PresenceSocket.objects.create)(
        channel_name="elsewhere", user=bob, worker="dead-host-1-0", seen=seen, expires=seen
    )

    offline = await alice_socket.receive_json_from(timeout=ARRIVES)

    assert offline == {
        "type": "presence",
        "user": bob.pk,
        "online": False,
        "last_seen": to_the_minute(seen),
    }
    await alice_socket.disconnect()


async def test_rows_of_this_process_are_refreshed_in_one_update(people, settings):
    alice, _, _ = people
    settings.PRESENCE_TTL = 1
    alice_socket = await open_socket(alice)
    [row] = await db_async(list)(PresenceSocket.objects.filter(user=alice))

    # Three TTLs later the row is still there, its expiry pushed forward by the refreshes.
    assert await alice_socket.receive_nothing(timeout=3 * settings.PRESENCE_TTL)
    [refreshed] = await db_async(list)(PresenceSocket.objects.filter(user=alice))
    assert refreshed.channel_name == row.channel_name
    assert refreshed.expires > row.expires + timedelta(seconds=2)
    assert refreshed.expires > timezone.now()
    await alice_socket.disconnect()


async def test_a_socket_whose_writes_fail_is_counted_later_and_never_forever(people, monkeypatch):
    alice, bob, _ = people
    alice_socket = await open_socket(alice)
    real_open, real_close = presence.socket_open, presence.sockets_close
    failures = {"open": 1, "close": 1}

    def flaky(kind, real):
        def write(**kwargs):
            if failures[kind]:
                failures[kind] -= 1
                raise DatabaseError("the database is away for a moment")
            return real(**kwargs)

        return write

    monkeypatch.setattr(presence, "socket_open", flaky("open", real_open))
    monkeypatch.setattr(presence, "sockets_close", flaky("close", real_close))

    bob_socket = await open_socket(bob)  # its registration fails: the socket works all the same
    await bob_socket.send_json_to({"type": "ping"})
    assert await bob_socket.receive_json_from() == {"type": "pong"}
    # Registered again by the next refresh.
    assert await alice_socket.receive_json_from(timeout=ARRIVES) == online(bob)

    await bob_socket.disconnect()  # its close fails too: retried at the next refresh
    offline = await alice_socket.receive_json_from(timeout=ARRIVES)
    assert offline["online"] is False
    assert not await db_async(PresenceSocket.objects.filter(user=bob).exists)()
    assert failures == {"open": 0, "close": 0}
    await alice_socket.disconnect()


async def test_a_database_outage_is_logged_once_and_its_end_once(people, monkeypatch, caplog):
    alice, _, _ = people
    real_round = presence.Keeper.round
    failures = [3]

    def flaky_round(self, *, refresh):
        if failures[0]:
            failures[0] -= 1
            raise DatabaseError("the database is away for a moment")
        return real_round(self, refresh=refresh)

    monkeypatch.setattr(presence.Keeper, "round", flaky_round)
    with caplog.at_level(logging.WARNING, logger="chat.presence"):
        alice_socket = await open_socket(alice)
        for _ in range(100):  # three failed refreshes, then one that works
            if any("work again" in record.message for record in caplog.records):
                break
            await asyncio.sleep(0.05)

    said = [(r.levelno, r.message) for r in caplog.records if r.name == "chat.presence"]
    assert failures == [0]
    assert [level for level, _ in said] == [logging.ERROR, logging.WARNING]
    assert "work again" in said[1][1]
    await alice_socket.disconnect()
