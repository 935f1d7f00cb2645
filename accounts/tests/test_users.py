"""GET /api/users/: active users, by name, with `?search=`."""

import pytest

from chat.tests.factories import UserFactory

URL = "/api/users/"


def usernames(response):
    return [user["username"] for user in response.json()["results"]]


def test_lists_active_users_by_name_in_the_user_shape(client_for, alice, bob):
    UserFactory(username="carol")
    UserFactory(username="zed", is_active=False)

    response = client_for(alice).get(URL)

    assert response.status_code == 200
    assert usernames(response) == ["alice", "bob", "carol"]
    assert response.json()["results"][0] == {"id": alice.pk, "username": "alice"}
    assert response.json()["count"] == 3


def test_search_matches_part_of_the_name_ignoring_case(client_for, alice, bob):
    UserFactory(username="Alicia")
    UserFactory(username="malice", is_active=False)

    response = client_for(bob).get(URL, {"search": "ALI"})

    assert sorted(usernames(response)) == ["Alicia", "alice"]


def test_an_empty_search_lists_everyone(client_for, alice, bob):
    assert usernames(client_for(alice).get(URL, {"search": ""})) == ["alice", "bob"]


def test_search_with_no_match_is_an_empty_page(client_for, alice):
    response = client_for(alice).get(URL, {"search": "nobody-like-this"})

    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_search_treats_sql_wildcards_literally(client_for, alice, bob):
    assert usernames(client_for(alice).get(URL, {"search": "%"})) == []
    assert usernames(client_for(alice).get(URL, {"search": "_"})) == []


def test_users_are_paginated(client_for, alice):
    UserFactory.create_batch(25)

    response = client_for(alice).get(URL, {"limit": 10, "offset": 20})

    assert response.json()["count"] == 26
    assert len(response.json()["results"]) == 6
    assert response.json()["next"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"search": "x" * 151}, "search"),
        ({"search": "\x00"}, "search"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": "-2"}, "offset"),
        ({"offset": "99999999999999999999"}, "offset"),
    ],
)
def test_malformed_query_is_a_400_naming_the_parameter(client_for, alice, query, field):
    response = client_for(alice).get(URL, query)

    assert response.status_code == 400
    assert field in response.json()


def test_undecodable_bytes_in_the_search_match_nobody(client_for, alice):
    # Django decodes query strings with replacement characters: an encoded surrogate is no 500.
    response = client_for(alice).get(URL + "?search=%ED%A0%80")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_anonymous_caller_gets_401(anon_client, alice):
    assert anon_client.get(URL).status_code == 401


def test_listing_runs_a_fixed_number_of_queries(client_for, alice, django_assert_num_queries):
    UserFactory.create_batch(30)
    client = client_for(alice)
    # 1 the caller (JWT), 2 count, 3 the page.
    with django_assert_num_queries(3):
        client.get(URL, {"search": "user"})
