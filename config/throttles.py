"""Scoped rate limits (docs/API.md, "Rate limits"); rates come from `THROTTLE_*` settings.

They count in the default cache: Redis when `REDIS_URL` is set, so the limit holds across
worker processes, local memory otherwise.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ScopedRateThrottle(SimpleRateThrottle):
    """Counts per client IP; subclasses name the scope. Reads the rate on every request so that
    a changed setting (in tests, or a reload) takes effect."""

    scope = ""

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(ScopedRateThrottle):
    scope = "login"


class RegisterRateThrottle(ScopedRateThrottle):
    scope = "register"


class RefreshRateThrottle(ScopedRateThrottle):
    scope = "refresh"


class SendRateThrottle(ScopedRateThrottle):
    """Message posting, counted per user."""

    scope = "send"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class UploadRateThrottle(SendRateThrottle):
    """Attachment uploads, counted per user."""

    scope = "upload"
