"""The WebSocket rows of the access table, and the JWTs the socket must refuse.

Each role opens `/ws/chat/` while alice and bob talk (send, read, delete). The participants get
every event; the outsider and staff get nothing, and asking about the thread (a typing frame)
answers them exactly as for a thread that does not exist. Bad tokens never get an open socket.
"""

from datetime import timedelta

import jwt
import pytest
from channels.db import database_sync_to_async as db_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from chat import services
from chat.tests.factories import UserFactory
from config.asgi import application
from config.tests.bad_tokens import b64

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
SECRET_TEXT = "the launch code is 0000"
NO_SUCH_THREAD = 999_999


@pytest.fixture(autouse=True)
async def _empty_layer():
    # Nothing left over from earlier tests can reach these sockets, and nothing from these later.
    await get_channel_layer().flush()
    yield
    await get_channel_layer().flush()


@pytest.fixture
async def world():
    def build():
        users = {
            "alice": UserFactory(username="alice"),
            "bob": UserFactory(username="bob"),
            "outsider": UserFactory(username="mallory"),
            "staff": UserFactory(username="operator", is_staff=True, is_superuser=True),
        }
        thread, _ = services.thread_get_or_create(user=users["alice"], other=users["bob"])
        return users, thread

    return await db_async(build)()


async def open_socket(token):
    path = "/ws/chat/" + (f"?token={token}" if token is not None else "")
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect()
    return communicator, connected


async def assert_refused(communicator, connected):
    """Refused: the handshake fails, or the socket closes with 4401 before any event."""
    if connected:
        output = await communicator.receive_output(timeout=10)
        assert output == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def typing_answer(communicator, thread_id):
    await communicator.send_json_to({"type": "typing", "thread": thread_id})
    return await communicator.receive_json_from(timeout=10)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", "refused"),
        ("outsider", "nothing"),
        ("staff", "nothing"),
        ("bob", "every event"),
        ("alice", "every event"),
    ],
)
async def test_socket_access(world, role, expected):
    users, thread = world
    token = str(AccessToken.for_user(users[role])) if role != "anonymous" else None
    socket, connected = await open_socket(token)
    if expected == "refused":
        await assert_refused(socket, connected)
        return
    assert connected
    thread_id = thread.pk

    def conversation():
        message, _ = services.message_send(thread=thread, sender=users["alice"], text=SECRET_TEXT)
        services.thread_mark_read(thread=thread, user=users["bob"])
        services.thread_delete(thread=thread)
        return message

    message = await db_async(conversation)()

    if expected == "every event":
        frames = [await socket.receive_json_from(timeout=10) for _ in range(3)]
        assert [frame["type"] for frame in frames] == [
            "message.created",
            "message.read",
            "thread.deleted",
        ]
        assert frames[0]["message"]["text"] == SECRET_TEXT
        assert frames[1]["message_ids"] == [message.pk]
        assert frames[2]["thread"] == thread_id
    else:
        assert await socket.receive_nothing(timeout=0.5)
        # The thread existed a moment ago; its id gets the same answer as one that never did.
        assert await typing_answer(socket, thread_id) == await typing_answer(socket, NO_SUCH_THREAD)
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=10) == {"type": "pong"}
    await socket.disconnect()


async def test_outsider_typing_into_a_live_thread_reveals_nothing(world):
    users, thread = world
    outsider, connected = await open_socket(str(AccessToken.for_user(users["outsider"])))
    bob, bob_connected = await open_socket(str(AccessToken.for_user(users["bob"])))
    assert connected
    assert bob_connected
    answer = await typing_answer(outsider, thread.pk)
    assert answer == await typing_answer(outsider, NO_SUCH_THREAD)
    assert answer["type"] == "error"
    assert await bob.receive_nothing(timeout=0.5)
    await outsider.disconnect()
    await bob.disconnect()


def claims_of(user) -> dict:
    return dict(AccessToken.for_user(user).payload)


def bad_token(kind, user, other):
    signing_key = settings.SIMPLE_JWT["SIGNING_KEY"]
    if kind == "expired":
        token = AccessToken.for_user(user)
        token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))
        return str(token)
    if kind == "tampered payload":
        header, _, signature = str(AccessToken.for_user(user)).split(".")
        return f"{header}.{b64({**claims_of(user), 'user_id': str(other.pk)})}.{signature}"
    if kind == "alg none":
        return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_of(user))}."
    if kind == "another key":
        return jwt.encode(claims_of(user), "another-key-entirely-another-key-1", algorithm="HS256")
    if kind == "HS512":
        return jwt.encode(claims_of(user), signing_key + "-" * 64, algorithm="HS512")
    if kind == "refresh token":
        return str(RefreshToken.for_user(user))
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["expired", "tampered payload", "alg none", "another key", "HS512", "refresh token"]
)
async def test_bad_tokens_never_get_an_open_socket(world, kind):
    users, _ = world
    token = await db_async(bad_token)(kind, users["alice"], users["bob"])
    await assert_refused(*await open_socket(token))


async def test_blacklisted_refresh_token_is_refused_on_the_socket(world):
    users, _ = world
    refresh = await db_async(RefreshToken.for_user)(users["alice"])
    await db_async(refresh.blacklist)()
    await assert_refused(*await open_socket(str(refresh)))


@pytest.mark.parametrize("change", ["deactivated", "deleted"])
async def test_tokens_of_deactivated_or_deleted_users_are_refused(world, change):
    users, _ = world
    alice = users["alice"]
    token = str(AccessToken.for_user(alice))

    def apply():
        if change == "deleted":
            alice.delete()
        else:
            alice.is_active = False
            alice.save(update_fields=["is_active"])

    await db_async(apply)()
    await assert_refused(*await open_socket(token))
