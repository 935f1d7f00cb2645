"""Fixtures of the browser tests: one server and one Chromium for the package, pages per test.

The tests skip, saying why, when the system's Chromium is missing; they never download one.
Everything Playwright holds is closed at the end of this package, before other tests use the ORM
(Playwright's sync API keeps an event loop that Django's async-safety check would notice).
"""

import itertools

import pytest

from web.tests.browser.harness import CHROMIUM, ChatServer, launch_chromium, log_in

_usernames = itertools.count(1)


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(
            f"Browser tests need Chromium at {CHROMIUM}: install the Debian package with "
            "`apt-get install -y chromium` (`.ci/run` does). Nothing is downloaded at test time."
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Generous waits: on a loaded 2-core CI machine a live update can take seconds to paint.
    sync_api.expect.set_options(timeout=15_000)
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def server(browser):
    with ChatServer() as server:
        yield server


@pytest.fixture
def make_user(server):
    """`make_user("alice")`: a new user registered through the API, named alice<n>."""
    return lambda name: server.user(f"{name}{next(_usernames)}")


@pytest.fixture
def open_page(browser, server):
    """`open_page(user=None, **context_options)`: a page in a browser context of its own, logged
    in as `user` if given. Uncaught script errors and CSP violations fail the test."""
    contexts, problems = [], []

    def on_console(message):
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(message.text)

    def make(user=None, **context_options):
        context = browser.new_context(**context_options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", on_console)
        if user is not None:
            log_in(page, server, user.username)
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []
