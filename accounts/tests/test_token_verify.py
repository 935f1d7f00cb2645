"""POST /api/auth/token/verify/: whether a token is valid (200 with `{}`) or not (401)."""

import json

import pytest

URL = "/api/auth/token/verify/"


def verify(client, token):
    return client.post(URL, data=json.dumps({"token": token}), content_type="application/json")


def test_verify_accepts_a_valid_token(anon_client, tokens):
    for token in (tokens["access"], tokens["refresh"]):
        response = verify(anon_client, token)
        assert response.status_code == 200
        assert response.json() == {}


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000, 5])
def test_verify_refuses_a_bad_token_with_401(anon_client, db, token):
    response = verify(anon_client, token)

    assert response.status_code == 401


def test_verify_refuses_a_token_signed_with_another_key(anon_client, tokens):
    header, payload, signature = tokens["access"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"

    assert verify(anon_client, forged).status_code == 401


def test_verify_refuses_a_blacklisted_refresh_token_with_401(anon_client, tokens):
    anon_client.post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")

    response = verify(anon_client, tokens["refresh"])

    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body", [{}, {"token": None}, {"token": ""}, {"token": ["a"]}, {"token": "\ud800"}]
)
def test_malformed_verify_is_a_400_naming_the_field(anon_client, db, body):
    response = anon_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "token" in response.json()
