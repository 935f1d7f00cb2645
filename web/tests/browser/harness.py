"""A real chat server in a subprocess, users made through its API, and headless Chromium.

Used by the browser tests and by `python -m web.tests.browser.screenshots`. The server is
daphne's `manage.py runserver` (HTTP and WebSocket on one port) on a free port, with a fresh
SQLite file, DEBUG on so that it serves the static files, and no rate limits.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.servers import free_port, stop_process

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery-7"
ADMIN = ("root", "admin-pass-for-tests-9")
STARTUP_TIMEOUT = 30


class ApiFailed(Exception):
    def __init__(self, status: int, body):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class ChatServer:
    """`with ChatServer() as server:` a migrated, running server at `server.url`."""

    def __init__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="chat-browser-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = self.workdir / "server.log"
        self.process = None
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        } | {
            # The real settings with the test suite's overrides: a fast password hasher.
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DEBUG": "True",
            "SECRET_KEY_DJANGO_SETTINGS": "browser-tests-only-secret",
            "SQLITE_PATH": str(self.workdir / "db.sqlite3"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "THROTTLE_LOGIN": "10000/min",
            "THROTTLE_REGISTER": "10000/min",
            "THROTTLE_REFRESH": "10000/min",
            "THROTTLE_SEND": "10000/min",
            "DJANGO_SUPERUSER_USERNAME": ADMIN[0],
            "DJANGO_SUPERUSER_PASSWORD": ADMIN[1],
            "PYTHONUNBUFFERED": "1",
        }

    def manage(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def __enter__(self):
        self.manage("migrate", "--noinput")
        self.manage("createsuperuser", "--noinput", "--email", "root@example.com")
        try:
            self.serve()
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop_serving()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def serve(self) -> None:
        """Starts the server process (again, after `stop_serving`) and waits until it answers."""
        with self.log.open("a") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"The server exited:\n{self.log_text()}")
            try:
                self.request("GET", "/healthz")
                return
            except (OSError, ApiFailed):
                time.sleep(0.1)
        raise RuntimeError(f"The server did not answer in {STARTUP_TIMEOUT} s:\n{self.log_text()}")

    def stop_serving(self, *, crash: bool = False) -> None:
        """Stops the server process: politely, or at once as in a crash (`crash=True`)."""
        if self.process and self.process.poll() is None:
            if crash:
                self.process.kill()
                self.process.wait()
                return
            stop_process(self.process)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def request(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.url + path, data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raise ApiFailed(error.code, error.read().decode()) from None
        return json.loads(text) if text else None

    def user(self, username: str) -> "ApiUser":
        """Registers `username` and logs in through the API."""
        self.request("POST", "/api/auth/register/", {"username": username, "password": PASSWORD})
        tokens = self.request(
            "POST", "/api/auth/token/", {"username": username, "password": PASSWORD}
        )
        me = self.request("GET", "/api/users/me/", token=tokens["access"])
        return ApiUser(self, me["id"], username, tokens["access"])


class ApiUser:
    def __init__(self, server: ChatServer, user_id: int, username: str, access: str):
        self.server, self.id, self.username, self.access = server, user_id, username, access

    def call(self, method: str, path: str, body=None):
        return self.server.request(method, path, body, token=self.access)

    def thread_with(self, other: "ApiUser") -> int:
        return self.call("POST", "/api/threads/", {"participants": [other.id]})["id"]

    def send(self, thread_id: int, text: str) -> dict:
        return self.call("POST", f"/api/threads/{thread_id}/messages/", {"text": text})


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def log_in(page, server: ChatServer, username: str, password: str = PASSWORD) -> None:
    page.goto(server.url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Signed in as {username}").wait_for()
