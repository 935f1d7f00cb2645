"""Real server processes for end-to-end tests: start, wait until healthy, call, stop."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


class Server:
    """A server on a free port of 127.0.0.1: one uvicorn process serving config.asgi, or with
    `command` any other (`{port}` in it becomes the port), such as `manage.py serve`; its output
    goes to `log` when given."""

    def __init__(
        self,
        env: dict,
        workers: int = 1,
        command: list[str] | None = None,
        log: Path | None = None,
        timeout: float = 30,
    ):
        self.port = free_port()
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
        output = log.open("wb") if log else None
        self.process = subprocess.Popen(  # noqa: S603
            [part.replace("{port}", str(self.port)) for part in command],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
        )
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server on port {self.port} exited ({self.process.returncode})")
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except (OSError, ValueError):  # not listening yet, or a proxy's HTML 502
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server on port {self.port} not healthy after {timeout} s")

    def call(self, method: str, path: str, body=None, token: str | None = None):
        """(status, parsed JSON body or None)."""
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def login(self, username: str, password: str) -> str:
        status, body = self.call(
            "POST", "/api/auth/token/", {"username": username, "password": password}
        )
        assert status == 200, body
        return body["access"]

    def stop(self) -> None:
        stop_process(self.process)


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


def stop_process(process: subprocess.Popen) -> None:
    """Ask the process to end; kill it if it has not after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
