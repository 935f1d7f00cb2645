"""config.authentication: the JWT of every REST request. Simple JWT's checks and answers, with
one written-out user query."""

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from chat.tests.factories import UserFactory
from config.tests.bad_tokens import BAD_TOKENS, bad_token

ME = "/api/users/me/"


def test_a_valid_token_is_its_user_in_one_query(client_for, alice, django_assert_num_queries):
    # 1 the caller; 2 is the endpoint's own (the caller's profile, for show_presence).
    with django_assert_num_queries(2):
        response = client_for(alice).get(ME)
    assert response.json() == {"id": alice.pk, "username": "alice", "show_presence": True}


def test_a_missing_token_is_a_json_401_with_a_challenge(anon_client, db):
    response = anon_client.get("/api/threads/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_a_bad_token_is_refused(anon_client, alice, bob, kind):
    response = anon_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {bad_token(kind, alice, bob)}")

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_not_valid"
    assert "bob" not in response.content.decode()


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer a b", "Token abc", "bearer x.y.z", "Bearer \u00e9.\u00e9.\u00e9"],
)
def test_malformed_authorization_headers_are_refused(anon_client, alice, header):
    response = anon_client.get(ME, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401, response.content
    assert "detail" in response.json()


def test_an_inactive_user_is_refused(client_for, alice):
    client = client_for(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["detail"] == "User is inactive"
    assert response.json()["code"] == "user_inactive"


def test_a_deleted_user_is_refused(client_for, db):
    ghost = UserFactory(username="ghost")
    client = client_for(ghost)
    ghost.delete()

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "user_not_found"


def test_a_token_without_a_user_id_is_refused(anon_client, alice):
    token = AccessToken.for_user(alice)
    del token["user_id"]
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = anon_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
