"""config.asgi_http: every HTTP request's sync code runs on one lasting thread per process."""

import asyncio
import threading

from django.core.signals import request_started

from config.asgi_http import get_http_application


def call(application, path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent = []

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client stays connected

    async def send(message):
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    return sent[0]["status"]


def test_requests_share_one_thread_that_outlives_them(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    application = get_http_application()
    threads = []

    def record(**kwargs):
        threads.append(threading.current_thread())

    request_started.connect(record)
    try:
        # An unknown /api/ path answers JSON without touching the database.
        statuses = [call(application, "/api/nowhere/") for _ in range(3)]
    finally:
        request_started.disconnect(record)

    assert statuses == [404, 404, 404]
    assert len(threads) == 3
    assert len(set(threads)) == 1
    assert threads[0].name.startswith("django-http")
    assert threads[0].is_alive()
