"""End to end across processes: two servers share PostgreSQL and Redis, and a message posted
through server A reaches a socket connected to server B (and a read receipt travels back).

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on 127.0.0.1:6379;
skips, saying which is missing, where they do not answer.
"""

import json
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
        assert json.loads(bob_socket.recv(timeout=10)) == {"type": "pong"}

        status, message = server_a.call(
            "POST", f"/api/threads/{thread['id']}/messages/", {"text": "across processes"}, alice
        )
        assert status == 201
        frame = json.loads(bob_socket.recv(timeout=10))
        assert frame == {
            "type": "message.created",
            "message": message,
            "unread_count": 1,
            "thread_unread_count": 1,
        }

        status, _ = server_b.call("POST", f"/api/threads/{thread['id']}/read/", token=bob)
        assert status == 200
        created_echo = json.loads(alice_socket.recv(timeout=10))
        assert created_echo["type"] == "message.created"
        receipt = json.loads(alice_socket.recv(timeout=10))
        assert receipt == {
            "type": "message.read",
            "thread": thread["id"],
            "message_ids": [message["id"]],
            "unread_count": 0,
            "thread_unread_count": 0,
        }
