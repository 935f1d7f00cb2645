"""ASGI entry point: Django over HTTP, and the chat's live events over WebSocket."""

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config.asgi_http import get_http_application

# Django must be set up (by the HTTP application) before the consumers and their models load.
http_application = get_http_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.auth import JWTQueryAuthMiddleware  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402


def origin_validator(application):
    """Channels' `AllowedHostsOriginValidator`, also accepting the front ends that
    `CORS_ALLOWED_ORIGINS` lets call the REST API: a socket's `Origin` names one of
    `ALLOWED_HOSTS` (any scheme and port) or exactly one of those origins."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return OriginValidator(application, [*allowed_hosts, *settings.CORS_ALLOWED_ORIGINS])


application = ProtocolTypeRouter(
    {
        "http": http_application,
        "websocket": origin_validator(JWTQueryAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far lives as long as the process: out of the garbage collector's reach, a
# full collection walks only the objects of requests, and its pause drops from ~30 ms to ~4 ms
# (bench/RESULTS.md).
gc.collect()
gc.freeze()
