"""JWT endpoints: obtain, refresh (rotating, blacklisting the used token), verify, logout."""

import json

import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from chat.tests.factories import TEST_PASSWORD, UserFactory

OBTAIN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
VERIFY = "/api/auth/token/verify/"
LOGOUT = "/api/auth/logout/"


def obtain(client, username, password=TEST_PASSWORD):
    return client.post(OBTAIN, {"username": username, "password": password}, format="json")


@pytest.fixture
def tokens(anon_client, alice):
    return obtain(anon_client, "alice").json()


def test_obtain_gives_an_access_and_a_refresh_token(anon_client, alice):
    response = obtain(anon_client, "alice")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert AccessToken(response.json()["access"])["user_id"] == str(alice.pk)


def test_the_access_token_opens_the_api(anon_client, client_for, alice, tokens):
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert anon_client.get("/api/users/me/").json() == {"id": alice.pk, "username": "alice"}


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
    ],
)
def test_malformed_obtain_is_a_400_naming_the_field(anon_client, alice, body, field):
    response = anon_client.post(OBTAIN, data=json.dumps(body), content_type="application/json")

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
    response = anon_client.post(OBTAIN, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()


def test_a_huge_username_is_just_wrong_credentials(anon_client, alice):
    assert obtain(anon_client, "a" * 10_000).status_code == 401


def test_refresh_rotates_and_blacklists_the_used_token(anon_client, tokens):
    response = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    assert response.json()["refresh"] != tokens["refresh"]

    reused = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401

    rotated = anon_client.post(REFRESH, {"refresh": response.json()["refresh"]}, format="json")
    assert rotated.status_code == 200


def test_refresh_with_an_access_token_is_a_401(anon_client, tokens):
    response = anon_client.post(REFRESH, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 401


def test_refresh_with_garbage_is_a_401(anon_client, db):
    response = anon_client.post(REFRESH, {"refresh": "not.a.token"}, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_refresh_for_a_deactivated_user_is_a_401(anon_client, alice, tokens):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401


def test_refresh_for_a_deleted_user_is_a_401(anon_client, alice, tokens):
    alice.delete()

    response = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body", [{}, {"refresh": None}, {"refresh": ""}, {"refresh": ["x"]}, {"refresh": "\ud800"}]
)
def test_malformed_refresh_is_a_400_naming_the_field(anon_client, db, body):
    response = anon_client.post(REFRESH, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_verify_accepts_a_valid_token(anon_client, tokens):
    for token in (tokens["access"], tokens["refresh"]):
        response = anon_client.post(VERIFY, {"token": token}, format="json")
        assert response.status_code == 200
        assert response.json() == {}


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000])
def test_verify_refuses_a_bad_token_with_401(anon_client, db, token):
    response = anon_client.post(
        VERIFY, data=json.dumps({"token": token}), content_type="application/json"
    )

    assert response.status_code == 401


def test_verify_refuses_a_token_signed_with_another_key(anon_client, alice, tokens):
    header, payload, signature = tokens["access"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"

    assert anon_client.post(VERIFY, {"token": forged}, format="json").status_code == 401


def test_verify_refuses_a_blacklisted_refresh_token_with_401(anon_client, tokens):
    anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    response = anon_client.post(VERIFY, {"token": tokens["refresh"]}, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body", [{}, {"token": None}, {"token": ""}, {"token": ["a"]}, {"token": "\ud800"}]
)
def test_malformed_verify_is_a_400_naming_the_field(anon_client, db, body):
    response = anon_client.post(VERIFY, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert "token" in response.json()


def test_logout_answers_205_and_the_refresh_token_is_then_refused(
    anon_client, client_for, alice, tokens
):
    response = client_for(alice).post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 205
    refused = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert refused.status_code == 401


def test_logout_twice_is_a_400(client_for, alice, tokens):
    client = client_for(alice)
    client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    response = client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_logout_with_someone_elses_refresh_token_is_a_400_and_keeps_it_working(
    anon_client, client_for, outsider, tokens
):
    response = client_for(outsider).post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"refresh": ["This refresh token is not yours."]}
    still = anon_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert still.status_code == 200


def test_logout_needs_a_logged_in_caller(anon_client, tokens):
    response = anon_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")

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
        {"refresh": "x" * 4097},
        {"refresh": 12},
        {"refresh": ["a"]},
        {"refresh": "\ud800"},
    ],
)
def test_malformed_logout_is_a_400_naming_the_field(client_for, alice, body):
    response = client_for(alice).post(
        LOGOUT, data=json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_logout_with_an_access_token_is_a_400(client_for, alice, tokens):
    response = client_for(alice).post(LOGOUT, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == 400
    assert "refresh" in response.json()


def test_an_access_token_of_a_deleted_user_is_a_401(client_for, db):
    ghost = UserFactory(username="ghost")
    client = client_for(ghost)
    ghost.delete()

    assert client.get("/api/users/me/").status_code == 401


def test_a_refresh_token_is_not_an_access_token(anon_client, alice):
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(alice)}")

    assert anon_client.get("/api/users/me/").status_code == 401


def test_an_access_token_of_a_deactivated_user_is_a_401(client_for, alice):
    client = client_for(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert client.get("/api/users/me/").status_code == 401
