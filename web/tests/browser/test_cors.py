"""A front end served from another origin, in a real browser: allowed by CORS_ALLOWED_ORIGINS it
logs in, calls the API with its token and opens the WebSocket; any other origin can do neither.

Each front end is a blank page served by a small HTTP server of the test's own on another
loopback address (not a host the service serves, so its origin is foreign to it), and the browser
makes real cross-origin requests, preflights included, to the real server. (A public origin
calling 127.0.0.1 would meet Chromium's private-network rules instead, which a deployed front end
never does.)"""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.servers import free_port
from web.tests.browser.harness import PASSWORD, ChatServer

FRONT_ENDS = {"allowed": ("127.0.0.3", free_port()), "foreign": ("127.0.0.4", free_port())}
ALLOWED = "http://{}:{}".format(*FRONT_ENDS["allowed"])
FOREIGN = "http://{}:{}".format(*FRONT_ENDS["foreign"])

# Runs in the page of the other origin: log in, read /api/users/me/ with the token (a preflight:
# Authorization is not a simple header), then open the socket and ping it.
FRONT_END = """async ([api, username, password]) => {
  const outcome = {};
  try {
    const login = await fetch(api + "/api/auth/token/", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({username, password}),
    });
    const {access} = await login.json();
    const me = await fetch(api + "/api/users/me/", {headers: {Authorization: "Bearer " + access}});
    outcome.me = (await me.json()).username;
    outcome.socket = await new Promise((resolve) => {
      const socket = new WebSocket(api.replace("http", "ws") + "/ws/chat/?token=" + access);
      socket.onopen = () => socket.send(JSON.stringify({type: "ping"}));
      socket.onmessage = (event) => { resolve(JSON.parse(event.data).type); socket.close(); };
      socket.onclose = (event) => resolve("closed " + event.code);
      setTimeout(() => resolve("timeout"), 10000);
    });
  } catch (error) {
    outcome.error = error.name;
  }
  return outcome;
}"""


class BlankPage(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>front end</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def front_ends():
    servers = [ThreadingHTTPServer(address, BlankPage) for address in FRONT_ENDS.values()]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def cors_server(browser):
    server = ChatServer()
    server.env["CORS_ALLOWED_ORIGINS"] = ALLOWED
    with front_ends(), server:
        yield server


def front_end_page(browser, origin: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{origin}/")
    return context, page


def test_an_allowed_origin_uses_the_api_and_the_socket(browser, cors_server):
    user = cors_server.user("cors")
    context, page = front_end_page(browser, ALLOWED)

    outcome = page.evaluate(FRONT_END, [cors_server.url, user.username, PASSWORD])

    context.close()
    assert outcome == {"me": user.username, "socket": "pong"}


def test_another_origin_can_neither_call_the_api_nor_open_the_socket(browser, cors_server):
    user = cors_server.user("foreign")
    context, page = front_end_page(browser, FOREIGN)

    outcome = page.evaluate(FRONT_END, [cors_server.url, user.username, PASSWORD])
    socket = page.evaluate(
        """async ([api, token]) => await new Promise((resolve) => {
             const socket = new WebSocket(api.replace("http", "ws") + "/ws/chat/?token=" + token);
             socket.onopen = () => resolve("open");
             socket.onclose = (event) => resolve("closed " + event.code);
           })""",
        [cors_server.url, user.access],
    )

    context.close()
    assert outcome == {"error": "TypeError"}  # the browser refused to hand over the response
    assert socket == "closed 1006"  # refused at the handshake
