"""Web Push, the sending side: VAPID keys (RFC 8292), message encryption (RFC 8291) and the
request to a browser's push service (RFC 8030), and which endpoints a user may give us.

Built on http_ece and py_vapid, the two libraries pywebpush itself uses, rather than pywebpush:
we make the request ourselves with requests, so that it follows no redirect (a push service
never answers with one, and following it would undo the address check) and has one timeout,
and the service does not carry pywebpush's aiohttp for an asynchronous path it never takes.

Endpoints must be https URLs whose host resolves only to public addresses: a subscription is
the one place where a user names a URL that the server then requests, and without the check
anyone could make it POST to its own network (SSRF). The check runs when a subscription is
saved and again before each request (a name can change what it points to).
`PUSH_ALLOW_PRIVATE_ENDPOINTS` lifts it, for development and tests.
"""

import base64
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

import http_ece
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from py_vapid import Vapid02, b64urlencode

# How long a push service keeps a notification for a browser that is offline: a day, after
# which a chat notification is stale.
TIME_TO_LIVE = 24 * 3600
# VAPID tokens are valid for at most 24 hours (RFC 8292); a new one is signed per request.
VAPID_TOKEN_SECONDS = 12 * 3600


_local = threading.local()


def http_session() -> requests.Session:
    """This thread's session: its connections stay open between requests to the same push
    service (most browsers' subscriptions are at two or three of them), so that a push does not
    pay a new TCP and TLS handshake each time. One per thread: a session is not thread-safe."""
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        # No cookies: nothing one receiver sets travels with later requests.
        _local.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return _local.session


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@cache
def _vapid(private_key: str) -> Vapid02:
    try:
        vapid = Vapid02.from_raw(private_key.encode())
        vapid.public_key  # noqa: B018 - derives it, failing here for a key that is no key
    except Exception as error:
        raise ImproperlyConfigured(
            "VAPID_PRIVATE_KEY is not a P-256 private key in base64url (32 bytes). Delete the "
            "line from .env and run `make run` (or `python3 config/envfile.py`) for a new one."
        ) from error
    return vapid


def configured() -> bool:
    return bool(settings.VAPID_PRIVATE_KEY)


def vapid() -> Vapid02:
    return _vapid(settings.VAPID_PRIVATE_KEY)


def public_key() -> str:
    """The application server key browsers subscribe with: the uncompressed P-256 point."""
    return b64urlencode(
        vapid().public_key.public_bytes(
            encoding=serialization.Encoding.X962,
            format=serialization.PublicFormat.UncompressedPoint,
        )
    )


class EndpointRefused(ValueError):
    """An endpoint we do not send to; the message says why, for the user. `for_now`: its host
    did not resolve, which may pass (at delivery, a reason to retry, not to drop the browser)."""

    def __init__(self, message: str, *, for_now: bool = False):
        super().__init__(message)
        self.for_now = for_now


def refuse_unless_public(endpoint: str) -> None:
    """EndpointRefused unless `endpoint` is an https URL whose host resolves only to public
    addresses (any http(s) URL with `PUSH_ALLOW_PRIVATE_ENDPOINTS`)."""
    parts = urlsplit(endpoint)
    allow_private = settings.PUSH_ALLOW_PRIVATE_ENDPOINTS
    if parts.scheme not in ({"https", "http"} if allow_private else {"https"}):
        raise EndpointRefused("The endpoint must be an https URL.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise EndpointRefused("The endpoint's port is not a number from 0 to 65535.") from None
    if not host or parts.username is not None or parts.password is not None:
        raise EndpointRefused("The endpoint must be a URL with a host and no user name.")
    if allow_private:
        return
    try:
        addresses = _addresses(host, port or 443, int(time.monotonic() // RESOLVED_FOR))
    except (OSError, UnicodeError):
        raise EndpointRefused(
            f"The endpoint's host {host} could not be resolved.", for_now=True
        ) from None
    if not all(ipaddress.ip_address(address.split("%")[0]).is_global for address in addresses):
        raise EndpointRefused("The endpoint must be on a public address.")


# Seconds a host's addresses are remembered: most subscriptions are at a few push services,
# and a DNS lookup before each push would add its round trip to every one.
RESOLVED_FOR = 60


@lru_cache(maxsize=1024)
def _addresses(host: str, port: int, period: int) -> frozenset[str]:
    """The addresses `host` resolves to in this `period` (a new one every RESOLVED_FOR seconds).
    A failure raises, and so is not remembered: the next push asks again."""
    return frozenset(
        info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    )


def refuse_unless_valid_keys(p256dh: str, auth: str) -> None:
    """EndpointRefused unless the browser's keys are a P-256 point and a 16-byte secret."""
    try:
        point = _b64decode(p256dh)
        # Uncompressed, as browsers give it (cryptography would take a compressed one too).
        if len(point) != 65 or point[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        raise EndpointRefused("keys.p256dh must be a P-256 public key in base64url.") from None
    try:
        secret = _b64decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise EndpointRefused("keys.auth must be 16 bytes in base64url.")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one push: delivered, `gone` (the subscription no longer exists: drop it),
    or failed, and then whether a later attempt may succeed (`retry`, after `retry_after`
    seconds if the service said)."""

    delivered: bool = False
    gone: bool = False
    retry: bool = False
    retry_after: float | None = None
    detail: str = ""


def encrypt(payload: bytes, *, p256dh: str, auth: str) -> bytes:
    """`payload` encrypted for one browser (RFC 8291, aes128gcm), with a key pair of its own."""
    return http_ece.encrypt(
        payload,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=_b64decode(p256dh),
        auth_secret=_b64decode(auth),
        version="aes128gcm",
    )


def send(*, endpoint: str, p256dh: str, auth: str, payload: bytes, topic: str) -> Outcome:
    """POST `payload` to one subscription; never raises for what the network or the push
    service does. `topic` lets the push service replace a notification of the same topic that it
    still holds for an offline browser (RFC 8030 5.4): one per thread."""
    try:
        refuse_unless_public(endpoint)
    except EndpointRefused as refused:
        # Private now (a name can change what it points to): never sent to; drop it. Not
        # resolving may pass: try again later.
        return Outcome(gone=not refused.for_now, retry=refused.for_now, detail=str(refused))
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    headers = {
        "TTL": str(TIME_TO_LIVE),
        "Urgency": "normal",
        "Topic": topic,
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        **vapid().sign(
            {
                "aud": origin,
                "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
                "sub": settings.VAPID_SUBJECT,
            }
        ),
    }
    try:
        body = encrypt(payload, p256dh=p256dh, auth=auth)
    except (ValueError, TypeError) as error:  # keys checked when saved; a row changed since
        return Outcome(gone=True, detail=f"The subscription's keys are unusable: {error}")
    try:
        response = http_session().post(
            endpoint,
            data=body,
            headers=headers,
            timeout=settings.PUSH_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return Outcome(retry=True, detail=f"{type(error).__name__}: {error}"[:300])
    return outcome_of(response.status_code, response.headers.get("Retry-After"))


def outcome_of(status: int, retry_after: str | None = None) -> Outcome:
    if 200 <= status < 300:
        return Outcome(delivered=True)
    detail = f"HTTP {status}"
    if status in (404, 410):
        return Outcome(gone=True, detail=detail)
    if status == 429 or status >= 500:
        return Outcome(retry=True, retry_after=seconds(retry_after), detail=detail)
    # 400 (a request we built wrong), 401/403 (our VAPID key), 413 (too large): retrying the same
    # request gets the same answer.
    return Outcome(detail=detail)


def seconds(retry_after: str | None) -> float | None:
    """A Retry-After in seconds (the HTTP-date form is not used by push services)."""
    try:
        return max(0.0, float(retry_after)) if retry_after else None
    except ValueError:
        return None


def payload_of(*, thread_id: int, sender: dict, count: int, preview: str) -> bytes:
    """The notification as the service worker reads it (docs/API.md)."""
    return json.dumps(
        {"thread": thread_id, "sender": sender, "count": count, "preview": preview},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
