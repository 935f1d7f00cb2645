"""The push-service stand-in is strict and right: a message made as a sender makes it (http_ece,
py_vapid) is received decrypted, and each way of getting one wrong is refused for its own reason."""

import json
import threading
import time
from urllib.parse import urlsplit

import http_ece
import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid01, Vapid02, jwt

from tests.push_service import HANG, Answer, PushService, b64url_decode, b64url_encode

MESSAGE = {"type": "message.created", "thread": 7, "text": "hello"}


def application_server() -> Vapid02:
    """A VAPID signer made as our settings hold its key: the base64url private scalar."""
    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    # py_vapid wants the base64url as bytes; a str fails inside it with a TypeError.
    return Vapid02.from_raw(b64url_encode(scalar.to_bytes(32, "big")).encode())


def public_key_of(signer: Vapid02) -> str:
    return b64url_encode(
        signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )


SENDER = application_server()
STRANGER = application_server()


def origin_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def claims_for(endpoint: str, **changes) -> dict:
    """Valid claims for `endpoint`, with `changes`; a change to None drops the claim."""
    claims = {
        "aud": origin_of(endpoint),
        "exp": int(time.time()) + 12 * 3600,
        "sub": "mailto:ops@example.com",
    }
    return {name: value for name, value in (claims | changes).items() if value is not None}


def encrypt_for(subscription: dict, plaintext: bytes, **options) -> bytes:
    """`plaintext` encrypted for `subscription` as a sender does (RFC 8291), from a fresh key."""
    return http_ece.encrypt(
        plaintext,
        private_key=ec.generate_private_key(ec.SECP256R1()),
        dh=b64url_decode(subscription["keys"]["p256dh"]),
        auth_secret=b64url_decode(subscription["keys"]["auth"]),
        version="aes128gcm",
        **options,
    )


def post(
    subscription: dict, body: bytes | None = None, headers: dict | None = None, timeout: float = 5
) -> requests.Response:
    """Posts `body` (MESSAGE encrypted for `subscription` by default) with the headers a sender
    sends, changed by `headers`; a header set to None is left out."""
    endpoint = subscription["endpoint"]
    sent = {
        "TTL": "60",
        "Content-Encoding": "aes128gcm",
        "Authorization": SENDER.sign(claims_for(endpoint))["Authorization"],
    } | (headers or {})
    if body is None:
        body = encrypt_for(subscription, json.dumps(MESSAGE).encode())
    return requests.post(
        endpoint,
        data=body,
        headers={name: value for name, value in sent.items() if value is not None},
        timeout=timeout,
    )


def assert_refused(
    service: PushService, response: requests.Response, status: int, reason: str
) -> None:
    """`response` is a refusal with `status`, recorded once for `reason`; nothing was received."""
    assert response.status_code == status, response.text
    [failure] = service.failures
    assert failure.status == status
    assert reason in failure.reason
    assert service.received() == []


@pytest.fixture
def service():
    with PushService() as push_service:
        yield push_service


@pytest.fixture
def subscription(service):
    return service.subscribe()


def test_a_subscription_is_shaped_as_a_browser_gives_it(service, subscription):
    assert subscription["endpoint"].startswith(f"{service.origin}/push/")
    p256dh = b64url_decode(subscription["keys"]["p256dh"])
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    assert (len(p256dh), p256dh[0]) == (65, 4)
    assert len(b64url_decode(subscription["keys"]["auth"])) == 16
    assert "=" not in subscription["keys"]["p256dh"] + subscription["keys"]["auth"]
    assert service.subscribe()["endpoint"] != subscription["endpoint"]


def test_a_message_sent_as_a_sender_does_is_received_decrypted(service, subscription):
    response = post(subscription, headers={"Urgency": "high", "Topic": "thread-7_new"})

    assert response.status_code == 201, response.text
    assert response.headers["Location"].startswith(f"{service.origin}/message/")
    assert response.headers["TTL"] == "60"
    [delivery] = service.received(subscription["endpoint"])
    assert delivery.payload == MESSAGE
    assert delivery.plaintext == json.dumps(MESSAGE).encode()
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (60, "high", "thread-7_new")
    assert delivery.vapid_claims["aud"] == service.origin
    assert delivery.vapid_claims["sub"] == "mailto:ops@example.com"
    assert delivery.vapid_key == public_key_of(SENDER)
    assert delivery.status == 201
    assert service.received(service.subscribe()["endpoint"]) == []
    assert service.failures == []


def test_a_plaintext_that_is_not_json_is_kept_as_bytes(service, subscription):
    response = post(subscription, encrypt_for(subscription, b"\xffnot json"), headers={"TTL": "0"})

    assert response.status_code == 201, response.text
    [delivery] = service.received()
    assert (delivery.plaintext, delivery.payload) == (b"\xffnot json", None)
    assert (delivery.ttl, delivery.urgency, delivery.topic) == (0, None, None)


def test_a_body_for_another_subscription_is_refused(service, subscription):
    response = post(subscription, encrypt_for(service.subscribe(), b"{}"))

    assert_refused(service, response, 400, "does not decrypt")


def test_a_body_with_another_auth_secret_is_refused(service, subscription):
    wrong_auth = {
        **subscription,
        "keys": {**subscription["keys"], "auth": b64url_encode(bytes(16))},
    }

    response = post(subscription, encrypt_for(wrong_auth, b"{}"))

    assert_refused(service, response, 400, "does not decrypt")


def test_a_body_of_no_record_is_refused(service, subscription):
    # http_ece writes no record for an empty plaintext, and would "decrypt" this under any keys.
    response = post(subscription, encrypt_for(subscription, b""))

    assert_refused(service, response, 400, "no room for header and record")


def test_a_body_from_a_compressed_sender_key_is_refused(service, subscription):
    body = encrypt_for(subscription, b"{}")
    sender_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), body[21:86])
    compressed = sender_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)

    response = post(subscription, body[:20] + bytes([len(compressed)]) + compressed + body[86:])

    assert_refused(service, response, 400, "uncompressed P-256")


def test_a_body_of_several_records_is_refused(service, subscription):
    response = post(subscription, encrypt_for(subscription, b"x" * 300, rs=100))

    assert_refused(service, response, 400, "one record")


def test_3993_octets_of_plaintext_are_taken_and_3994_are_too_many(service, subscription):
    assert post(subscription, encrypt_for(subscription, b"x" * 3993)).status_code == 201

    response = post(subscription, encrypt_for(subscription, b"x" * 3994))

    assert response.status_code == 413
    assert [failure.status for failure in service.failures] == [413]
    assert [delivery.plaintext for delivery in service.received()] == [b"x" * 3993]


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({"TTL": None}, 400, "TTL"),
        ({"TTL": "-1"}, 400, "TTL"),
        ({"TTL": "1.5"}, 400, "TTL"),
        ({"Content-Encoding": None}, 400, "Content-Encoding"),
        ({"Content-Encoding": "aesgcm"}, 400, "Content-Encoding"),
        ({"Urgency": "urgent"}, 400, "Urgency"),
        ({"Topic": "t" * 33}, 400, "Topic"),
        ({"Topic": "a+b"}, 400, "Topic"),
        ({"Authorization": None}, 401, "vapid scheme"),
        ({"Authorization": "Bearer abc"}, 401, "vapid scheme"),
        ({"Authorization": "vapid t=abc"}, 401, "both"),
        ({"Authorization": "vapid t abc k"}, 401, "unreadable"),
        ({"Authorization": f"vapid t=a.b.c,k={public_key_of(SENDER)}="}, 401, "unreadable"),
        ({"Authorization": f"vapid t=a.b.c,k={public_key_of(SENDER)}"}, 403, "not a JWT"),
        ({"Authorization": "vapid t=a.b.c,k=AAAA"}, 403, "not a P-256 public key"),
        ({"Authorization": f"vapid t=a.b.c,k={public_key_of(SENDER)}."}, 403, "not base64url"),
    ],
)
def test_a_malformed_request_is_refused(service, subscription, headers, status, reason):
    assert_refused(service, post(subscription, headers=headers), status, reason)


def test_the_webpush_scheme_of_the_vapid_drafts_is_refused(service, subscription):
    draft_headers = Vapid01(SENDER.private_key).sign(claims_for(subscription["endpoint"]))

    assert_refused(service, post(subscription, headers=draft_headers), 401, "vapid scheme")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "http://127.0.0.1:1"}, "not this origin"),
        ({"aud": "https://fcm.googleapis.com"}, "not this origin"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"exp": int(time.time()) + 25 * 3600}, "more than 24 hours"),
        ({"exp": "tomorrow"}, "NumericDate"),
        ({"sub": None}, "sub"),
        ({"sub": "ops@example.com"}, "sub"),
    ],
)
def test_a_token_with_wrong_claims_is_refused(service, subscription, changes, reason):
    token = jwt.sign(claims_for(subscription["endpoint"], **changes), SENDER.private_key)
    authorization = f"vapid t={token},k={public_key_of(SENDER)}"

    assert_refused(
        service, post(subscription, headers={"Authorization": authorization}), 403, reason
    )


def test_a_token_not_signed_by_k_is_refused(service, subscription):
    token = jwt.sign(claims_for(subscription["endpoint"]), STRANGER.private_key)
    authorization = f"vapid t={token},k={public_key_of(SENDER)}"

    assert_refused(
        service,
        post(subscription, headers={"Authorization": authorization}),
        403,
        "not signed by k",
    )


def test_an_unsigned_token_is_refused(service, subscription):
    header = b64url_encode(b'{"typ":"JWT","alg":"none"}')
    claims = b64url_encode(json.dumps(claims_for(subscription["endpoint"])).encode())
    authorization = f"vapid t={header}.{claims}.,k={public_key_of(SENDER)}"

    response = post(subscription, headers={"Authorization": authorization})

    assert_refused(service, response, 403, "ES256")


@pytest.mark.parametrize("algorithm", ["none", "HS256", "ES384"])
def test_a_token_whose_header_names_another_algorithm_is_refused(service, subscription, algorithm):
    header = b64url_encode(json.dumps({"typ": "JWT", "alg": algorithm}).encode())
    claims = b64url_encode(json.dumps(claims_for(subscription["endpoint"])).encode())
    signing_input = f"{header}.{claims}"
    der = SENDER.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    authorization = f"vapid t={signing_input}.{signature},k={public_key_of(SENDER)}"

    response = post(subscription, headers={"Authorization": authorization})

    assert_refused(service, response, 403, "signed with ES256")


def test_a_subscription_bound_to_a_key_refuses_any_other():
    with PushService(application_server_key=public_key_of(STRANGER)) as service:
        subscription = service.subscribe()
        by_stranger = STRANGER.sign(claims_for(subscription["endpoint"]))

        accepted = post(subscription, headers=by_stranger)
        refused = post(subscription)

        assert (accepted.status_code, refused.status_code) == (201, 403)
        assert [failure.reason for failure in service.failures] == [
            "k is not the key this subscription was created with"
        ]
        assert [delivery.vapid_key for delivery in service.received()] == [public_key_of(STRANGER)]


def test_an_unknown_endpoint_is_not_found(service):
    response = post(
        {"endpoint": f"{service.origin}/push/forgotten", "keys": service.subscribe()["keys"]}
    )

    assert_refused(service, response, 404, "no subscription")


def test_scripted_answers_come_in_order_then_201(service, subscription):
    other = service.subscribe()
    service.respond(subscription["endpoint"], [500, Answer(503, retry_after=7), 410])

    responses = [post(subscription) for _ in range(4)]

    assert [response.status_code for response in responses] == [500, 503, 410, 201]
    assert responses[1].headers["Retry-After"] == "7"
    assert "Retry-After" not in responses[0].headers
    assert [delivery.status for delivery in service.received()] == [500, 503, 410, 201]
    assert post(other).status_code == 201
    assert service.failures == []


def test_a_hang_outlasts_the_clients_timeout_until_stop_cuts_it_short():
    threads_before = set(threading.enumerate())
    with PushService() as service:
        subscription = service.subscribe()
        service.respond(subscription["endpoint"], [HANG])

        with pytest.raises(requests.ReadTimeout):
            post(subscription, timeout=0.3)
        assert post(subscription).status_code == 201
        assert [delivery.status for delivery in service.received()] == [201, 201]

    deadline = time.monotonic() + 2
    while set(threading.enumerate()) - threads_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(threading.enumerate()) - threads_before == set()


def test_wait_for_waits_for_messages_still_on_their_way(service, subscription):
    sender = threading.Timer(0.1, lambda: [post(subscription) for _ in range(2)])
    sender.start()

    deliveries = service.wait_for(2, subscription["endpoint"], timeout=5)

    sender.join()
    assert [delivery.payload for delivery in deliveries] == [MESSAGE, MESSAGE]


def test_wait_for_gives_up_after_its_timeout_and_says_what_was_refused(service, subscription):
    post(subscription, headers={"TTL": None})

    with pytest.raises(
        TimeoutError, match=r"0 of 1 push messages arrived in 0.1 s; refused: .*TTL"
    ):
        service.wait_for(1, timeout=0.1)
