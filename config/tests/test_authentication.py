"""config.authentication: Simple JWT's checks and answers, with one written-out user query."""

from rest_framework_simplejwt.tokens import AccessToken

from chat.tests.factories import UserFactory

ME = "/api/users/me/"


def test_a_valid_token_is_its_user_in_one_query(client_for, alice, django_assert_num_queries):
    # 1 the caller.
    with django_assert_num_queries(1):
        response = client_for(alice).get(ME)
    assert response.json() == {"id": alice.pk, "username": "alice"}


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
