"""Middleware of our own, both sync and async so that neither forces Django's ASGI handler to
hand each request between the event loop and a thread.

- `JsonApiErrorsMiddleware` keeps every `/api/` error response JSON, whatever `DEBUG` says and
  whichever layer failed: Django answers some errors with HTML pages before or after a view runs
  (a disallowed Host header, DEBUG's technical pages, an unexpected exception); an API client
  gets the same `{"detail": ...}` shape as for DRF's own errors instead. Installed first.
- `StaticFilesMiddleware` is WhiteNoise's, usable in async mode. WhiteNoise's own middleware is
  sync-only, and one sync-only middleware in the chain cost every request under ASGI about 40 %
  of `/healthz` throughput (441 against 700 req/s on one worker; bench/ANALYSIS.md).
"""

import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import JsonResponse
from rest_framework import exceptions
from whitenoise.middleware import WhiteNoiseMiddleware

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


class HybridMiddleware:
    """A middleware that runs in the mode of the handler it wraps (Django's "sync and async
    middleware" pattern); subclasses implement `handle(request, response)`."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self.handle(request, self.get_response(request))

    async def _acall(self, request):
        return self.handle(request, await self.get_response(request))


class JsonApiErrorsMiddleware(HybridMiddleware):
    def handle(self, request, response):
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


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, **kwargs):
        super().__init__(get_response, **kwargs)
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request):
        static_file = (
            self.find_file(request.path_info)
            if self.autorefresh
            else self.files.get(request.path_info)
        )
        if static_file is not None:
            return self.serve(static_file, request)
        return await self.get_response(request)
