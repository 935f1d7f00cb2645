"""POST /api/auth/logout/: blacklist the caller's own refresh token (205)."""

import json

import pytest

URL = "/api/auth/logout/"
REFRESH = "/api/auth/token/refresh/"


def test_logout_answers_205_and_the_refresh_token_is_then_refused(
    anon_client, client_for, alice, tokens
):
    response = client_for(alice).post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 205
    refused = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert refused.status_code == 401


def test_logout_twice_is_a_400(client_for, alice, tokens):
    client = client_for(alice)
    client.post(URL, {"refresh": tokens["refresh"]}, format="json")

    response = client.post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_logout_with_someone_elses_refresh_token_is_a_400_and_keeps_it_working(
    anon_client, client_for, outsider, tokens
):
    response = client_for(outsider).post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"refresh": ["This refresh token is not yours."]}
    still = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert still.status_code == 200


def test_logout_needs_a_logged_in_caller(anon_client, tokens):
    response = anon_client.post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert (
        anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 200
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"refresh": None},
        {"refresh": ""},
        {"refresh": "garbage"},
        {"refresh": "a.b.c"},
        {"refresh": "x" * 4097},
        {"refresh": 12},
        {"refresh": ["a"]},
        {"refresh": "\ud800"},
    ],
)
def test_malformed_logout_is_a_400_naming_the_field(client_for, alice, body):
    response = client_for(alice).post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_logout_with_an_access_token_is_a_400(client_for, alice, tokens):
    response = client_for(alice).post(URL, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()
