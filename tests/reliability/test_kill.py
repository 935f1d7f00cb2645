"""Kill the server while writers post, restart it: every message that got a 201 is there, once,
and the SQLite database passes `PRAGMA integrity_check`.

The server is a real process (uvicorn, two workers, production settings) on a database file in
a temporary directory. Writers retry a send whose answer was lost with the same
`Idempotency-Key`, as a client should; the server group gets SIGKILL after a set number of
acknowledged sends, while the writers are still posting, and is started again.
"""

import http.client
import json
import os
import sqlite3
import threading
import time
from collections import Counter

import pytest

from tests.servers import Server, manage, server_env

WRITERS = 8
MESSAGES_PER_WRITER = int(os.environ.get("KILL_MESSAGES", "40"))
KILL_AFTER_ACKS = WRITERS * MESSAGES_PER_WRITER // 3
GIVE_UP_AFTER_SECONDS = 120

SETUP = """
import json
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import AccessToken
from chat import services
User = get_user_model()
alice = User.objects.create_user("alice", password="unused-password-1")
bob = User.objects.create_user("bob", password="unused-password-2")
thread, _ = services.thread_get_or_create(user=alice, other=bob)
tokens = [str(AccessToken.for_user(user)) for user in (alice, bob)]
print(json.dumps({"thread": thread.pk, "tokens": tokens}))
"""


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = json.dumps(body) if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture
def server(tmp_path):
    env = server_env(SQLITE_PATH=str(tmp_path / "chat.sqlite3"), THROTTLE_SEND="1000000/min")
    manage("migrate", "--noinput", env=env)
    world = json.loads(manage("shell", "-c", SETUP, env=env).strip().splitlines()[-1])
    # Its own process group: the kill takes every worker.
    server = Server(env, workers=2, new_session=True, timeout=60)
    server.world, server.database = world, env["SQLITE_PATH"]
    yield server
    server.kill()


def test_no_acknowledged_message_is_lost_when_the_server_is_killed(server):
    world = server.world
    path = f"/api/threads/{world['thread']}/messages/"
    acknowledged = {}  # text -> message id from a 201 (or the 200 of a retry)
    outcomes = Counter()
    lock = threading.Lock()
    enough_acks = threading.Event()
    give_up_at = time.monotonic() + GIVE_UP_AFTER_SECONDS

    def writer(w):
        token = world["tokens"][w % 2]
        for n in range(MESSAGES_PER_WRITER):
            text = f"writer {w} message {n}"
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"w{w}-m{n}"}
            while time.monotonic() < give_up_at:
                try:
                    status, body = request(server.port, "POST", path, {"text": text}, headers)
                except (OSError, http.client.HTTPException):
                    # Killed mid-exchange: refused, reset, or a response cut short. The retry
                    # carries the same Idempotency-Key, so it cannot make a second message.
                    with lock:
                        outcomes["connection failed"] += 1
                    time.sleep(0.05)
                    continue
                with lock:
                    outcomes[status] += 1
                    if status in (200, 201):
                        acknowledged[text] = json.loads(body)["id"]
                        if len(acknowledged) >= KILL_AFTER_ACKS:
                            enough_acks.set()
                        break

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    assert enough_acks.wait(GIVE_UP_AFTER_SECONDS), outcomes
    server.kill()
    with lock:
        acknowledged_before_kill = len(acknowledged)
    server.start()
    for thread in threads:
        thread.join()
    server.kill()

    total = WRITERS * MESSAGES_PER_WRITER
    assert len(acknowledged) == total, outcomes
    # The kill came in the middle: sends were acknowledged on both sides of it.
    assert KILL_AFTER_ACKS <= acknowledged_before_kill < total
    assert set(outcomes) <= {200, 201, "connection failed"}, outcomes

    with sqlite3.connect(server.database) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = db.execute("SELECT id, text FROM chat_message").fetchall()
    assert len(stored) == total  # exactly once: no duplicate from a retried send
    assert dict(stored) == {message_id: text for text, message_id in acknowledged.items()}
    print(json.dumps({"kill_test": {str(k): v for k, v in outcomes.items()}}))
