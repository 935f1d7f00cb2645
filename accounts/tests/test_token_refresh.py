"""POST /api/auth/token/refresh/: a new token pair for a refresh token, which is then spent."""

import json

import pytest

URL = "/api/auth/token/refresh/"


def refresh(client, token):
    return client.post(URL, {"refresh": token}, format="json")


def test_refresh_rotates_and_blacklists_the_used_token(anon_client, tokens):
    response = refresh(anon_client, tokens["refresh"])

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert response.json()["refresh"] != tokens["refresh"]

    reused = refresh(anon_client, tokens["refresh"])
    assert reused.status_code == 401
    assert "detail" in reused.json()

    # The rotated-in token still works: rotation, not lock-out.
    rotated = refresh(anon_client, response.json()["refresh"])
    assert rotated.status_code == 200


def test_refresh_with_an_access_token_is_a_401(anon_client, tokens):
    response = refresh(anon_client, tokens["access"])

    assert response.status_code == 401
    assert "detail" in response.json()


def test_refresh_with_garbage_is_a_401(anon_client, db):
    response = refresh(anon_client, "not.a.token")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_refresh_for_a_deactivated_user_is_a_401(anon_client, alice, tokens):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = refresh(anon_client, tokens["refresh"])

    assert response.status_code == 401


def test_refresh_for_a_deleted_user_is_a_401(anon_client, alice, tokens):
    alice.delete()

    response = refresh(anon_client, tokens["refresh"])

    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body", [{}, {"refresh": None}, {"refresh": ""}, {"refresh": ["x"]}, {"refresh": "\ud800"}]
)
def test_malformed_refresh_is_a_400_naming_the_field(anon_client, db, body):
    response = anon_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "refresh" in response.json()
