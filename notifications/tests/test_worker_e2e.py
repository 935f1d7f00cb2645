"""End to end, with every part real: `manage.py serve` (one uvicorn, and beside it the
notification worker, under the supervisor) on a SQLite file, a push service stand-in that
decrypts what it receives (tests/push_service.py), a webhook receiver, and a WebSocket saying
what its window shows. Then the worker is killed with SIGKILL in the middle of a delivery: the
supervisor starts another, which sends it again once the lease runs out. Nothing is lost; the
browser may see that one push twice (docs/API.md says so).

About 20 s, a third of it the lease (twice PUSH_TIMEOUT, and 5 s) after the kill.
"""

import hashlib
import hmac
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from notifications.tests.test_webhooks import Receiver
from tests.push_service import HANG, PushService
from tests.servers import Server, alive, descendants, manage, server_env

PASSWORD = "notify-pass-2468"
DELAY = 0.5
PUSH_TIMEOUT = 1


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notify")
    env = server_env(
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        NOTIFY_DELAY=str(DELAY),
        PUSH_ALLOW_PRIVATE_ENDPOINTS="1",
        PUSH_TIMEOUT=str(PUSH_TIMEOUT),
        WEBHOOK_TIMEOUT=str(PUSH_TIMEOUT),
    )
    manage("migrate", "--noinput", env=env)
    server = Server(
        env,
        command=[sys.executable, "manage.py", "serve", "--port={port}"],
        log=tmp / "serve.log",
        new_session=True,
    )
    server.env_for_shell = env
    try:
        yield server
    finally:
        server.stop()


def the_worker(server) -> int:
    [pid] = [
        pid
        for pid in descendants(server.process.pid)
        if b"notify" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    return pid


def quiet_for(push_service, endpoint, seconds: float) -> bool:
    before = len(push_service.received(endpoint))
    time.sleep(seconds)
    return len(push_service.received(endpoint)) == before


def test_pushes_and_webhooks_reach_their_receivers_but_not_a_thread_in_view(service):
    receiver = Receiver()
    manage(
        "shell",
        "-c",
        "from notifications.models import WebhookEndpoint; "
        f"WebhookEndpoint.objects.create(url='{receiver.url}', secret='e2e-secret')",
        env=service.env_for_shell,
    )
    (alice, _), (bob, bob_id) = (
        service.register("alice", PASSWORD),
        service.register("bob", PASSWORD),
    )
    key = service.call("GET", "/api/push/key/", token=bob)[1]
    with PushService(application_server_key=key["public_key"]) as push_service:
        subscription = push_service.subscribe()
        endpoint = subscription["endpoint"]
        assert service.call("POST", "/api/push/subscriptions/", subscription, token=bob)[0] == 201
        thread = service.call("POST", "/api/threads/", {"participants": [bob_id]}, token=alice)[1]
        messages = f"/api/threads/{thread['id']}/messages/"

        service.call("POST", messages, {"text": "Are you there?"}, token=alice)
        [push] = push_service.wait_for(1, endpoint)
        assert push.payload["preview"] == "Are you there?"
        assert push.payload["sender"]["username"] == "alice"

        with ws_connect(
            f"ws://127.0.0.1:{service.port}/ws/chat/?token={bob}",
            origin=f"http://127.0.0.1:{service.port}",
        ) as socket:
            socket.send(json.dumps({"type": "view", "thread": thread["id"]}))
            socket.send(json.dumps({"type": "ping"}))
            while json.loads(socket.recv(timeout=10))["type"] != "pong":
                pass
            service.call("POST", messages, {"text": "Seen on screen"}, token=alice)
            # Due after DELAY, taken within the worker's 1 s poll: a push would have come by now.
            assert quiet_for(push_service, endpoint, DELAY + 2)
            socket.send(json.dumps({"type": "view", "thread": None}))
            socket.send(json.dumps({"type": "ping"}))
            while json.loads(socket.recv(timeout=10))["type"] != "pong":
                pass
            service.call("POST", messages, {"text": "Back to you"}, token=alice)
            pushes = push_service.wait_for(2, endpoint)
        assert (pushes[1].payload["count"], pushes[1].payload["preview"]) == (1, "Back to you")

    # The worker's next rounds send the webhook deliveries: a thread and three messages.
    deadline = time.monotonic() + 10
    while len(receiver.requests) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Sent in parallel, they may arrive in any order: `created` orders them.
    events = sorted((json.loads(body) for _, body in receiver.requests), key=lambda e: e["created"])
    assert [event["type"] for event in events][:2] == ["thread.created", "message.created"]
    assert [e["message"]["text"] for e in events if e["type"] == "message.created"] == [
        "Are you there?",
        "Seen on screen",
        "Back to you",
    ]
    headers, body = receiver.requests[0]
    timestamp, signature = (
        part.split("=", 1)[1] for part in headers["X-Chat-Signature"].split(",")
    )
    expected = hmac.new(b"e2e-secret", f"{timestamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(signature, expected.hexdigest())
    receiver.server.shutdown()


def test_a_worker_killed_mid_delivery_loses_nothing_and_repeats_at_most_once(service):
    (alice, _), (carol, carol_id) = (
        service.register("alice2", PASSWORD),
        service.register("carol", PASSWORD),
    )
    key = service.call("GET", "/api/push/key/", token=carol)[1]["public_key"]
    with PushService(application_server_key=key) as push_service:
        subscription = push_service.subscribe()
        endpoint = subscription["endpoint"]
        service.call("POST", "/api/push/subscriptions/", subscription, token=carol)
        # The push service takes the message, then does not answer: the worker is mid-request.
        push_service.respond(endpoint, [HANG])
        thread = service.call("POST", "/api/threads/", {"participants": [carol_id]}, token=alice)[1]
        service.call(
            "POST", f"/api/threads/{thread['id']}/messages/", {"text": "Don't lose me"}, token=alice
        )
        push_service.wait_for(1, endpoint)
        worker = the_worker(service)
        os.kill(worker, signal.SIGKILL)  # within PUSH_TIMEOUT: before it could record anything
        pushes = push_service.wait_for(2, endpoint, timeout=2 * PUSH_TIMEOUT + 15)
        assert not alive(worker)
        assert the_worker(service) != worker  # the supervisor started another
        assert pushes[0].payload == pushes[1].payload
        assert pushes[1].payload["preview"] == "Don't lose me"
        assert quiet_for(push_service, endpoint, 1)  # and once delivered, no more
    log = Path(service.log).read_text()
    assert f"notify (pid {worker}) was killed by SIGKILL; restarting it" in log
