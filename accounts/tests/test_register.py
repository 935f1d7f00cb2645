"""POST /api/auth/register/: open registration, with Django's password validators."""

import json

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

User = get_user_model()

URL = "/api/auth/register/"
GOOD_PASSWORD = "correct-horse-battery"


def register(client, username, password=GOOD_PASSWORD):
    return client.post(URL, {"username": username, "password": password}, format="json")


def test_registers_an_active_user_and_answers_with_it(anon_client, db):
    response = register(anon_client, "newcomer")

    assert response.status_code == 201
    user = User.objects.get(username="newcomer")
    assert response.json() == {"id": user.pk, "username": "newcomer"}
    assert user.is_active
    assert user.check_password(GOOD_PASSWORD)
    assert not user.is_staff


def test_the_new_user_can_log_in(anon_client, db):
    register(anon_client, "newcomer")

    response = anon_client.post(
        "/api/auth/token/", {"username": "newcomer", "password": GOOD_PASSWORD}, format="json"
    )

    assert response.status_code == 200


def test_the_password_is_never_echoed(anon_client, db):
    response = register(anon_client, "newcomer")

    assert GOOD_PASSWORD not in response.content.decode()


def test_a_bad_token_does_not_stop_registration(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer garbage")

    assert register(client, "newcomer").status_code == 201


@pytest.mark.parametrize("taken", ["alice", "ALICE", "Alice"])
def test_a_taken_name_is_a_400_whatever_its_case(anon_client, alice, taken):
    response = register(anon_client, taken)

    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
    assert User.objects.filter(username__iexact="alice").count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("8374659210", "entirely numeric"),
        ("newcomer-x", "too similar"),
    ],
)
def test_django_password_validators_apply(anon_client, db, password, message):
    response = register(anon_client, "newcomer", password)

    assert response.status_code == 400
    assert message in str(response.json()["password"])
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"password": GOOD_PASSWORD}, "username", "required"),
        ({"username": "newcomer"}, "password", "required"),
        ({"username": None, "password": GOOD_PASSWORD}, "username", "may not be null"),
        ({"username": "newcomer", "password": None}, "password", "may not be null"),
        ({"username": "", "password": GOOD_PASSWORD}, "username", "may not be blank"),
        ({"username": "newcomer", "password": ""}, "password", "may not be blank"),
        ({"username": "u" * 151, "password": GOOD_PASSWORD}, "username", "no more than 150"),
        ({"username": "newcomer", "password": "p" * 129}, "password", "no more than 128"),
        ({"username": "has space", "password": GOOD_PASSWORD}, "username", "valid username"),
        ({"username": "semi;colon", "password": GOOD_PASSWORD}, "username", "valid username"),
        ({"username": ["a"], "password": GOOD_PASSWORD}, "username", "Not a valid string"),
        ({"username": {"a": 1}, "password": GOOD_PASSWORD}, "username", "Not a valid string"),
        ({"username": True, "password": GOOD_PASSWORD}, "username", "Not a valid string"),
        ({"username": 123456, "password": GOOD_PASSWORD}, "username", "Not a valid string"),
        ({"username": "new\x00comer", "password": GOOD_PASSWORD}, "username", "Null characters"),
        ({"username": "new\ud800", "password": GOOD_PASSWORD}, "username", ""),
        ({"username": "newcomer", "password": "pass\ud800word-long"}, "password", "Surrogate"),
    ],
)
def test_malformed_input_is_a_400_naming_the_field(anon_client, db, body, field, message):
    response = anon_client.post(URL, data=json.dumps(body), content_type="application/json")

    assert response.status_code == 400
    assert message in str(response.json()[field])
    assert not User.objects.exists()


@pytest.mark.parametrize("body", ["[]", '"newcomer"', "{oops", "null"])
def test_a_body_that_is_not_an_object_is_a_400(anon_client, db, body):
    response = anon_client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert not User.objects.exists()


def test_surrounding_white_space_in_the_name_is_trimmed(anon_client, db):
    response = register(anon_client, "  newcomer ")

    assert response.json()["username"] == "newcomer"


def test_registering_runs_a_fixed_number_of_queries(anon_client, db, django_assert_num_queries):
    # 1 SAVEPOINT (service), 2 is the name taken (ignoring case), 3 SAVEPOINT, 4 INSERT the
    # user, 5 RELEASE, 6 RELEASE. The password validators need no query.
    with django_assert_num_queries(6):
        response = register(anon_client, "newcomer")
    assert response.status_code == 201
