"""POST /api/auth/token/: log in, getting an access and a refresh token."""

import json

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from chat.tests.factories import TEST_PASSWORD, UserFactory

URL = "/api/auth/token/"


def obtain(client, username, password=TEST_PASSWORD):
    return client.post(URL, {"username": username, "password": password}, format="json")


def test_obtain_gives_an_access_and_a_refresh_token(anon_client, alice):
    response = obtain(anon_client, "alice")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert AccessToken(response.json()["access"])["user_id"] == str(alice.pk)


def test_the_access_token_opens_the_api(anon_client, alice):
    access = obtain(anon_client, "alice").json()["access"]
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")

    me = anon_client.get("/api/users/me/").json()
    assert (me["id"], me["username"]) == (alice.pk, "alice")


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong-password"), ("nobody", TEST_PASSWORD), ("ALICE", TEST_PASSWORD)],
)
def test_wrong_credentials_are_a_401(anon_client, alice, username, password):
    response = obtain(anon_client, username, password)

    assert response.status_code == 401
    assert "detail" in response.json()


def test_an_inactive_user_cannot_log_in(anon_client, db):
    UserFactory(username="gone", is_active=False)

    assert obtain(anon_client, "gone").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"password": TEST_PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": None, "password": TEST_PASSWORD}, "username"),
        ({"username": "alice", "password": ""}, "password"),
        ({"username": ["alice"], "password": TEST_PASSWORD}, "username"),
        ({"username": "alice", "password": {}}, "password"),
    ],
)
def test_malformed_obtain_is_a_400_naming_the_field(anon_client, alice, body, field):
    response = anon_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice\ud800", "password": TEST_PASSWORD}, "username"),
        ({"username": "alice", "password": "pass\ud800"}, "password"),
    ],
)
def test_lone_surrogates_in_credentials_are_a_400(anon_client, alice, body, field):
    response = anon_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_huge_username_is_just_wrong_credentials(anon_client, alice):
    assert obtain(anon_client, "a" * 10_000).status_code == 401
