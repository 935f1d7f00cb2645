"""The push API: the server's key, and subscriptions (docs/API.md, "Notifications")."""

import base64
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat import services
from notifications.apps import vapid_key_is_a_key
from notifications.models import PendingNotification, PushSubscription
from notifications.services import MAX_BROWSERS

KEY_URL = "/api/push/key/"
URL = "/api/push/subscriptions/"


def browser_keys() -> dict:
    """Keys as a browser makes them: an uncompressed P-256 point and a 16-byte secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return {"p256dh": encode(point), "auth": encode(b"0123456789abcdef")}


def subscription(endpoint="https://8.8.8.8/push/abc", **keys) -> dict:
    return {"endpoint": endpoint, "keys": browser_keys() | keys}


def test_the_key_is_the_public_half_of_the_configured_private_key(client_for, alice, settings):
    private = ec.derive_private_key(
        int.from_bytes(base64.urlsafe_b64decode(settings.VAPID_PRIVATE_KEY + "=")), ec.SECP256R1()
    )
    expected = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    response = client_for(alice).get(KEY_URL)
    assert response.status_code == 200
    key = response.json()["public_key"]
    assert "=" not in key
    assert base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)) == expected


def test_without_a_key_push_is_off_and_says_so(client_for, alice, bob, thread, settings):
    settings.VAPID_PRIVATE_KEY = ""
    response = client_for(alice).get(KEY_URL)
    assert response.status_code == 503
    assert "VAPID_PRIVATE_KEY" in response.json()["detail"]
    assert client_for(alice).post(URL, subscription(), format="json").status_code == 503
    # A browser subscribed while push was on queues nothing that no one would send.
    PushSubscription.objects.create(user=bob, endpoint="https://8.8.8.8/x", p256dh="x", auth="y")
    services.message_send(thread=thread, sender=alice, text="hi")
    assert not PendingNotification.objects.exists()


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_callers_are_refused(anon_client, method):
    url = KEY_URL if method == "get" else URL
    assert getattr(anon_client, method)(url).status_code == 401


def test_subscribing_is_created_then_known(client_for, alice):
    client = client_for(alice)
    body = subscription()
    assert client.post(URL, body, format="json").status_code == 201
    # The browser renewing its keys: the same endpoint, updated.
    renewed = subscription(**browser_keys())
    assert client.post(URL, renewed, format="json").status_code == 200
    row = PushSubscription.objects.get()
    assert (row.user, row.endpoint, row.p256dh) == (
        alice,
        body["endpoint"],
        renewed["keys"]["p256dh"],
    )


def test_an_endpoint_subscribed_by_another_user_moves_to_them(client_for, alice, bob):
    body = subscription()
    client_for(alice).post(URL, body, format="json")
    assert client_for(bob).post(URL, body, format="json").status_code == 201
    assert list(PushSubscription.objects.values_list("user__username", flat=True)) == ["bob"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://8.8.8.8/push",  # not https
        "https://127.0.0.1/push",
        "https://10.1.2.3/push",
        "https://192.168.0.1/push",
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://[::1]/push",
        "https://[fd00::1]/push",
        "https://0.0.0.0/push",
        "https://localhost/push",
        "https://user:pass@8.8.8.8/push",
        "https://8.8.8.8:99999/push",
        "ftp://8.8.8.8/push",
        "not a url",
        "",
    ],
)
def test_endpoints_on_our_own_network_or_not_https_are_refused(client_for, alice, endpoint):
    response = client_for(alice).post(URL, subscription(endpoint), format="json")
    assert response.status_code == 400
    assert "endpoint" in response.json()
    assert not PushSubscription.objects.exists()


def test_development_may_allow_private_endpoints(client_for, alice, settings):
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = True
    body = subscription("http://127.0.0.1:9/push/abc")
    assert client_for(alice).post(URL, body, format="json").status_code == 201
    # Still a URL with a host, over http(s).
    for endpoint in ("file:///etc/passwd", "http:///push"):
        response = client_for(alice).post(URL, subscription(endpoint), format="json")
        assert response.status_code == 400


@pytest.mark.parametrize(
    "keys",
    [
        {"p256dh": "AAAA"},  # not a point
        {"p256dh": "BA" + "A" * 85},  # 65 bytes starting 0x04, not on the curve
        {"auth": "c2hvcnQ"},  # 5 bytes
        {"auth": "!!!!"},
        {"p256dh": 12},
        {"auth": None},
    ],
)
def test_keys_that_are_not_a_browsers_are_refused(client_for, alice, keys):
    response = client_for(alice).post(URL, subscription(**keys), format="json")
    assert response.status_code == 400
    assert "keys" in response.json()


def test_a_compressed_point_is_refused(client_for, alice):
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    )
    p256dh = base64.urlsafe_b64encode(point).rstrip(b"=").decode()
    response = client_for(alice).post(URL, subscription(p256dh=p256dh), format="json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [{}, {"endpoint": "https://8.8.8.8/push"}, {"keys": {}}, [], "x", {"endpoint": 1, "keys": []}],
)
def test_malformed_bodies_are_a_400(client_for, alice, body):
    assert client_for(alice).post(URL, body, format="json").status_code == 400


def unsubscribe_url(body: dict) -> str:
    return f"{URL}?{urlencode({'endpoint': body['endpoint']})}"


def test_unsubscribing_removes_only_the_callers_own(client_for, alice, outsider):
    body = subscription()
    client_for(alice).post(URL, body, format="json")
    # An outsider naming alice's endpoint removes nothing, and learns nothing (the same 204).
    response = client_for(outsider).delete(unsubscribe_url(body))
    assert response.status_code == 204
    assert PushSubscription.objects.filter(user=alice).exists()
    assert client_for(alice).delete(unsubscribe_url(body)).status_code == 204
    assert not PushSubscription.objects.exists()
    # Again: nothing to remove, still 204.
    assert client_for(alice).delete(unsubscribe_url(body)).status_code == 204


def test_unsubscribing_needs_the_endpoint(client_for, alice):
    response = client_for(alice).delete(URL)
    assert response.status_code == 400
    assert "endpoint" in response.json()


def test_a_browser_beyond_the_most_one_person_keeps_replaces_their_oldest(client_for, alice, bob):
    client_for(bob).post(URL, subscription("https://8.8.8.8/push/bob"), format="json")
    endpoints = [f"https://8.8.8.8/push/{n}" for n in range(MAX_BROWSERS + 2)]
    for endpoint in endpoints:
        assert client_for(alice).post(URL, subscription(endpoint), format="json").status_code == 201
    kept = set(PushSubscription.objects.filter(user=alice).values_list("endpoint", flat=True))
    assert kept == set(endpoints[2:])
    assert PushSubscription.objects.filter(user=bob).exists()  # another person's are theirs


def test_a_key_or_subject_that_cannot_work_is_said_at_startup(settings):
    assert vapid_key_is_a_key(None) == []
    settings.VAPID_SUBJECT = "admin"
    assert [error.id for error in vapid_key_is_a_key(None)] == ["notifications.E002"]
    settings.VAPID_PRIVATE_KEY = "not-a-key"
    [error] = vapid_key_is_a_key(None)
    assert error.id == "notifications.E001"
    assert "make run" in error.msg
