"""Token renewal over a real access-token lifetime (one minute): opt in with CHAT_SLOW_TESTS=1."""

import json
import os

import pytest
from playwright.sync_api import expect

from web.tests.browser.harness import PASSWORD, ChatServer, log_in

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("CHAT_SLOW_TESTS") != "1",
        reason="waits out a one-minute access token (about 70 s); set CHAT_SLOW_TESTS=1 to run",
    ),
]


def test_tokens_are_renewed_before_they_expire_and_the_socket_follows(browser):
    server = ChatServer()
    server.env["JWT_ACCESS_MINUTES"] = "1"
    with server:
        uma, vic = server.user("uma"), server.user("vic")
        thread = vic.thread_with(uma)
        page = browser.new_page()
        log_in(page, server, "uma")
        page.get_by_role("link", name="vic").click()
        before = json.loads(page.evaluate("localStorage.getItem('chat.tokens')"))

        # Renewed 15 s before expiry (a quarter of the lifetime), then the socket reconnects.
        page.wait_for_timeout(65_000)
        after = json.loads(page.evaluate("localStorage.getItem('chat.tokens')"))
        assert after["access"] != before["access"]
        assert after["refresh"] != before["refresh"]
        expect(page.get_by_role("status")).to_be_hidden()

        fresh = server.request(
            "POST", "/api/auth/token/", {"username": "vic", "password": PASSWORD}
        )
        server.request(
            "POST", f"/api/threads/{thread}/messages/", {"text": "still live"}, fresh["access"]
        )
        expect(page.locator(".message").last).to_contain_text("still live")
        page.close()
