"""/metrics and the request log through the production topology (`manage.py serve` with REDIS_URL:
nginx, two gunicorn workers, one uvicorn), talking to nginx's public port as a client would.

Every worker process writes its figures into the run directory's `metrics/`, and the gunicorn
worker that answers /metrics sums them: counts made by two workers come out as one total, with
the uvicorn's open sockets beside them. /metrics answers only METRICS_ALLOWED, here 127.0.0.2
(Linux routes all of 127/8 to the loopback, so the test can call from either address); with the
default, nobody. Needs nginx and Redis, like chat/tests/test_topology.py; skips saying which is
missing.
"""

import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import sys
import time
import uuid

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect as ws_connect

from chat.management.commands import serve
from tests.servers import Server, manage, redis_answers, server_env

PASSWORD = "metrics-pass-4321"
SCRAPER = "127.0.0.2"


def prepare(tmp) -> dict:
    if serve.find_nginx() is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    (tmp / "static").mkdir()  # nothing to serve: these tests never ask for a static file
    env = server_env(
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        STATIC_ROOT=str(tmp / "static"),
        REDIS_URL="redis://127.0.0.1:6379/8",
        CHANNEL_LAYER_PREFIX=f"metrics-{uuid.uuid4().hex[:12]}",
    )
    manage("migrate", "--noinput", env=env)
    return env


def start(env: dict, run_dir, log) -> Server:
    command = [
        sys.executable, "manage.py", "serve", "--port={port}", f"--run-dir={run_dir}",
        "--workers=2", "--asgi-workers=1",
    ]  # fmt: skip
    return Server(env, command=command, log=log)


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("metrics")
    env = prepare(tmp)
    server = start(env | {"METRICS_ALLOWED": SCRAPER}, tmp / "run", tmp / "serve.log")
    server.run_dir, server.log, server.env = tmp / "run", tmp / "serve.log", env
    yield server
    server.stop()


def get(server: Server, path: str, source: str = "127.0.0.1", headers=None):
    """(status, headers, body) of a GET to nginx's public port from the address `source`."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=10, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def scrape(server: Server) -> dict:
    """{(name, sorted label items): value} of /metrics, read from the allowed address."""
    status, headers, body = get(server, "/metrics", source=SCRAPER)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def request_count(samples: dict, route: str, status: str) -> float:
    labels = (("method", "GET"), ("route", route), ("status", status))
    return samples.get(("chat_http_request_duration_seconds_count", labels), 0)


def counts_per_process(metrics_dir, route: str, status: str) -> dict[int, float]:
    """The count of each process's own file, read with the library as /metrics reads them all."""
    counts = {}
    for path in metrics_dir.glob("histogram_*.db"):
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in MultiProcessCollector.merge([str(path)])
            for sample in family.samples
        }
        if found := request_count(samples, route, status):
            counts[int(path.stem.split("_")[1])] = found
    return counts


def test_counts_from_both_gunicorn_workers_are_summed(topology):
    # Unauthenticated /api/users/me/: a 401 that only this test asks for. Concurrent requests
    # reach both sync workers; more rounds until each has served some.
    sent = 0
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            statuses = list(pool.map(lambda _: get(topology, "/api/users/me/")[0], range(16)))
            assert set(statuses) == {401}
            sent += len(statuses)
            per_process = counts_per_process(topology.run_dir / "metrics", "/api/users/me/", "401")
            if len(per_process) == 2:
                break
    assert len(per_process) == 2, "one gunicorn worker served every request"
    assert sum(per_process.values()) == sent
    assert request_count(scrape(topology), "/api/users/me/", "401") == sent


def test_metrics_is_refused_on_the_public_port_to_others(topology):
    status, _, body = get(topology, "/metrics")  # from 127.0.0.1: not in METRICS_ALLOWED
    assert status == 403
    assert "chat_" not in body
    # The workers hold the same line: a client that reaches gunicorn's socket without nginx, or
    # forges X-Forwarded-For through it, is refused too.
    assert get(topology, "/metrics", headers={"X-Forwarded-For": SCRAPER})[0] == 403
    wsgi = socket.socket(socket.AF_UNIX)
    wsgi.connect(str(topology.run_dir / "wsgi.sock"))
    wsgi.sendall(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 127.0.0.1\r\n\r\n")
    assert b" 403 " in wsgi.recv(64).split(b"\r\n")[0]
    wsgi.close()


def test_open_sockets_per_uvicorn_and_events_published(topology):
    alice = topology.call(
        "POST", "/api/auth/register/", {"username": "alice", "password": PASSWORD}
    )
    bob = topology.call("POST", "/api/auth/register/", {"username": "bob", "password": PASSWORD})
    assert (alice[0], bob[0]) == (201, 201)
    token = topology.login("alice", PASSWORD)
    url = f"ws://127.0.0.1:{topology.port}/ws/chat/?token={token}"
    with ws_connect(url, origin=f"http://127.0.0.1:{topology.port}", open_timeout=10) as ws:
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "pong"}
        samples = scrape(topology)
        open_sockets = {
            dict(labels)["pid"]: value
            for (name, labels), value in samples.items()
            if name == "chat_websockets_open"
        }
        # One series per uvicorn (the only process that serves sockets), labelled by its pid.
        [(uvicorn_pid, count)] = open_sockets.items()
        assert count == 1
        thread = topology.call("POST", "/api/threads/", {"participants": [bob[1]["id"]]}, token)
        message = topology.call(
            "POST", f"/api/threads/{thread[1]['id']}/messages/", {"text": "hello"}, token
        )
        assert (thread[0], message[0]) == (201, 201)
        assert json.loads(ws.recv(timeout=10))["type"] == "thread.created"
        assert json.loads(ws.recv(timeout=10))["type"] == "message.created"
        samples = scrape(topology)
    published = "chat_events_published_total"
    assert samples[(published, (("type", "thread.created"),))] == 2  # one per participant
    assert samples[(published, (("type", "message.created"),))] == 2
    assert not any(name == "chat_events_failed_total" for name, _ in samples)

    # The socket closed: back to 0. A uvicorn that dies takes its series with it (the
    # supervisor marks it dead), and its restart reports its own.
    deadline = time.monotonic() + 10
    while scrape(topology)[("chat_websockets_open", (("pid", uvicorn_pid),))] != 0:
        assert time.monotonic() < deadline, "the closed socket is still counted"
        time.sleep(0.1)
    os.kill(int(uvicorn_pid), signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        pids = [
            dict(labels)["pid"]
            for name, labels in scrape(topology)
            if name == "chat_websockets_open"
        ]
        if pids and uvicorn_pid not in pids:
            break
        assert time.monotonic() < deadline, f"series of the dead uvicorn still listed: {pids}"
        time.sleep(0.2)


def test_the_request_log_line_carries_nginxs_request_id(topology):
    status, headers, _ = get(topology, "/healthz?token=not-for-the-log")
    request_id = headers["X-Request-ID"]
    assert status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id
    access_log = topology.run_dir / "access.log"
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in topology.log.read_text().splitlines() if request_id in line]
        if lines and request_id in access_log.read_text():
            break
        assert time.monotonic() < deadline, "no log line with the request id"
        time.sleep(0.1)
    [line] = lines
    assert re.fullmatch(
        rf"wsgi +\| request method=GET route=/healthz status=200 ms=[0-9.]+ id={request_id}", line
    )
    assert "not-for-the-log" not in topology.log.read_text()


def test_by_default_metrics_answers_no_one(topology, tmp_path):
    env = {key: value for key, value in topology.env.items() if key != "METRICS_ALLOWED"}
    server = start(env, tmp_path / "run", tmp_path / "serve.log")
    try:
        for source in ("127.0.0.1", SCRAPER):
            status, _, body = get(server, "/metrics", source=source)
            assert status == 403
            assert "chat_" not in body
        assert get(server, "/healthz")[0] == 200
    finally:
        server.stop()
