"""Keeps every `/api/` response JSON, even for an unexpected error and whatever `DEBUG` says."""

import logging

from django.http import JsonResponse
from django.utils.deprecation import MiddlewareMixin

logger = logging.getLogger(__name__)


class JsonApiErrorsMiddleware(MiddlewareMixin):
    # MiddlewareMixin serves both sync and async requests: a sync-only middleware would make
    # Django's ASGI handler hop between the event loop and a thread twice more per request.

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error."}, status=500)
