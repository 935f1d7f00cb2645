"""A stand-in for a browser's Web Push service on 127.0.0.1, for end-to-end tests of our sender.

It hands out subscriptions shaped as a browser's `PushSubscription.toJSON()` and accepts a push
message only when every part of it is right, so that a sender cannot pass by accident:

- RFC 8030: a `TTL` of whole seconds, `Urgency` and `Topic` well formed when present, a body of at
  most 4096 octets (what Mozilla's, Google's and Apple's services take);
- RFC 8292: an `Authorization: vapid t=<JWT>,k=<key>` whose JWT is ES256-signed by `k`, for this
  origin, not expired nor more than 24 h ahead, with a `mailto:` or `https:` contact in `sub`
  (Apple's service insists on it); optionally `k` must be the key subscriptions were made with;
- RFC 8291: an `aes128gcm` body of one record, from the sender's P-256 key, that decrypts with the
  subscription's keys.

A real push service cannot read the body and answers 201 whatever it holds; the browser then drops
what it cannot decrypt without telling anyone. This one answers 400 instead, so that the test which
sent a broken message is the one that fails. Every refusal is kept in `failures` with its reason;
every accepted message in `received()`. Answers can be scripted per subscription (server errors,
gone subscriptions, a hang past the client's timeout) to test retries and clean-up.
"""

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# RFC 8030 §7.2 obliges a push service to take no more.
MAX_BODY_OCTETS = 4096
# RFC 8291 §4: salt (16), record size (4), key id length (1), key id: the sender's key (65).
KEY_ID_LENGTH_AT = 20
SENDER_KEY_OCTETS = 65
AES128GCM_HEADER_OCTETS = KEY_ID_LENGTH_AT + 1 + SENDER_KEY_OCTETS
# The smallest record: the padding delimiter and the AEAD tag.
MIN_RECORD_OCTETS = 17
MAX_VAPID_LIFETIME_SECONDS = 24 * 60 * 60
DIGITS = re.compile(r"[0-9]+")
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
# RFC 7235 auth-param: a token or a quoted string, with optional whitespace around `=`.
AUTH_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*("?)([A-Za-z0-9_.-]+)\2\s*')


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url (RFC 7515); ValueError for other characters, which `base64` skips."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError(f"not base64url: {text[:16]!r}")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def p256_public_key(raw: bytes) -> ec.EllipticCurvePublicKey:
    # Web Push sends keys uncompressed; cryptography would also take a compressed point.
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError("not an uncompressed P-256 point")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


@dataclass(frozen=True)
class Answer:
    """An answer to a push message that passed the checks: `status` after `delay` seconds."""

    status: int = 201
    retry_after: int | None = None
    delay: float = 0.0


# Longer than any client timeout in the tests; stop() cuts it short. The message is recorded as
# received, with status 201: a real service may deliver a message whose answer the sender missed.
HANG = Answer(delay=60.0)


@dataclass(frozen=True)
class Delivery:
    """A push message that passed the checks, and the status it was answered with."""

    endpoint: str
    plaintext: bytes
    payload: Any  # the plaintext parsed as JSON; None when it is not JSON
    ttl: int
    urgency: str | None
    topic: str | None
    vapid_claims: dict
    vapid_key: str
    status: int


@dataclass(frozen=True)
class Failure:
    """A push message refused: the status answered and why."""

    endpoint: str
    status: int
    reason: str


class Refused(Exception):
    """Raised by a check that a push message fails."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class _Subscription:
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes


class PushService:
    """A push service on a free port of 127.0.0.1; use it as a context manager or start()/stop().
    With `application_server_key` (base64url), every subscription is bound to that VAPID key as a
    browser binds one to its `applicationServerKey`, and a message signed by another is refused."""

    def __init__(self, *, application_server_key: str | None = None) -> None:
        self.application_server_key = application_server_key
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, service=self))
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        # The default poll interval, half a second, would be spent by every test at stop().
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._subscriptions: dict[str, _Subscription] = {}
        self._scripts: dict[str, deque[Answer]] = {}
        self._received: list[Delivery] = []
        self._failures: list[Failure] = []

    def start(self) -> "PushService":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> "PushService":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def subscribe(self) -> dict:
        """A new subscription, as `PushSubscription.toJSON()` gives it."""
        token = secrets.token_urlsafe(16)
        subscription = _Subscription(
            ec.generate_private_key(ec.SECP256R1()), secrets.token_bytes(16)
        )
        with self._changed:
            self._subscriptions[token] = subscription
        public_key = subscription.private_key.public_key()
        p256dh = public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {
            "endpoint": f"{self.origin}/push/{token}",
            "expirationTime": None,
            "keys": {
                "p256dh": b64url_encode(p256dh),
                "auth": b64url_encode(subscription.auth_secret),
            },
        }

    def respond(self, endpoint: str, answers: Iterable[int | Answer]) -> None:
        """Replaces the answers to the next messages to `endpoint` that pass the checks; once they
        are used up, the answer is 201 again."""
        script = deque(
            answer if isinstance(answer, Answer) else Answer(answer) for answer in answers
        )
        with self._changed:
            self._scripts[endpoint] = script

    def received(self, endpoint: str | None = None) -> list[Delivery]:
        """The messages that passed the checks, to `endpoint` or to any, oldest first."""
        with self._changed:
            return [each for each in self._received if endpoint in (None, each.endpoint)]

    @property
    def failures(self) -> list[Failure]:
        with self._changed:
            return list(self._failures)

    def wait_for(
        self, count: int, endpoint: str | None = None, timeout: float = 10.0
    ) -> list[Delivery]:
        """`received(endpoint)` once it holds `count` messages; TimeoutError if it does not
        within `timeout` seconds."""
        with self._changed:
            if self._changed.wait_for(lambda: len(self.received(endpoint)) >= count, timeout):
                return self.received(endpoint)
            raise TimeoutError(
                f"{len(self.received(endpoint))} of {count} push messages arrived in {timeout} s;"
                f" refused: {self._failures}"
            )

    def _answer(self, path: str, headers: HTTPMessage, body: bytes | None) -> tuple[Answer, str]:
        """The answer to a message posted to `path`, and the reason when it is refused."""
        try:
            return self._accept(path, headers, body), ""
        except Refused as refusal:
            with self._changed:
                self._failures.append(Failure(self.origin + path, refusal.status, refusal.reason))
                self._changed.notify_all()
            return Answer(refusal.status), refusal.reason

    def _accept(self, path: str, headers: HTTPMessage, body: bytes | None) -> Answer:
        """Records a message that passes every check, and answers as scripted; Refused if not."""
        endpoint = self.origin + path
        with self._changed:
            subscription = self._subscriptions.get(path.removeprefix("/push/"))
        if subscription is None:
            raise Refused(404, "no subscription at this endpoint")
        if body is None:
            raise Refused(411, "a push message needs a Content-Length")
        if len(body) > MAX_BODY_OCTETS:
            raise Refused(413, f"a body of {len(body)} octets, over {MAX_BODY_OCTETS}")
        ttl = headers.get("TTL")
        if ttl is None or not DIGITS.fullmatch(ttl):
            raise Refused(400, f"TTL must be a whole number of seconds, not {ttl!r}")
        urgency = headers.get("Urgency")
        if urgency is not None and urgency not in URGENCIES:
            raise Refused(400, f"Urgency must be one of {sorted(URGENCIES)}, not {urgency!r}")
        topic = headers.get("Topic")
        if topic is not None and not TOPIC.fullmatch(topic):
            raise Refused(400, f"Topic must be 1 to 32 base64url characters, not {topic!r}")
        encoding = headers.get("Content-Encoding")
        # Content codings are case-insensitive (RFC 9110 §8.4.1).
        if encoding is None or encoding.lower() != "aes128gcm":
            raise Refused(400, f"Content-Encoding must be aes128gcm, not {encoding!r}")
        claims, key = self._check_vapid(headers.get("Authorization"))
        plaintext = self._decrypt(subscription, body)
        try:
            payload = json.loads(plaintext)
        except ValueError:
            payload = None
        with self._changed:
            script = self._scripts.get(endpoint)
            answer = script.popleft() if script else Answer()
            self._received.append(
                Delivery(
                    endpoint,
                    plaintext,
                    payload,
                    int(ttl),
                    urgency,
                    topic,
                    claims,
                    key,
                    answer.status,
                )
            )
            self._changed.notify_all()
        return answer

    def _check_vapid(self, authorization: str | None) -> tuple[dict, str]:
        """The claims and key of a valid `vapid` authorization. As RFC 8292 §4.2 suggests, 401
        when it is absent or unreadable, 403 when it is invalid."""
        scheme, _, params = (authorization or "").partition(" ")
        if scheme.lower() != "vapid":
            # Among others, the `WebPush` scheme of the drafts, with its Crypto-Key header.
            raise Refused(401, f"Authorization must use the RFC 8292 vapid scheme, not {scheme!r}")
        values = {}
        for param in params.split(","):
            match = AUTH_PARAM.fullmatch(param)
            if match is None:
                raise Refused(401, f"unreadable Authorization parameter {param!r}")
            values[match[1].lower()] = match[3]
        if "t" not in values or "k" not in values:
            raise Refused(401, "Authorization needs both t=<JWT> and k=<public key>")
        token, key = values["t"], values["k"]
        try:
            signer = p256_public_key(b64url_decode(key))
        except ValueError as error:
            raise Refused(403, f"k is not a P-256 public key: {error}") from None
        expected = self.application_server_key
        if expected is not None and b64url_decode(key) != b64url_decode(expected):
            raise Refused(403, "k is not the key this subscription was created with")
        claims = self._verified_claims(token, signer)
        now = time.time()
        exp, sub = claims.get("exp"), claims.get("sub")
        if claims.get("aud") != self.origin:
            raise Refused(403, f"aud is {claims.get('aud')!r}, not this origin {self.origin}")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise Refused(403, f"exp must be a NumericDate, not {exp!r}")
        if exp <= now:
            raise Refused(403, f"the JWT expired {now - exp:.0f} s ago")
        if exp > now + MAX_VAPID_LIFETIME_SECONDS:
            raise Refused(403, "exp is more than 24 hours ahead")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise Refused(403, f"sub must be a mailto: or https: contact, not {sub!r}")
        return claims, key

    @staticmethod
    def _verified_claims(token: str, signer: ec.EllipticCurvePublicKey) -> dict:
        try:
            header_part, claims_part, signature_part = token.split(".")
            header = json.loads(b64url_decode(header_part))
            claims = json.loads(b64url_decode(claims_part))
            signature = b64url_decode(signature_part)
        except ValueError as error:
            raise Refused(403, f"t is not a JWT: {error}") from None
        if not isinstance(header, dict) or header.get("alg") != "ES256":
            raise Refused(403, f"the JWT must be signed with ES256, its header is {header!r}")
        if not isinstance(claims, dict):
            raise Refused(403, f"the JWT claims are not an object: {claims!r}")
        # JWS writes an ES256 signature as r and s, 32 octets each, not as DER.
        if len(signature) != 64:
            raise Refused(403, f"an ES256 signature has 64 octets, not {len(signature)}")
        der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
        try:
            signer.verify(der, f"{header_part}.{claims_part}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise Refused(403, "the JWT is not signed by k") from None
        return claims

    @staticmethod
    def _decrypt(subscription: _Subscription, body: bytes) -> bytes:
        # http_ece checks none of the shape: it takes several records, and "decrypts" a header
        # with no record after it to b"" without authenticating anything.
        if len(body) <= KEY_ID_LENGTH_AT or body[KEY_ID_LENGTH_AT] != SENDER_KEY_OCTETS:
            raise Refused(400, "the key id must be the sender's uncompressed P-256 key")
        if len(body) < AES128GCM_HEADER_OCTETS + MIN_RECORD_OCTETS:
            raise Refused(400, f"a body of {len(body)} octets has no room for header and record")
        if len(body) - AES128GCM_HEADER_OCTETS > int.from_bytes(body[16:20]):
            raise Refused(400, "RFC 8291 §4 allows one record; the record size is too small")
        try:
            return http_ece.decrypt(
                body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth_secret,
                version="aes128gcm",
            )
        except (http_ece.ECEException, ValueError) as error:
            raise Refused(
                400, f"the body does not decrypt with this subscription's keys: {error}"
            ) from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *args: Any, service: PushService, **kwargs: Any) -> None:
        self.service = service
        super().__init__(*args, **kwargs)

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length", "")
        body = self.rfile.read(int(length)) if DIGITS.fullmatch(length) else None
        if body is None:
            # An unread body would be taken for the next request on this connection.
            self.close_connection = True
        answer, reason = self.service._answer(self.path, self.headers, body)
        if answer.delay and self.service._stopping.wait(answer.delay):
            self.close_connection = True
            return
        text = reason.encode()
        self.send_response(answer.status)
        if answer.status == 201:
            self.send_header(
                "Location", f"{self.service.origin}/message/{secrets.token_urlsafe(8)}"
            )
            self.send_header("TTL", self.headers["TTL"])
        if answer.retry_after is not None:
            self.send_header("Retry-After", str(answer.retry_after))
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: refusals are in `failures`, with their reasons."""
