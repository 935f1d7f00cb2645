"""Keeps every `/api/` error response JSON, whatever `DEBUG` says and whichever layer failed.

Django answers some errors with HTML pages before or after a view runs (a disallowed Host
header, DEBUG's technical pages, an unexpected exception); an API client gets the same
`{"detail": ...}` shape as for DRF's own errors instead. Installed first, so it sees them all.
"""

import logging

from django.http import JsonResponse
from django.utils.deprecation import MiddlewareMixin
from rest_framework import exceptions

logger = logging.getLogger(__name__)


# DRF's wording where DRF has one, so a client sees one message per status.
DETAILS = {
    400: "Bad request.",
    403: exceptions.PermissionDenied.default_detail,
    404: exceptions.NotFound.default_detail,
    500: "Internal server error.",
}


def is_api(request) -> bool:
    return request.path.startswith("/api/")


class JsonApiErrorsMiddleware(MiddlewareMixin):
    # MiddlewareMixin serves both sync and async requests: a sync-only middleware would make
    # Django's ASGI handler hop between the event loop and a thread twice more per request.

    def process_response(self, request, response):
        if (
            is_api(request)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            detail = DETAILS.get(response.status_code, response.reason_phrase)
            return JsonResponse({"detail": str(detail)}, status=response.status_code)
        return response

    def process_exception(self, request, exception):
        if not is_api(request):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": DETAILS[500]}, status=500)
