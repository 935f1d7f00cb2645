"""JWTs the API must refuse with a 401: expired, tampered, signed with another key or algorithm,
blacklisted, of the wrong type, or of a user who has since been deactivated."""

import base64
import json
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from chat.tests.factories import TEST_PASSWORD
from chat.tests.servers import run_python

REPO = Path(__file__).resolve().parents[2]
ME = "/api/users/me/"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token) -> dict:
    return dict(token.payload)


def get_me(anon_client, token: str):
    return anon_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def assert_refused(response):
    assert response.status_code == 401, response.content
    assert set(response.json()) >= {"detail"}


def test_a_valid_token_is_accepted(anon_client, alice):
    # The control: every refusal below differs from this in one way only.
    response = get_me(anon_client, str(AccessToken.for_user(alice)))
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_expired_access_token_is_refused(anon_client, alice):
    token = AccessToken.for_user(alice)
    token.set_exp(from_time=timezone.now() - timedelta(hours=1), lifetime=timedelta(minutes=1))
    assert_refused(get_me(anon_client, str(token)))


def test_tampered_payload_is_refused(anon_client, alice, bob):
    header, _, signature = str(AccessToken.for_user(alice)).split(".")
    forged = {**claims_of(AccessToken.for_user(alice)), "user_id": str(bob.pk)}
    response = get_me(anon_client, f"{header}.{b64(forged)}.{signature}")
    assert_refused(response)
    assert "bob" not in response.content.decode()


def test_tampered_signature_is_refused(anon_client, alice):
    token = str(AccessToken.for_user(alice))
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert_refused(get_me(anon_client, flipped))


def test_unsigned_alg_none_token_is_refused(anon_client, alice):
    payload = claims_of(AccessToken.for_user(alice))
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    assert_refused(get_me(anon_client, token))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize(
    ("algorithm", "key"),
    [
        ("HS256", "another-key-entirely-another-key-entirely"),
        ("HS512", "another-key-entirely-another-key-entirely-another-key-entirely-0"),
        # The right key with an algorithm the server does not use: still refused.
        ("HS512", None),
    ],
)
def test_token_signed_with_another_key_or_algorithm_is_refused(anon_client, alice, algorithm, key):
    payload = claims_of(AccessToken.for_user(alice))
    token = jwt.encode(payload, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)
    assert_refused(get_me(anon_client, token))


def test_refresh_token_is_not_an_access_token(anon_client, alice):
    assert_refused(get_me(anon_client, str(RefreshToken.for_user(alice))))


def test_access_token_is_not_a_refresh_token(anon_client, alice):
    response = anon_client.post(
        "/api/auth/token/refresh/", {"refresh": str(AccessToken.for_user(alice))}, format="json"
    )
    assert_refused(response)


def test_rotated_refresh_token_is_blacklisted(anon_client, alice):
    refresh = str(RefreshToken.for_user(alice))
    first = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert first.status_code == 200
    again = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert_refused(again)
    # The rotated-in token still works: rotation, not lock-out.
    newer = anon_client.post(
        "/api/auth/token/refresh/", {"refresh": first.json()["refresh"]}, format="json"
    )
    assert newer.status_code == 200


def test_refresh_token_is_dead_after_logout(anon_client, client_for, alice):
    refresh = str(RefreshToken.for_user(alice))
    logout = client_for(alice).post("/api/auth/logout/", {"refresh": refresh}, format="json")
    assert logout.status_code == 205
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert_refused(response)


def test_logout_refuses_someone_elses_refresh_token(client_for, alice, bob):
    refresh = str(RefreshToken.for_user(bob))
    response = client_for(alice).post("/api/auth/logout/", {"refresh": refresh}, format="json")
    assert response.status_code == 400
    assert "refresh" in response.json()


def test_deactivated_users_tokens_are_refused(anon_client, alice):
    access, refresh = str(AccessToken.for_user(alice)), str(RefreshToken.for_user(alice))
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert_refused(get_me(anon_client, access))
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert_refused(response)
    login = anon_client.post(
        "/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, format="json"
    )
    assert_refused(login)


def test_deleted_users_tokens_are_refused(anon_client, alice):
    access = str(AccessToken.for_user(alice))
    alice.delete()
    assert_refused(get_me(anon_client, access))


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer a b", "Token abc", "bearer x.y.z", "Bearer \u00e9.\u00e9.\u00e9"],
)
def test_malformed_authorization_headers_are_refused(anon_client, alice, header):
    response = anon_client.get(ME, HTTP_AUTHORIZATION=header)
    assert_refused(response)


SIGNING_KEY_PROBE = """
import django, jwt
django.setup()
from django.conf import settings
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken
claims = {"token_type": "access", "exp": 4102444800, "iat": 1, "jti": "j", "user_id": "1"}
assert settings.SIMPLE_JWT["SIGNING_KEY"] == "a-separate-jwt-signing-key-of-plenty-of-length"
AccessToken(jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"))
try:
    AccessToken(jwt.encode(claims, settings.SECRET_KEY, algorithm="HS256"))
except TokenError:
    print("refused")
"""


def test_jwt_signing_key_makes_tokens_signed_with_the_secret_key_fail():
    # Settings are read once at start-up, so a fresh process gets the variable.
    result = run_python(
        SIGNING_KEY_PROBE,
        SECRET_KEY_DJANGO_SETTINGS="the-django-secret-key-which-must-not-sign-tokens-now",
        JWT_SIGNING_KEY="a-separate-jwt-signing-key-of-plenty-of-length",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "refused"
