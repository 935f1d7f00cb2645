"""`make serve` with REDIS_URL on a fresh clone, started the way an operator starts it.

The committed HEAD of this repository is cloned into a temporary directory (no .env, no database,
no static files, no run directory: uncommitted changes are not in it), its `.venv` is a link to
the virtualenv running these tests (so nothing is installed; `make -o .venv/.installed` keeps make
from running pip because the clone's requirements files are newer than the venv's marker), and
`make serve PORT=<free port> WORKERS=2 ASGI_WORKERS=2` runs in a process group of its own with
only PATH, HOME, the Redis URL (database 11, a key prefix of its own), SQLITE_PATH and generous
rate limits in its environment: make writes .env with a fresh secret, migrates, collects the
static files and starts nginx, gunicorn and the uvicorns. Everything then goes through the public
port: REST, a socket that receives the event of a message posted through a gunicorn worker (so it
crossed processes through Redis), static files from collectstatic, a gunicorn worker and a uvicorn
killed without the service going down, and SIGTERM to make's process group: when make has exited,
no process of the tree is left and nginx's pid file is gone.

Needs git, make, nginx (`apt-get install nginx`; `.ci/run` installs it) and Redis on
127.0.0.1:6379; skips, saying which is missing. About 10 s on two cores, 7 s of it until the
service answers (make's migrate and collectstatic take about 3 s of those).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from chat.management.commands.serve import find_nginx
from tests.servers import ROOT, alive, descendants, free_port, redis_answers

REDIS_URL = "redis://127.0.0.1:6379/11"
PASSWORD = "make-serve-pass-4321"


def git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 - the system's git, on this repository
        ["git", *args],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def skip_unless_tools() -> None:
    for tool in ("git", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install {tool})")
    if find_nginx() is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    try:
        git("-C", str(ROOT), "rev-parse", "--verify", "HEAD")
    except subprocess.CalledProcessError:
        pytest.skip(f"{ROOT} is not a git checkout with a commit to clone")


def fresh_clone(into: Path) -> Path:
    """The committed HEAD, cloned; its .venv is the virtualenv running the tests."""
    clone = into / "clone"
    git("clone", "--quiet", "--no-checkout", str(ROOT), str(clone))
    git(
        "-C",
        str(clone),
        "checkout",
        "--quiet",
        "--detach",
        git("-C", str(ROOT), "rev-parse", "HEAD"),
    )
    (clone / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return clone


def call(port: int, method: str, path: str, body=None, token: str | None = None):
    """(status, headers, parsed JSON body or None) from the public port."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
            return response.status, response.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, error.headers, json.loads(raw) if raw else None
        except ValueError:  # nginx's own HTML page (a 502 while the workers start)
            return error.code, error.headers, None


def fetch(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.headers, response.read()


def socket(port: int, token: str):
    return ws_connect(
        f"ws://127.0.0.1:{port}/ws/chat/?token={token}",
        origin=f"http://127.0.0.1:{port}",
        open_timeout=10,
    )


def pong(port: int, token: str) -> bool:
    with socket(port, token) as ws:
        ws.send(json.dumps({"type": "ping"}))
        return json.loads(ws.recv(timeout=10)) == {"type": "pong"}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def parent(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(status.split("\nPPid:\t")[1].split()[0])


def processes_in(directory: Path) -> list[int]:
    """Every live process whose working directory is in `directory` (the clone)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:  # ended meanwhile, or not ours to look at
            continue
        if (cwd == str(directory) or cwd.startswith(f"{directory}/")) and alive(int(proc.name)):
            found.append(int(proc.name))
    return found


class Tree:
    """The processes below make, by what their command lines say."""

    def __init__(self, make_pid: int):
        self.lines = {pid: cmdline(pid) for pid in descendants(make_pid)}

    def named(self, word: str) -> list[int]:
        return [pid for pid, line in self.lines.items() if word in line]

    def gunicorn_workers(self) -> list[int]:
        gunicorns = self.named("/gunicorn ")
        return [pid for pid in gunicorns if parent(pid) in gunicorns]

    def still_alive(self) -> list[str]:
        """Those of them still running (the same pid with the same command line)."""
        return [
            f"{pid} {line}"
            for pid, line in self.lines.items()
            if alive(pid) and cmdline(pid) == line
        ]


def wait_for(condition, what: str, log: Path, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; make's output:\n{tail(log)}")


def tail(log: Path, lines: int = 60) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def test_make_serve_on_a_fresh_clone_serves_survives_a_killed_worker_and_stops_clean():
    skip_unless_tools()
    timings = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="make-serve-") as tmp:
        clone = fresh_clone(Path(tmp))
        timings["clone"] = time.monotonic() - started
        port = free_port()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", tmp),
            "LANG": "C.UTF-8",
            "REDIS_URL": REDIS_URL,
            "CHANNEL_LAYER_PREFIX": f"make-serve-{uuid.uuid4().hex[:12]}",
            "SQLITE_PATH": str(clone / "db.sqlite3"),
            # Registering twice from 127.0.0.1 is within the defaults, but other runs share the
            # counters in this Redis database.
            **{
                f"THROTTLE_{name}": "10000/min" for name in ("LOGIN", "REGISTER", "REFRESH", "SEND")
            },
        }
        # -o: the clone's requirements files are newer than the venv's marker; pip is not run.
        command = [shutil.which("make"), "-o", ".venv/.installed", "serve", f"PORT={port}"]
        log = Path(tmp) / "make-serve.log"
        with log.open("wb") as output:
            make = subprocess.Popen(  # noqa: S603
                [*command, "WORKERS=2", "ASGI_WORKERS=2"],
                cwd=clone,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, like a terminal's job
            )
        try:
            check_the_service(make, port, clone, log, timings, started)
        finally:
            if make.poll() is None:
                os.killpg(make.pid, signal.SIGTERM)
                try:
                    make.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(make.pid, signal.SIGKILL)
                    make.wait()
            for pid in processes_in(clone):  # only ours: they run in our temporary clone
                os.kill(pid, signal.SIGKILL)
    timings["total"] = time.monotonic() - started
    print("make serve on a fresh clone:", ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))


def check_the_service(make, port: int, clone: Path, log: Path, timings: dict, started: float):
    def healthy():
        if make.poll() is not None:
            pytest.fail(f"make serve exited ({make.returncode}):\n{tail(log)}")
        if "make's steps" not in timings and "manage.py serve --host" in log.read_text():
            timings["make's steps"] = time.monotonic() - started  # .env, migrate, collectstatic
        try:
            return call(port, "GET", "/healthz")[0] == 200
        except OSError:  # nginx not listening yet
            return False

    wait_for(healthy, "/healthz through the public port", log, timeout=60)
    timings["healthy"] = time.monotonic() - started
    output = log.read_text()
    assert "Wrote .env with new keys" in output
    assert "Installing runtime dependencies" not in output
    assert f"Serving on http://127.0.0.1:{port}/: nginx in front, 2 gunicorn" in output
    # The notification worker beside them, signing with the VAPID key make wrote into .env.
    wait_for(lambda: "notify | Notification worker started" in log.read_text(), "notify", log)
    assert "VAPID_PRIVATE_KEY is not set" not in log.read_text()

    # REST, through nginx to gunicorn: two people, logged in, and a thread between them.
    tokens, ids = {}, {}
    for name in ("alice", "bob"):
        status, _, body = call(
            port, "POST", "/api/auth/register/", {"username": name, "password": PASSWORD}
        )
        assert status == 201, body
        status, _, body = call(
            port, "POST", "/api/auth/token/", {"username": name, "password": PASSWORD}
        )
        assert status == 200, body
        tokens[name] = body["access"]
        status, headers, me = call(port, "GET", "/api/users/me/", token=tokens[name])
        assert (status, me["username"], headers["Server"]) == (200, name, "nginx")
        ids[name] = me["id"]
    status, _, thread = call(
        port, "POST", "/api/threads/", {"participants": [ids["bob"]]}, tokens["alice"]
    )
    assert status == 201, thread

    def event_crosses(text: str):
        """Bob's socket (a uvicorn) gets the message Alice posts (a gunicorn worker)."""
        with socket(port, tokens["bob"]) as bob:
            bob.send(json.dumps({"type": "ping"}))
            assert json.loads(bob.recv(timeout=10)) == {"type": "pong"}
            status, _, message = call(
                port,
                "POST",
                f"/api/threads/{thread['id']}/messages/",
                {"text": text},
                tokens["alice"],
            )
            assert status == 201, message
            frame = json.loads(bob.recv(timeout=10))
            assert (frame["type"], frame["message"]) == ("message.created", message)

    event_crosses("through Redis")

    # Static files: nginx serves what collectstatic wrote in the clone.
    headers, body = fetch(port, "/static/web/app.js")
    assert headers["Content-Type"] == "application/javascript"
    assert body == (clone / "web" / "static" / "web" / "app.js").read_bytes()
    headers, body = fetch(port, "/static/admin/css/base.css")  # Django's, collected
    assert headers["Content-Type"] == "text/css"
    assert b"body" in body

    # The processes below make, by their command lines.
    tree = Tree(make.pid)
    nginx = tree.named("nginx: master process")
    assert len(nginx) == 1, tree.lines
    run_dir = clone / ".run" / str(port)
    assert int((run_dir / "nginx.pid").read_text()) == nginx[0]
    uvicorns = tree.named("/uvicorn ")
    workers = tree.gunicorn_workers()
    assert (len(uvicorns), len(workers)) == (2, 2), tree.lines
    timings["checked"] = time.monotonic() - started

    # A killed gunicorn worker: the other one answers meanwhile, gunicorn's master replaces it.
    os.kill(workers[0], signal.SIGKILL)
    for _ in range(10):
        assert call(port, "GET", "/api/users/me/", token=tokens["alice"])[0] == 200
    # A killed uvicorn: nginx sends new sockets to the other one, the supervisor restarts it.
    os.kill(uvicorns[0], signal.SIGKILL)
    assert call(port, "GET", "/api/users/me/", token=tokens["alice"])[0] == 200
    assert pong(port, tokens["bob"])
    event_crosses("after the kills")
    wait_for(
        lambda: len(set(Tree(make.pid).gunicorn_workers()) - {workers[0]}) == 2,
        "gunicorn's new worker",
        log,
    )
    wait_for(
        lambda: len(set(Tree(make.pid).named("/uvicorn ")) - {uvicorns[0]}) == 2,
        "the supervisor's new uvicorn",
        log,
    )
    assert f"(pid {uvicorns[0]}) was killed by SIGKILL; restarting it" in log.read_text()
    timings["killed"] = time.monotonic() - started

    # SIGTERM to make's process group, as a service manager stops a job: once make has exited,
    # not one process of the tree is left (the first one's and today's), nor nginx's pid file.
    every = Tree(make.pid)
    every.lines |= tree.lines
    assert len(every.lines) >= 8  # supervisor, nginx + worker, gunicorn + 2, 2 uvicorns, ...
    os.killpg(make.pid, signal.SIGTERM)
    make.wait(timeout=30)
    timings["stopped"] = time.monotonic() - started
    left = every.still_alive()
    assert left == [], f"left running after make exited:\n{left}\n{tail(log)}"
    assert processes_in(clone) == []
    assert not (run_dir / "nginx.pid").exists()
    assert "SIGTERM: stopping everything" in log.read_text()
