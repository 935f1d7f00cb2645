"""The production topology end to end: `manage.py serve` with REDIS_URL set starts nginx on one
free port, gunicorn (WSGI) and uvicorn (ASGI) behind it, and these tests talk to nginx only.

One topology serves the whole module, and the tests run in order: the REST, WebSocket and static
checks, then workers are killed, and the last test stops it with SIGTERM and looks for leftovers.
Needs nginx (Debian package `nginx`; `.ci/run` installs it) and Redis on 127.0.0.1:6379; skips,
saying which is missing.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from websockets.sync.client import connect as ws_connect

from chat.management.commands import serve
from tests.servers import (
    ROOT,
    Server,
    alive,
    descendants,
    manage,
    redis_answers,
    server_env,
)

PASSWORD = "topology-pass-4321"


def start_topology(tmp) -> Server:
    """`manage.py serve` with REDIS_URL set on a free port: 2 gunicorn workers, 2 uvicorns."""
    if serve.find_nginx() is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    env = server_env(
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        STATIC_ROOT=str(tmp / "static"),
        REDIS_URL="redis://127.0.0.1:6379/0",
        CHANNEL_LAYER_PREFIX=f"topology-{uuid.uuid4().hex[:12]}",
    )
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)
    server = Server(
        env,
        command=[
            sys.executable, "manage.py", "serve", "--port={port}", f"--run-dir={tmp / 'run'}",
            "--workers=2", "--asgi-workers=2",
        ],
        log=tmp / "serve.log",
    )  # fmt: skip
    return server


@pytest.fixture(scope="module")
def topology(tmp_path_factory):
    server = start_topology(tmp_path_factory.mktemp("topology"))
    yield server
    server.stop()


def output_of(server: Server) -> str:
    return server.log.read_text(errors="replace")


def wait_for(condition, timeout: float = 20, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def program_pid(server: Server, name: str) -> int:
    """The pid of the newest start of program `name`, from the supervisor's log."""
    lines = [line for line in output_of(server).splitlines() if f"| started {name} (pid " in line]
    return int(lines[-1].split("(pid ")[1].split(")")[0])


def socket_for(server: Server, token: str):
    return ws_connect(
        f"ws://127.0.0.1:{server.port}/ws/chat/?token={token}",
        origin=f"http://127.0.0.1:{server.port}",
        open_timeout=10,
    )


@pytest.fixture(scope="module")
def people(topology):
    tokens = {}
    for name in ("alice", "bob"):
        status, _ = topology.call(
            "POST", "/api/auth/register/", {"username": name, "password": PASSWORD}
        )
        assert status == 201
        tokens[name] = topology.login(name, PASSWORD)
    return tokens


def test_rest_through_nginx_reaches_gunicorn(topology, people):
    with urllib.request.urlopen(f"{topology.base}/healthz", timeout=10) as response:  # noqa: S310
        assert response.headers["Server"] == "nginx"
    status, me = topology.call("GET", "/api/users/me/", token=people["alice"])
    assert (status, me["username"]) == (200, "alice")
    assert "Listening at: unix:" in output_of(topology)  # gunicorn, on its socket


def test_socket_receives_a_message_posted_through_a_wsgi_worker(topology, people):
    bob_id = topology.call("GET", "/api/users/me/", token=people["bob"])[1]["id"]
    status, thread = topology.call(
        "POST", "/api/threads/", {"participants": [bob_id]}, token=people["alice"]
    )
    assert status == 201
    with socket_for(topology, people["bob"]) as bob_socket:
        bob_socket.send(json.dumps({"type": "ping"}))
        assert json.loads(bob_socket.recv(timeout=10)) == {"type": "pong"}
        status, message = topology.call(
            "POST", f"/api/threads/{thread['id']}/messages/", {"text": "via nginx"}, people["alice"]
        )
        assert status == 201
        frame = json.loads(bob_socket.recv(timeout=10))
        assert frame == {
            "type": "message.created",
            "message": message,
            "unread_count": 1,
            "thread_unread_count": 1,
        }


def test_static_files_come_from_nginx(topology):
    with urllib.request.urlopen(f"{topology.base}/static/web/app.js", timeout=10) as response:  # noqa: S310
        assert response.headers["Content-Type"] == "application/javascript"
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert b"import" in response.read()
    with urllib.request.urlopen(f"{topology.base}/", timeout=10) as response:  # noqa: S310
        assert b"<html" in response.read().lower()


def test_a_body_over_djangos_limit_is_the_same_json_413_from_nginx(topology, people):
    status, body = topology.call(
        "POST", "/api/threads/1/messages/", {"text": "x" * 2_700_000}, people["alice"]
    )
    assert (status, body) == (413, {"detail": "The request body is too large."})


def test_uploads_pass_nginx_up_to_the_file_limit_and_are_served_back(topology, people):
    """nginx's own body limit is Django's file limit (10 MiB) plus the multipart framing, not the
    2.5 MB of other bodies: a 10 MiB file goes through, and its signed link serves it."""
    content = b"x" * (10 * 1024 * 1024)
    status, attachment = topology.upload(people["alice"], content, "big.txt")
    assert status == 201, attachment
    assert attachment["size"] == len(content)
    with urllib.request.urlopen(topology.url(attachment["url"]), timeout=30) as response:  # noqa: S310
        assert response.headers["Content-Security-Policy"] == "sandbox"
        assert response.read() == content
    status, body = topology.upload(people["alice"], content + b"x" * 70_000, "bigger.txt")
    assert (status, body) == (413, {"detail": "The request body is too large."})


def test_a_killed_gunicorn_worker_is_replaced_and_rest_keeps_answering(topology, people):
    master = program_pid(topology, "wsgi")
    workers = descendants(master)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    for _ in range(20):
        assert topology.call("GET", "/api/users/me/", token=people["alice"])[0] == 200
    wait_for(lambda: len(descendants(master)) == 2, what="gunicorn to replace its worker")
    assert f"Worker (pid:{workers[0]}) was sent SIGKILL" in output_of(topology)


def test_a_killed_uvicorn_is_restarted_and_named(topology, people):
    old = program_pid(topology, "asgi-1")
    os.kill(old, signal.SIGKILL)
    wait_for(
        lambda: f"asgi-1 (pid {old}) was killed by SIGKILL; restarting it" in output_of(topology),
        what="the supervisor to report the killed uvicorn",
    )
    assert topology.call("GET", "/api/users/me/", token=people["alice"])[0] == 200
    # Meanwhile nginx sends new sockets to the other uvicorn.
    with socket_for(topology, people["bob"]) as bob_socket:
        bob_socket.send(json.dumps({"type": "ping"}))
        assert json.loads(bob_socket.recv(timeout=10)) == {"type": "pong"}

    def socket_answers():
        try:
            with socket_for(topology, people["bob"]) as bob_socket:
                bob_socket.send(json.dumps({"type": "ping"}))
                return json.loads(bob_socket.recv(timeout=5)) == {"type": "pong"}
        except (OSError, TimeoutError, Exception):
            return False

    wait_for(lambda: program_pid(topology, "asgi-1") != old, what="uvicorn to be restarted")
    wait_for(lambda: all(socket_answers() for _ in range(4)), what="sockets on both uvicorns")


def test_sigterm_stops_everything_and_leaves_no_process(topology):
    processes = descendants(topology.process.pid)
    assert len(processes) >= 7  # nginx + worker, gunicorn + 2 workers, 2 uvicorns
    topology.process.send_signal(signal.SIGTERM)
    assert topology.process.wait(timeout=30) == 0
    assert [pid for pid in processes if alive(pid)] == []
    assert "SIGTERM: stopping everything" in output_of(topology)


def test_a_killed_supervisor_leaves_no_process(tmp_path):
    server = start_topology(tmp_path)
    processes = descendants(server.process.pid)
    server.process.kill()
    server.process.wait()
    # Every program gets SIGTERM when its parent dies, and stops its own workers.
    wait_for(lambda: not any(alive(pid) for pid in processes), what="the programs to end")


def test_without_redis_one_server_process_says_why_with_the_worker_beside_it(tmp_path):
    env = server_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), STATIC_ROOT=str(tmp_path / "s"))
    manage("migrate", "--noinput", env=env)
    server = Server(
        env, command=[sys.executable, "manage.py", "serve", "--port={port}"], log=tmp_path / "log"
    )
    try:
        assert server.call("GET", "/healthz")[0] == 200
        children = descendants(server.process.pid)
        commands = sorted(Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children)
        # One uvicorn (no --workers: one process), the notification worker and the purge.
        assert len(children) == 3, commands
        assert [b"purge_attachments" in c for c in commands].count(True) == 1
        assert [b"notify" in c for c in commands].count(True) == 1
        assert [b"uvicorn" in c and b"--workers" not in c for c in commands].count(True) == 1
    finally:
        server.stop()
    assert not any(alive(pid) for pid in children)
    assert "REDIS_URL is not set: one uvicorn process serves" in (tmp_path / "log").read_text()


def test_missing_nginx_says_how_to_install_it(settings, monkeypatch):
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "config.channel_layer.PubSubChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:6379/0"]},
        }
    }
    monkeypatch.setattr(serve, "find_nginx", lambda: None)
    with pytest.raises(CommandError, match="apt-get install nginx"):
        call_command("serve", "--port=1")


def test_the_nginx_templates_render_to_a_configuration_nginx_accepts(tmp_path, settings):
    nginx = serve.find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    settings.STATIC_ROOT = tmp_path
    conf = serve.render_nginx(tmp_path / "run", listen="127.0.0.1:1")
    result = subprocess.run(  # noqa: S603 - the system's nginx, checking our file
        [nginx, "-t", "-p", str(tmp_path / "run"), "-c", str(conf), "-e", "stderr"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"client_max_body_size {settings.DATA_UPLOAD_MAX_MEMORY_SIZE};" in (
        (tmp_path / "run" / "chat-locations.conf").read_text()
    )


def test_the_tls_example_is_a_configuration_nginx_accepts(tmp_path, settings):
    nginx, openssl = serve.find_nginx(), shutil.which("openssl")
    if nginx is None or openssl is None:
        pytest.skip("nginx or openssl is not installed (apt-get install nginx openssl)")
    settings.STATIC_ROOT = tmp_path
    serve.render_nginx(tmp_path, listen="127.0.0.1:1")
    subprocess.run(  # noqa: S603 - a throwaway self-signed certificate
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=chat.example.com", "-keyout", tmp_path / "key.pem", "-out", tmp_path / "cert.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (
        (ROOT / "deploy" / "nginx" / "tls-site.conf.example")
        .read_text()
        .replace("/run/chat/", f"{tmp_path}/")
        .replace("/etc/nginx/chat-locations.conf", str(tmp_path / "chat-locations.conf"))
        .replace("/etc/letsencrypt/live/chat.example.com/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/letsencrypt/live/chat.example.com/privkey.pem", str(tmp_path / "key.pem"))
    )
    conf = tmp_path / "tls.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n{site}\n}}\n"
    )
    result = subprocess.run(  # noqa: S603 - the system's nginx, checking the example
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
