"""Real server processes for the end-to-end tests, the browser harness and bench/: start one,
wait until it is healthy, call it, measure its CPU, stop or kill it."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers() -> bool:
    """Whether Redis answers PING on 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def postgres_answers() -> bool:
    """Whether PostgreSQL takes a connection as user postgres on 127.0.0.1:5432."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


TEST_VAPID_PRIVATE_KEY = "JnuyQWD-TDW7z7JX32xdUnQsXvZws_aTEqKdM-7GDus"


def server_env(**overrides) -> dict:
    """The environment of a production-like server: DEBUG off, generous rate limits."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "SQLITE_PATH"}
    }
    env.update(
        DEBUG="False",
        SECRET_KEY_DJANGO_SETTINGS="e2e-test-secret-key-not-for-production",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        THROTTLE_LOGIN="10000/min",
        THROTTLE_REGISTER="10000/min",
        THROTTLE_REFRESH="10000/min",
        THROTTLE_SEND="10000/min",
        THROTTLE_UPLOAD="10000/min",
        DJANGO_SETTINGS_MODULE="config.settings",
        # Uploads go to a folder of the test's, never to the project's media/.
        MEDIA_ROOT=tempfile.mkdtemp(prefix="chat-test-media-"),
        # Web Push on, signing with the tests' key (config/settings_test.py), whatever .env has.
        VAPID_PRIVATE_KEY=TEST_VAPID_PRIVATE_KEY,
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict) -> str:
    """Runs `manage.py` with `args` in `env`; its output."""
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout.decode()


class Server:
    """A server on 127.0.0.1, healthy once made: uvicorn serving config.asgi with `workers`
    processes, or with `command` any other (`{port}` in it becomes the port), such as
    `manage.py serve`. It listens on `port`, or on a free port; its output goes to `log` when
    given. With `new_session` it has a process group of its own, and `stop` and `kill` signal
    the whole group: every worker, whatever the master does."""

    def __init__(
        self,
        env: dict,
        *,
        workers: int = 1,
        command: list[str] | None = None,
        log: Path | None = None,
        new_session: bool = False,
        port: int | None = None,
        timeout: float = 30,
    ):
        self.env, self.log, self.new_session, self.timeout = env, log, new_session, timeout
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if command is None:
            command = [
                str(Path(sys.executable).with_name("uvicorn")),
                "config.asgi:application",
                "--host=127.0.0.1",
                "--port={port}",
                f"--workers={workers}",
                "--no-access-log",
                "--log-level=warning",
            ]
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        if log:
            log.write_bytes(b"")
        self.start()

    def start(self) -> None:
        """Starts the server process (again, after `stop` or `kill`: the same port, the log
        goes on) and waits until it is healthy."""
        with self.log.open("ab") if self.log else contextlib.nullcontext() as output:
            self.process = subprocess.Popen(  # noqa: S603
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=self.new_session,
            )
        self.wait_healthy()

    def wait_healthy(self) -> None:
        """Returns once `GET /healthz` answers 200; stops the server and raises, with the end of
        its log, if it exits first or is not healthy within `timeout` seconds."""
        deadline = time.monotonic() + self.timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:  # not listening yet
                pass
            time.sleep(0.1)
        code = self.process.poll()
        self.stop()
        problem = f"exited ({code})" if code is not None else f"not healthy after {self.timeout} s"
        tail = self.log.read_text(errors="replace")[-3000:] if self.log else ""
        raise RuntimeError(f"server on port {self.port} {problem}" + (f":\n{tail}" if tail else ""))

    def url(self, path: str) -> str:
        return self.base + path

    def call(self, method: str, path: str, body=None, token: str | None = None):
        """(status, the body: parsed JSON, the text of one that is not JSON, or None)."""
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.url(path),
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Accept": "application/json", "Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:  # an HTML error page, say
            return status, raw.decode(errors="replace")

    def upload(self, token: str, content: bytes, name: str) -> tuple[int, object]:
        """`POST /api/attachments/` with `content` as the multipart file `name`: (status, body)."""
        boundary = uuid.uuid4().hex
        part = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.url("/api/attachments/"),
            method="POST",
            data=part.encode() + content + f"\r\n--{boundary}--\r\n".encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def fetch(self, path: str) -> tuple[int, bytes]:
        """GET `path` without a token: (status, the raw body)."""
        try:
            with urllib.request.urlopen(self.url(path), timeout=30) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def login(self, username: str, password: str) -> str:
        """An access token of `username`."""
        status, body = self.call(
            "POST", "/api/auth/token/", {"username": username, "password": password}
        )
        assert status == 200, body
        return body["access"]

    def register(self, username: str, password: str) -> tuple[str, int]:
        """A new user's access token and id."""
        status, body = self.call(
            "POST", "/api/auth/register/", {"username": username, "password": password}
        )
        assert status == 201, body
        token = self.login(username, password)
        return token, self.call("GET", "/api/users/me/", token=token)[1]["id"]

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (it and its descendants, from /proc):
        per request, a measure that other load on the machine does not distort."""
        ticks = 0
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # it has just ended
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM to the server (to its group when it has one); SIGKILL if it has not ended
        after 10 s."""
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL to the server (to its group when it has one), as in a crash."""
        self._signal(signal.SIGKILL)
        self.process.wait()

    def _signal(self, number: int) -> None:
        if self.new_session:
            with contextlib.suppress(ProcessLookupError):  # the whole group has ended
                os.killpg(self.process.pid, number)
        else:
            self.process.send_signal(number)  # nothing once it has ended


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...), from /proc (Linux)."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids = [int(child) for child in children.read_text().split()]
        except FileNotFoundError:  # the thread or the process has just ended
            continue
        for child in pids:
            found += [child, *descendants(child)]
    return found


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "\nState:\tZ" not in status


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter with the test settings and only `env` besides: settings
    are read once at start-up, so a variable under test needs a process of its own."""
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings_test", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
