"""A real chat server in a subprocess, users made through its API, and headless Chromium.

Used by the browser tests and by `python -m web.tests.browser.screenshots`. The server is
daphne's `manage.py runserver` (HTTP and WebSocket on one port) on a free port, with a fresh
SQLite file and uploads in a folder beside it, DEBUG on so that it serves the static files, no
rate limits, and Web Push on; the worker that delivers notifications runs only when a test starts
it (`notification_worker`).
"""

import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.servers import Server, free_port, manage, server_env

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
ATTACHMENT_MAX_BYTES = 1024 * 1024
RUNSERVER = [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"]


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
        self.server = None  # a tests.servers.Server once serving
        self.env = server_env(
            # The real settings with the test suite's overrides: a fast password hasher.
            DJANGO_SETTINGS_MODULE="config.settings_test",
            DEBUG="True",
            SECRET_KEY_DJANGO_SETTINGS="browser-tests-only-secret",
            SQLITE_PATH=str(self.workdir / "db.sqlite3"),
            DJANGO_SUPERUSER_USERNAME=ADMIN[0],
            DJANGO_SUPERUSER_PASSWORD=ADMIN[1],
            PYTHONUNBUFFERED="1",
            # Offline a moment after the last socket closes, rather than 30 s.
            PRESENCE_GRACE="1",
            # Uploaded files beside the database, gone with it; a limit small enough that a
            # test makes a file over it at once.
            MEDIA_ROOT=str(self.workdir / "media"),
            ATTACHMENT_MAX_BYTES=str(ATTACHMENT_MAX_BYTES),
            THROTTLE_UPLOAD="10000/min",
            # Web Push (on with the tests' key, see server_env) due at once; browsers' push
            # services are stood in for on 127.0.0.1 (test_notifications.py), only allowed so.
            NOTIFY_DELAY="0",
            PUSH_ALLOW_PRIVATE_ENDPOINTS="1",
        )

    @property
    def process(self):
        return self.server and self.server.process

    def manage(self, *args: str) -> None:
        manage(*args, env=self.env)

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
        if self.server is None:
            self.server = Server(
                self.env,
                command=RUNSERVER,
                log=self.log,
                port=self.port,
                timeout=STARTUP_TIMEOUT,
            )
        else:
            self.server.start()

    def stop_serving(self, *, crash: bool = False) -> None:
        """Stops the server process: politely, or at once as in a crash (`crash=True`)."""
        if self.server and crash:
            self.server.kill()
        elif self.server:
            self.server.stop()

    @contextlib.contextmanager
    def notification_worker(self):
        """`with server.notification_worker():` `manage.py notify` delivers notifications, as
        beside `make run`, looking for work every tenth of a second; its output goes to the log."""
        with self.log.open("ab") as output:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "notify", "--poll", "0.1"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            yield
        finally:
            worker.terminate()
            worker.wait(timeout=STARTUP_TIMEOUT)

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def request(self, method: str, path: str, body=None, token: str | None = None):
        """The answer's JSON body; ApiFailed for a status of 400 or more."""
        status, answer = self.server.call(method, path, body, token)
        if status >= 400:
            raise ApiFailed(status, answer)
        return answer

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
