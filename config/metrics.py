"""What an operator watches: `/metrics` for Prometheus, and one log line per request.

The metrics (prometheus_client, the Prometheus project's own Python client):

- `chat_http_request_duration_seconds{method, route, status}`: a histogram of the time each HTTP
  request spent in Django, from the first middleware to the response. `route` is the URL
  pattern's template (`/api/threads/<int:thread_id>/messages/`), never the path: ids in it would
  make a series per thread.
- `chat_websockets_open`: the WebSockets open in each process that serves them (one series per
  living process, labelled `pid`, under `make serve`).
- `chat_events_published_total{type}` and `chat_events_failed_total{type}`: live events handed to
  the channel layer, one per receiving user, and those lost because it failed
  (`chat.events.send_to_users`).
- `chat_notifications_waiting{queue}` and `chat_notifications_lag_seconds{queue}`: what the
  notification worker has yet to do, read from the database at each scrape, so the same from any
  process: rows due or not in the outbox (`queue="outbox"`), pushes (`push`) and webhook calls
  (`webhook`) on their way, and how long the oldest of each that is due has been due. A lag that
  grows means the worker is down or cannot keep up.

Under `make serve` with `REDIS_URL`, each gunicorn worker and each uvicorn process writes its
figures to memory-mapped files in `PROMETHEUS_MULTIPROC_DIR` (`.run/<port>/metrics/`, emptied at
each start), and whichever worker answers `/metrics` sums the files of all of them (the library's
multiprocess mode). Without that variable (one process: `manage.py runserver`, or `make serve`
without Redis) `/metrics` shows that process's own figures, with its CPU and memory as well.

`/metrics` answers only the addresses in `METRICS_ALLOWED` (none by default, so a 403 for every
client); nginx applies the same list on the public port (deploy/nginx/chat-locations.conf).

`RequestLogMiddleware`, first in the chain, times every request and logs one line for it:
`request method=GET route=/api/threads/ status=200 ms=2.1 id=<request id>`, the id being the one
nginx passes on in `X-Request-ID` (and writes into its own access log), or a new one where no
proxy is declared; the response carries it back in `X-Request-ID`. The line has no query string,
nor the path itself: tokens travel in a WebSocket's query string, and nginx's access log has the
path under the same id.
"""

import ipaddress
import logging
import os
import re
import secrets
import time
from functools import cache

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger("chat.requests")

REQUEST_SECONDS = Histogram(
    "chat_http_request_duration_seconds",
    "Time an HTTP request spent in Django, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "chat_events_published",
    "Live events handed to the channel layer, one per receiving user, by event type.",
    ["type"],
)
EVENTS_FAILED = Counter(
    "chat_events_failed",
    "Live events not delivered because the channel layer failed, by event type.",
    ["type"],
)


@cache
def open_sockets() -> Gauge:
    """The gauge of open WebSockets, made when `chat.consumers` loads: only the processes that
    serve sockets report it (gunicorn's workers never load the consumers). `liveall`: one series
    per living process; the supervisor removes a dead uvicorn's (`manage.py serve`)."""
    return Gauge(
        "chat_websockets_open",
        "WebSockets open in this process.",
        multiprocess_mode="liveall",
    )


def count_events(deliveries: list[tuple[int, dict]], *, failed: bool = False) -> None:
    counter = EVENTS_FAILED if failed else EVENTS_PUBLISHED
    for _, event in deliveries:
        counter.labels(event["type"]).inc()


class NotificationQueues:
    """The notification worker's backlog, read from the database when `/metrics` is scraped."""

    def collect(self):
        from notifications.models import PendingNotification, PushDelivery, WebhookDelivery

        waiting = GaugeMetricFamily(
            "chat_notifications_waiting",
            "Rows the notification worker has yet to handle.",
            labels=["queue"],
        )
        lag = GaugeMetricFamily(
            "chat_notifications_lag_seconds",
            "How long the oldest due row of each queue has been due (0: none is).",
            labels=["queue"],
        )
        now = timezone.now()
        try:
            for queue, rows, due_field in (
                ("outbox", PendingNotification.objects.all(), "due"),
                ("push", PushDelivery.objects.all(), "next_attempt"),
                (
                    "webhook",
                    WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING),
                    "next_attempt",
                ),
            ):
                figures = rows.aggregate(count=Count("pk"), oldest=Min(due_field))
                waiting.add_metric([queue], figures["count"])
                oldest = figures["oldest"]
                lag.add_metric([queue], max(0.0, (now - oldest).total_seconds()) if oldest else 0)
        except DatabaseError:
            # The database is away: the other figures, which say how, are still served.
            logger.warning("/metrics: the notification queues could not be read.", exc_info=True)
            return
        yield waiting
        yield lag


@cache
def registry() -> CollectorRegistry:
    """Every process's figures summed (multiprocess mode), or this process's own, with the
    notification queues read from the database."""
    collected = CollectorRegistry()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        MultiProcessCollector(collected, path=directory)
    else:
        collected.register(ThisProcess())
    collected.register(NotificationQueues())
    return collected


class ThisProcess:
    """The default registry's figures (this process's), read through: the default registry
    itself stays free of the database queries of `NotificationQueues`."""

    def collect(self):
        return REGISTRY.collect()


def client_address(request) -> str:
    """The client's address as the rate limits see it: with `NUM_PROXIES` set, the one the
    nearest proxy appended to X-Forwarded-For (nginx, in `make serve`), else the connection's."""
    return BaseThrottle().get_ident(request)


def client_allowed(request) -> bool:
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED)


@require_safe
def metrics_view(request):
    if not client_allowed(request):
        raise PermissionDenied("/metrics answers only the addresses in METRICS_ALLOWED.")
    encoder, content_type = choose_encoder(request.META.get("HTTP_ACCEPT", ""))
    return HttpResponse(encoder(registry()), content_type=content_type)


# nginx's $request_id is 32 hex digits; other proxies' ids are often UUIDs. Anything else (a
# forged header with a line break, say) is replaced, so the log line stays one line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestLogMiddleware:
    """Times each request into `chat_http_request_duration_seconds` and logs one line for it.
    Sync and async, like `config.middleware.HybridMiddleware`, so that it costs no thread hop
    under ASGI; installed first, so that it times the whole chain and sees the final status."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        # Only a declared proxy's header is trusted: without one, a client would pick its id.
        self.trust_request_id = settings.REST_FRAMEWORK.get("NUM_PROXIES", 0) > 0
        self.static_prefix = settings.STATIC_URL
        # (method, route, status) -> the histogram's child: `labels()` costs more than observing.
        self.series = {}
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        started = time.perf_counter()
        request_id = self.request_id(request)
        response = self.get_response(request)
        self.record(request, response, request_id, started)
        return response

    async def _acall(self, request):
        started = time.perf_counter()
        request_id = self.request_id(request)
        response = await self.get_response(request)
        self.record(request, response, request_id, started)
        return response

    def request_id(self, request) -> str:
        given = request.META.get("HTTP_X_REQUEST_ID") if self.trust_request_id else None
        if given and REQUEST_ID.fullmatch(given):
            return given
        return secrets.token_hex(16)

    def record(self, request, response, request_id: str, started: float) -> None:
        seconds = time.perf_counter() - started
        match = request.resolver_match
        if match is not None:
            route = "/" + match.route
        elif request.path.startswith(self.static_prefix):
            route = "static"  # WhiteNoise's files, answered before URL resolution
        else:
            route = "unmatched"
        method = request.method if request.method in METHODS else "other"
        status = response.status_code
        key = (method, route, status)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = REQUEST_SECONDS.labels(method, route, str(status))
        series.observe(seconds)
        response["X-Request-ID"] = request_id
        logger.info(
            "request method=%s route=%s status=%d ms=%.1f id=%s",
            method,
            route,
            status,
            seconds * 1000,
            request_id,
        )
