"""Keeps every `/api/` response JSON, even for an unexpected error and whatever `DEBUG` says."""

import logging

from django.http import JsonResponse

logger = logging.getLogger(__name__)


class JsonApiErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse({"detail": "Internal server error."}, status=500)
