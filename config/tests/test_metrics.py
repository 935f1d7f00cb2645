"""/metrics and the request log in one process (config/metrics.py): requests timed by route
template, live events and open sockets counted, who may read /metrics, and one log line per
request with its id. Summed across the worker processes of `make serve`:
chat/tests/test_topology_metrics.py.
"""

import ipaddress
import logging
import re
from datetime import timedelta

import pytest
from asgiref.sync import iscoroutinefunction
from channels.testing import WebsocketCommunicator
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from rest_framework_simplejwt.tokens import AccessToken

from chat import events, services
from chat.management.commands import serve
from config.metrics import RequestLogMiddleware
from notifications.models import PendingNotification, PushSubscription, WebhookEndpoint
from tests.servers import run_python

LOCAL = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def scraper(settings):
    settings.METRICS_ALLOWED = LOCAL
    return Client()


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def requests_counted(samples: dict, method: str, route: str, status: int) -> float:
    labels = (("method", method), ("route", route), ("status", str(status)))
    return samples.get(("chat_http_request_duration_seconds_count", labels), 0)


def test_requests_are_timed_by_route_template_never_by_path(scraper, thread, alice, client_for):
    route = "/api/threads/<int:thread_id>/"
    before = scrape(scraper)
    for _ in range(3):
        assert client_for(alice).get(f"/api/threads/{thread.pk}/").status_code == 200
    assert client_for(alice).get("/api/threads/999999/").status_code == 404
    assert scraper.get("/no/such/page/42").status_code == 404
    assert scraper.generic("BREW", "/metrics").status_code == 405

    after = scrape(scraper)
    assert (
        requests_counted(after, "GET", route, 200)
        == requests_counted(before, "GET", route, 200) + 3
    )
    assert (
        requests_counted(after, "GET", route, 404)
        == requests_counted(before, "GET", route, 404) + 1
    )
    assert requests_counted(after, "GET", "unmatched", 404) >= 1
    assert requests_counted(after, "other", "/metrics", 405) >= 1  # no series per made-up method
    routes = {dict(labels).get("route") for _, labels in after}
    assert not any(route and (str(thread.pk) in route or "999999" in route) for route in routes)
    bucket = (
        "chat_http_request_duration_seconds_bucket",
        (("le", "+Inf"), ("method", "GET"), ("route", route), ("status", "200")),
    )
    assert after[bucket] == requests_counted(after, "GET", route, 200)


def test_metrics_answers_no_one_by_default(client, settings):
    settings.METRICS_ALLOWED = ()
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"chat_" not in response.content


def test_behind_a_proxy_the_forwarded_address_is_checked(settings, db):
    settings.METRICS_ALLOWED = (ipaddress.ip_network("10.0.0.0/8"),)
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = Client()
    # As nginx passes it on: the client's address last in X-Forwarded-For.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3, 8.8.8.8").status_code == 403
    assert client.get("/metrics").status_code == 403  # 127.0.0.1, the proxy itself


def test_an_invalid_allowed_address_stops_the_settings():
    result = run_python(
        "import config.settings",
        METRICS_ALLOWED="10.0.0.0/8,not-an-address",
        SECRET_KEY_DJANGO_SETTINGS="k" * 50,
    )
    assert result.returncode != 0
    assert "METRICS_ALLOWED takes addresses or networks" in result.stderr


def test_nginx_refuses_metrics_unless_configured(settings):
    settings.METRICS_ALLOWED = ()
    assert serve.metrics_access() == "    deny all;"
    settings.METRICS_ALLOWED = (*LOCAL, ipaddress.ip_network("fd00::/8"))
    assert serve.metrics_access().split("\n") == [
        "    allow 127.0.0.1/32;",
        "    allow fd00::/8;",
        "    deny all;",
    ]


def published(kind: str, failed: bool = False) -> float:
    name = "chat_events_failed_total" if failed else "chat_events_published_total"
    return REGISTRY.get_sample_value(name, {"type": kind}) or 0


def test_events_published_and_failed_are_counted_by_type(monkeypatch):
    event = {"type": "thread.deleted", "thread": 1, "unread_count": 0}
    before, failed_before = published("thread.deleted"), published("thread.deleted", failed=True)
    events.send_to_users([(1, event), (2, event)])
    assert published("thread.deleted") == before + 2

    def layer_down(layer, messages):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(events, "_group_send", layer_down)
    monkeypatch.setattr(events._LayerHealth, "failing", True)  # logged once already
    events.send_to_users([(1, event), (2, event)])
    assert published("thread.deleted") == before + 2
    assert published("thread.deleted", failed=True) == failed_before + 2


@pytest.mark.django_db(transaction=True)
async def test_open_sockets_are_counted(alice):
    from config.asgi import application

    def gauge():
        return REGISTRY.get_sample_value("chat_websockets_open")

    before = gauge()
    communicator = WebsocketCommunicator(
        application,
        f"/ws/chat/?token={AccessToken.for_user(alice)}",
        headers=[(b"origin", b"http://127.0.0.1:8000")],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert gauge() == before + 1
    await communicator.disconnect()
    assert gauge() == before
    # A socket refused (no token) was never counted, so its close takes nothing off.
    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    await communicator.connect()
    await communicator.disconnect()
    assert gauge() == before


def log_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "chat.requests"]


@pytest.mark.django_db
def test_one_log_line_per_request_with_its_id_and_no_query_string(client, caplog):
    caplog.set_level(logging.INFO, logger="chat.requests")
    response = client.get("/api/threads/?token=secret-token", HTTP_X_REQUEST_ID="forged-by-client")
    assert response.status_code == 401
    [line] = log_lines(caplog)
    # No proxy declared (NUM_PROXIES=0): the client's header is not trusted; a fresh id is made.
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert re.fullmatch(
        rf"request method=GET route=/api/threads/ status=401 ms=[0-9.]+ id={request_id}", line
    )
    assert "secret-token" not in line
    assert "?" not in line


@pytest.mark.django_db
def test_behind_a_proxy_its_request_id_is_used(settings, caplog):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    caplog.set_level(logging.INFO, logger="chat.requests")
    client = Client()
    nginx_id = "4f0c1b2a9e8d7c6b5a4f3e2d1c0b9a88"
    assert client.get("/healthz", HTTP_X_REQUEST_ID=nginx_id)["X-Request-ID"] == nginx_id
    # Anything but a plain token (a line break to forge a log line, say) is replaced.
    forged = client.get("/healthz", HTTP_X_REQUEST_ID="x\nrequest method=GET")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)
    assert [line.rsplit("id=", 1)[1] for line in log_lines(caplog)] == [nginx_id, forged]
    assert all("\n" not in line for line in log_lines(caplog))


async def test_the_middleware_runs_in_async_mode_too(caplog):
    caplog.set_level(logging.INFO, logger="chat.requests")

    async def view(request):
        return HttpResponse(status=204)

    middleware = RequestLogMiddleware(view)
    assert iscoroutinefunction(middleware)
    response = await middleware(RequestFactory().post("/static/web/app.js"))
    assert response.status_code == 204
    assert re.fullmatch(
        rf"request method=POST route=static status=204 ms=[0-9.]+ id={response['X-Request-ID']}",
        log_lines(caplog)[0],
    )


def test_the_notification_queues_and_their_lag_are_read_from_the_database(
    scraper, thread, alice, bob, settings
):
    settings.NOTIFY_DELAY = 0
    PushSubscription.objects.create(
        user=bob, endpoint="https://push.example/x", p256dh="x", auth="y"
    )
    WebhookEndpoint.objects.create(url="https://hooks.example.com/")
    services.message_send(thread=thread, sender=alice, text="one")
    services.message_send(thread=thread, sender=alice, text="two")
    PendingNotification.objects.update(due=timezone.now() - timedelta(seconds=30))
    samples = scrape(scraper)
    waiting = lambda queue: samples[("chat_notifications_waiting", (("queue", queue),))]  # noqa: E731
    lag = lambda queue: samples[("chat_notifications_lag_seconds", (("queue", queue),))]  # noqa: E731
    assert (waiting("outbox"), waiting("push"), waiting("webhook")) == (2, 0, 2)
    assert 30 <= lag("outbox") < 60
    assert lag("push") == 0
