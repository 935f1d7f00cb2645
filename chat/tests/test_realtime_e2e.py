"""End to end across processes: two servers share PostgreSQL and Redis, and a message posted
through server A reaches a socket connected to server B (and a read receipt travels back);
presence is counted across both, and the sockets of a server killed with SIGKILL are announced
offline by the other within `PRESENCE_TTL` + `PRESENCE_REFRESH`.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on 127.0.0.1:6379;
skips, saying which is missing, where they do not answer.
"""

import json
import time
import uuid

import psycopg
import pytest
from websockets.sync.client import connect as ws_connect

from tests.servers import (
    PG_ADMIN_URL,
    Server,
    manage,
    postgres_answers,
    redis_answers,
    server_env,
)

PASSWORD = "e2e-pass-5678"
# Short presence periods, so that a killed server's sockets expire within seconds.
GRACE, REFRESH, TTL = 1, 1, 3


@pytest.fixture(scope="module")
def servers():
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer on 127.0.0.1:5432 (user postgres)")
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    name = f"chat_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = server_env(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CHANNEL_LAYER_PREFIX=name,
        PRESENCE_GRACE=str(GRACE),
        PRESENCE_REFRESH=str(REFRESH),
        PRESENCE_TTL=str(TTL),
    )
    started = []
    try:
        manage("migrate", "--noinput", env=env)
        started.append(Server(env))
        started.append(Server(env))
        yield started
    finally:
        for server in started:
            server.stop()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def socket_on(server: Server, token: str):
    return ws_connect(
        f"ws://127.0.0.1:{server.port}/ws/chat/?token={token}",
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=10,
    )


def next_frame(socket, *, skip=("presence",), timeout=10) -> dict:
    """The next frame whose type is not in `skip`."""
    while True:
        frame = json.loads(socket.recv(timeout=timeout))
        if frame["type"] not in skip:
            return frame


def register(server: Server, *names: str) -> dict:
    """Each new user's access token and id, by name."""
    return {name: server.register(name, PASSWORD) for name in names}


def test_message_posted_on_a_reaches_socket_on_b(servers):
    server_a, server_b = servers
    for name in ("alice", "bob"):
        status, _ = server_a.call(
            "POST", "/api/auth/register/", {"username": name, "password": PASSWORD}
        )
        assert status == 201
    alice, bob = server_a.login("alice", PASSWORD), server_b.login("bob", PASSWORD)
    bob_id = server_b.call("GET", "/api/users/me/", token=bob)[1]["id"]
    status, thread = server_a.call("POST", "/api/threads/", {"participants": [bob_id]}, token=alice)
    assert status == 201

    with socket_on(server_b, bob) as bob_socket, socket_on(server_a, alice) as alice_socket:
        bob_socket.send(json.dumps({"type": "ping"}))
        assert next_frame(bob_socket) == {"type": "pong"}

        status, message = server_a.call(
            "POST", f"/api/threads/{thread['id']}/messages/", {"text": "across processes"}, alice
        )
        assert status == 201
        frame = next_frame(bob_socket)
        assert frame == {
            "type": "message.created",
            "message": message,
            "unread_count": 1,
            "thread_unread_count": 1,
        }

        status, _ = server_b.call("POST", f"/api/threads/{thread['id']}/read/", token=bob)
        assert status == 200
        created_echo = next_frame(alice_socket)
        assert created_echo["type"] == "message.created"
        receipt = next_frame(alice_socket)
        assert receipt == {
            "type": "message.read",
            "thread": thread["id"],
            "message_ids": [message["id"]],
            "unread_count": 0,
            "thread_unread_count": 0,
        }


def test_a_socket_without_events_for_longer_than_redis_blocks_stays_open(servers):
    # channels_redis waits for a socket's next event in 5 s blocking reads; redis-py's default
    # read timeout was 5 s too, and the socket died on the first one that came back empty.
    server_a, _ = servers
    ((token, _),) = register(server_a, "erin").values()
    with socket_on(server_a, token) as socket:
        time.sleep(6.5)
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}


def test_presence_is_counted_across_processes_and_a_killed_one_is_announced(servers):
    server_a, server_b = servers
    people = register(server_a, "carol", "dave")
    (carol, _), (dave, dave_id) = people["carol"], people["dave"]
    assert server_a.call("POST", "/api/threads/", {"participants": [dave_id]}, carol)[0] == 201
    online = {"type": "presence", "user": dave_id, "online": True, "last_seen": None}

    with socket_on(server_a, carol) as carol_socket:
        # dave's first socket, on the other process: carol hears it through Redis.
        with socket_on(server_b, dave):
            assert json.loads(carol_socket.recv(timeout=10)) == online
            assert server_a.call("GET", f"/api/users/{dave_id}/presence/", token=carol)[1] == {
                "online": True,
                "last_seen": None,
            }
        # Reconnects within the grace, to either process: counted across both, no frame.
        with socket_on(server_a, dave):
            pass
        with socket_on(server_b, dave) as dave_socket:
            dave_socket.send(json.dumps({"type": "ping"}))
            assert json.loads(dave_socket.recv(timeout=10)) == {"type": "pong"}
            time.sleep(GRACE + 2 * REFRESH)
            carol_socket.send(json.dumps({"type": "ping"}))
            assert json.loads(carol_socket.recv(timeout=10)) == {"type": "pong"}  # nothing before

            # The process holding dave's socket dies without closing anything: its rows are no
            # longer refreshed, expire, and server A's sweep announces dave offline.
            server_b.kill()
            killed_at = time.monotonic()
            try:
                offline = json.loads(carol_socket.recv(timeout=TTL + REFRESH + 10))
                waited = time.monotonic() - killed_at
            finally:
                server_b.start()
        print(f"offline announced {waited:.2f} s after the SIGKILL")
        assert offline["type"] == "presence"
        assert (offline["user"], offline["online"]) == (dave_id, False)
        assert offline["last_seen"].endswith(":00Z")  # to the minute
        # Within TTL + one refresh, with a little room for a loaded machine.
        assert waited <= TTL + REFRESH + 1.5
        status, body = server_a.call("GET", f"/api/users/{dave_id}/presence/", token=carol)
        assert (status, body) == (200, {"online": False, "last_seen": offline["last_seen"]})
