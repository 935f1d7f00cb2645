"""The web chat client: one HTML page at `/`; its scripts and styles are static files.

The page runs no inline script or style, so it is served with a strict Content-Security-Policy:
everything comes from this origin, and the only other connection is the WebSocket to this host.
Images in messages come from this origin too (their links are signed, see docs/API.md). The page
carries the largest file the server takes, so the client says it before anything is uploaded.
"""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe


def content_security_policy(host: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "img-src 'self' data:",
            "style-src 'self'",
            "script-src 'self'",
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
