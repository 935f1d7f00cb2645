"""The WebSocket endpoint through the whole ASGI stack: origin check, JWT auth, consumer, events.

Events go to the thread's two participants and no one else: not an outsider, not staff, and a
typing frame about someone else's thread is answered exactly as for a thread that does not exist.
Events are published on commit, so these tests use real transactions (`transaction=True`).
"""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async as db_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import user_block, user_deactivate
from chat import presence, services
from chat.models import PresenceSocket
from chat.serializers import MessageSerializer
from chat.tests.factories import UserFactory
from config.asgi import application
from config.tests.bad_tokens import BAD_TOKENS, bad_token

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
NO_SUCH_THREAD = 999_999


@pytest.fixture(autouse=True)
async def _empty_layer():
    # Nothing left over from earlier tests can reach these sockets, and nothing from these later.
    await get_channel_layer().flush()
    yield
    await presence.stop_keeper()  # no presence work left running once the database goes
    await get_channel_layer().flush()


def token_for(user, lifetime=None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


async def connect(user=None, *, token=None, headers=(ORIGIN,)):
    if token is None and user is not None:
        token = token_for(user)
    path = "/ws/chat/" + (f"?token={token}" if token is not None else "")
    communicator = WebsocketCommunicator(application, path, headers=list(headers))
    connected, code = await communicator.connect()
    return communicator, connected, code


async def connect_all(users) -> dict:
    """Sockets for `users`, by username, once each has heard of the others who share a thread
    with it coming online (test_realtime_presence.py is about those frames)."""
    sockets = {user.username: (await connect(user))[0] for user in users}
    for communicator in sockets.values():
        while not await communicator.receive_nothing(timeout=0.2):
            assert (await communicator.receive_json_from())["type"] == "presence"
    return sockets


async def assert_refused(communicator, connected, code):
    """Refused: either the handshake failed, or the socket closed with 4401 before any event."""
    if connected:
        assert await communicator.receive_output(timeout=1) == {
            "type": "websocket.close",
            "code": 4401,
        }
    await communicator.disconnect()


@pytest.fixture
async def people():
    alice = await db_async(UserFactory)(username="alice")
    bob = await db_async(UserFactory)(username="bob")
    mallory = await db_async(UserFactory)(username="mallory")
    return alice, bob, mallory


@pytest.fixture
async def chat(people):
    alice, bob, _ = people
    thread, _ = await db_async(services.thread_get_or_create)(user=alice, other=bob)
    return thread


async def test_missing_token_is_closed_with_4401(people):
    await assert_refused(*await connect(None))


async def test_garbage_token_is_closed_with_4401(people):
    await assert_refused(*await connect(token="not-a-jwt"))


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_a_bad_token_never_gets_an_open_socket(people, kind):
    alice, bob, _ = people
    token = await db_async(bad_token)(kind, alice, bob)
    await assert_refused(*await connect(token=token))


@pytest.mark.parametrize("change", ["deactivated", "deleted"])
async def test_tokens_of_deactivated_or_deleted_users_are_closed_with_4401(people, change):
    alice, _, _ = people
    token = token_for(alice)

    def apply():
        if change == "deleted":
            alice.delete()
        else:
            alice.is_active = False
            alice.save(update_fields=["is_active"])

    await db_async(apply)()
    await assert_refused(*await connect(token=token))


async def test_foreign_origin_is_refused(people):
    alice, _, _ = people
    communicator, connected, _ = await connect(alice, headers=[(b"origin", b"http://evil.test")])
    assert not connected
    await communicator.disconnect()


async def test_ping_is_answered_with_pong(people):
    alice, _, _ = people
    communicator, connected, _ = await connect(alice)
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "shout"}',
        "[1, 2]",
        "not json",
        '{"type": "typing"}',
        '{"type": "typing", "thread": "7"}',
        '{"type": "typing", "thread": -1}',
        '{"type": "typing", "thread": true}',
        '{"type": "view"}',
        '{"type": "view", "thread": "7"}',
        '{"type": "view", "thread": 0}',
        '{"type": "view", "thread": 1.5}',
        '{"no": "type"}',
    ],
)
async def test_bad_frames_get_an_error_and_the_socket_stays_open(people, frame):
    alice, _, _ = people
    communicator, _, _ = await connect(alice)
    await communicator.send_to(text_data=frame)
    reply = await communicator.receive_json_from()
    assert reply["type"] == "error"
    assert reply["detail"]
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


async def test_binary_frame_gets_an_error(people):
    alice, _, _ = people
    communicator, _, _ = await connect(alice)
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.disconnect()


async def test_message_created_reaches_both_participants_not_the_outsider(people, chat):
    alice, _bob, _mallory = people
    sockets = await connect_all(people)

    message, _ = await db_async(services.message_send)(thread=chat, sender=alice, text="hi")

    expected_message = MessageSerializer(message).data
    for_alice = await sockets["alice"].receive_json_from()
    for_bob = await sockets["bob"].receive_json_from()
    created = {"type": "message.created", "message": expected_message}
    assert for_alice == {**created, "unread_count": 0, "thread_unread_count": 0}
    assert for_bob == {**created, "unread_count": 1, "thread_unread_count": 1}
    assert await sockets["mallory"].receive_nothing()
    for communicator in sockets.values():
        await communicator.disconnect()


async def test_message_created_frame_equals_the_rest_representation(people, chat, client_for):
    alice, bob, _ = people
    bob_socket, _, _ = await connect(bob)
    await db_async(services.message_send)(thread=chat, sender=alice, text="same shape")
    frame = await bob_socket.receive_json_from()
    listed = await db_async(
        lambda: client_for(bob).get(f"/api/threads/{chat.pk}/messages/").json()
    )()
    assert frame["message"] == listed["results"][0]
    await bob_socket.disconnect()


async def test_thread_read_tells_both_with_each_ones_unread_count(people, chat):
    alice, bob, _mallory = people
    first, _ = await db_async(services.message_send)(thread=chat, sender=alice, text="1")
    second, _ = await db_async(services.message_send)(thread=chat, sender=alice, text="2")
    sockets = await connect_all(people)

    await db_async(services.thread_mark_read)(thread=chat, user=bob)

    base = {"type": "message.read", "thread": chat.pk, "message_ids": [first.pk, second.pk]}
    unread = {"unread_count": 0, "thread_unread_count": 0}
    assert await sockets["alice"].receive_json_from() == {**base, **unread}
    assert await sockets["bob"].receive_json_from() == {**base, **unread}
    assert await sockets["mallory"].receive_nothing()
    for communicator in sockets.values():
        await communicator.disconnect()


async def test_single_read_sends_one_event_and_repeating_sends_none(people, chat):
    alice, bob, _ = people
    first, _ = await db_async(services.message_send)(thread=chat, sender=alice, text="1")
    await db_async(services.message_send)(thread=chat, sender=alice, text="2")
    alice_socket, _, _ = await connect(alice)

    await db_async(services.message_mark_read)(message=first, user=bob)
    assert await alice_socket.receive_json_from() == {
        "type": "message.read",
        "thread": chat.pk,
        "message_ids": [first.pk],
        "unread_count": 0,
        "thread_unread_count": 0,
    }
    await db_async(services.message_mark_read)(message=first, user=bob)
    assert await alice_socket.receive_nothing()
    await alice_socket.disconnect()


async def test_thread_created_and_deleted_reach_both_not_the_outsider(people):
    alice, bob, _mallory = people
    sockets = await connect_all(people)

    thread, created = await db_async(services.thread_get_or_create)(user=alice, other=bob)
    assert created
    for name in ("alice", "bob"):
        frame = await sockets[name].receive_json_from()
        assert frame["type"] == "thread.created"
        assert frame["thread"]["id"] == thread.pk
        assert [p["username"] for p in frame["thread"]["participants"]] == ["alice", "bob"]
        assert frame["thread"]["unread_count"] == 0
        assert frame["thread"]["last_message"] is None

    await db_async(services.thread_get_or_create)(user=bob, other=alice)  # exists: no event
    thread_id = thread.pk
    await db_async(services.thread_delete)(thread=thread)
    for name in ("alice", "bob"):
        assert await sockets[name].receive_json_from() == {
            "type": "thread.deleted",
            "thread": thread_id,
            "unread_count": 0,
        }
    assert await sockets["mallory"].receive_nothing()
    for communicator in sockets.values():
        await communicator.disconnect()


async def test_typing_goes_to_the_other_participant_only(people, chat):
    alice, _bob, _mallory = people
    sockets = await connect_all(people)

    await sockets["alice"].send_json_to({"type": "typing", "thread": chat.pk})

    assert await sockets["bob"].receive_json_from() == {
        "type": "typing",
        "thread": chat.pk,
        "user": alice.pk,
    }
    assert await sockets["alice"].receive_nothing()
    assert await sockets["mallory"].receive_nothing()
    for communicator in sockets.values():
        await communicator.disconnect()


async def test_staff_hear_no_event_of_others_threads(people, chat):
    # Staff may list anyone's threads over REST (`?user=`); live events still go to the two only.
    alice, bob, _ = people
    operator = await db_async(UserFactory)(username="operator", is_staff=True, is_superuser=True)
    socket, connected, _ = await connect(operator)
    assert connected
    bob_socket, _, _ = await connect(bob)

    def conversation():
        message, _ = services.message_send(thread=chat, sender=alice, text="for bob only")
        services.thread_mark_read(thread=chat, user=bob)
        services.message_mark_unread(message=message, user=bob)
        services.message_edit(message=message, user=alice, text="edited")
        services.message_delete_for_everyone(message=message, user=alice)
        services.thread_clear(thread=chat, user=bob)
        services.thread_delete(thread=chat)

    await db_async(conversation)()

    # The control: every kind of event the conversation made reached a participant.
    heard_by_bob = [(await bob_socket.receive_json_from())["type"] for _ in range(7)]
    assert heard_by_bob == [
        "message.created",
        "message.read",
        "message.unread",
        "message.updated",
        "message.deleted",
        "thread.cleared",
        "thread.deleted",
    ]
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.parametrize("role", ["outsider", "staff"])
async def test_typing_in_someone_elses_thread_is_answered_as_for_none_and_relays_nothing(
    people, chat, role
):
    _alice, bob, mallory = people
    if role == "staff":
        caller = await db_async(UserFactory)(username="operator", is_staff=True, is_superuser=True)
    else:
        caller = mallory
    bob_socket, _, _ = await connect(bob)
    socket, _, _ = await connect(caller)

    await socket.send_json_to({"type": "typing", "thread": chat.pk})
    answer = await socket.receive_json_from()
    await socket.send_json_to({"type": "typing", "thread": NO_SUCH_THREAD})

    assert answer == {"type": "error", "detail": "No thread found."}
    assert await socket.receive_json_from() == answer
    assert await bob_socket.receive_nothing()
    await bob_socket.disconnect()
    await socket.disconnect()


async def test_socket_closes_when_its_token_expires(people, chat):
    alice, bob, _ = people
    bob_socket, connected, _ = await connect(token=token_for(bob, lifetime=timedelta(seconds=2)))
    assert connected
    await bob_socket.send_json_to({"type": "ping"})
    assert await bob_socket.receive_json_from() == {"type": "pong"}
    # Past expiry, the next event closes the socket instead of being delivered.
    await asyncio.sleep(2.1)
    await db_async(services.message_send)(thread=chat, sender=alice, text="late")
    assert await bob_socket.receive_output(timeout=1) == {"type": "websocket.close", "code": 4401}


async def test_unknown_socket_path_is_refused(people):
    alice, _, _ = people
    communicator = WebsocketCommunicator(
        application, f"/ws/other/?token={token_for(alice)}", headers=[ORIGIN]
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


@pytest.mark.parametrize("blocker", ["alice", "bob"])
async def test_typing_is_not_relayed_across_a_block_and_the_typist_is_not_told(
    people, chat, blocker
):
    alice, bob, _ = people
    users = {"alice": alice, "bob": bob}
    await db_async(user_block)(
        user=users[blocker], other=users["bob" if blocker == "alice" else "alice"]
    )
    alice_socket, _, _ = await connect(alice)
    bob_socket, _, _ = await connect(bob)

    await alice_socket.send_json_to({"type": "typing", "thread": chat.pk})
    await alice_socket.send_json_to({"type": "ping"})

    # The next frame alice gets is the pong: no error about the block.
    assert await alice_socket.receive_json_from() == {"type": "pong"}
    assert await bob_socket.receive_nothing()
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.parametrize("how", ["service", "admin-style save"])
async def test_deactivating_an_account_closes_its_sockets_only(people, chat, how):
    alice, bob, _ = people
    alice_socket, _, _ = await connect(alice)  # first: bob's sockets hear of nobody coming online
    first, _, _ = await connect(bob)
    second, _, _ = await connect(bob)
    assert (await alice_socket.receive_json_from())["type"] == "presence"  # bob came online

    if how == "service":
        await db_async(user_deactivate)(user=bob)
    else:

        def untick_active():
            user = get_user_model().objects.get(pk=bob.pk)
            user.is_active = False
            user.save()

        await db_async(untick_active)()

    for socket in (first, second):
        assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await alice_socket.send_json_to({"type": "ping"})
    assert await alice_socket.receive_json_from() == {"type": "pong"}
    await alice_socket.disconnect()


async def viewing(user) -> list:
    """What the rows of `user`'s sockets say they show."""
    return await db_async(
        lambda: list(
            PresenceSocket.objects.filter(user=user).values_list("viewing_thread", flat=True)
        )
    )()


async def test_view_records_the_thread_on_screen_until_null_or_close(people, chat):
    alice, _, _ = people
    socket, _, _ = await connect(alice)
    other, _, _ = await connect(alice)
    await socket.send_json_to({"type": "view", "thread": chat.pk})
    await socket.send_json_to({"type": "ping"})  # frames are handled in order
    assert await socket.receive_json_from() == {"type": "pong"}
    assert sorted(await viewing(alice), key=str) == [chat.pk, None]
    await socket.send_json_to({"type": "view", "thread": None})
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    assert await viewing(alice) == [None, None]
    await socket.send_json_to({"type": "view", "thread": chat.pk})
    await socket.send_json_to({"type": "ping"})
    await socket.receive_json_from()
    await socket.disconnect()
    # Closed, the socket keeps its row through the presence grace, showing nothing.
    assert await viewing(alice) == [None, None]
    await other.disconnect()


@pytest.mark.parametrize("role", ["outsider", "staff"])
async def test_viewing_someone_elses_thread_is_answered_as_for_none_and_recorded_nowhere(
    people, chat, role
):
    _alice, _bob, mallory = people
    if role == "staff":
        caller = await db_async(UserFactory)(username="operator", is_staff=True, is_superuser=True)
    else:
        caller = mallory
    socket, _, _ = await connect(caller)
    await socket.send_json_to({"type": "view", "thread": chat.pk})
    answer = await socket.receive_json_from()
    await socket.send_json_to({"type": "view", "thread": NO_SUCH_THREAD})
    assert answer == {"type": "error", "detail": "No thread found."}
    assert await socket.receive_json_from() == answer
    assert await viewing(caller) == [None]
    await socket.disconnect()
