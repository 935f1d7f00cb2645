"""The web chat client: one HTML page at `/`; its scripts and styles are static files, and so
is its service worker, served at `/sw.js` as well.

The page runs no inline script or style, so it is served with a strict Content-Security-Policy:
everything comes from this origin, and the only other connection is the WebSocket to this host.
Images in messages come from this origin too (their links are signed, see docs/API.md). The page
carries the largest file the server takes, so the client says it before anything is uploaded.
"""

from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "web" / "sw.js"


def content_security_policy(host: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@require_safe
def index(request):
    context = {"attachment_max_bytes": settings.ATTACHMENT_MAX_BYTES}
    response = render(request, "web/index.html", context)
    response["Content-Security-Policy"] = content_security_policy(request.get_host())
    return response


@require_safe
def service_worker(request):
    """The service worker (static/web/sw.js), which shows push notifications. A worker controls
    only the pages under the path its script is served from, and the page is at `/`: hence
    `/sw.js`, from Django. Under /static/ it would need a `Service-Worker-Allowed: /` header, and
    nginx serves /static/ without the application (deploy/nginx).

    Never cached, so that browsers see a new version at once; it fetches nothing, so its own
    Content-Security-Policy allows nothing."""
    response = HttpResponse(
        SERVICE_WORKER.read_bytes(), content_type="text/javascript; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
