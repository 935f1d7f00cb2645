"""POST / DELETE /api/users/<id>/block/ and GET /api/users/blocked/: who the caller blocks.
What a block stops between two people is tested where it is enforced
(chat/tests/test_block_effects.py)."""

import pytest

from accounts.models import Block
from chat.tests.factories import UserFactory


def url(user_id):
    return f"/api/users/{user_id}/block/"


BLOCKED = "/api/users/blocked/"


def test_blocking_lists_the_user_and_unblocking_removes_them(client_for, alice, bob):
    client = client_for(alice)

    assert client.post(url(bob.pk)).status_code == 204
    assert client.get(BLOCKED).json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [{"id": bob.pk, "username": "bob"}],
    }
    assert client.delete(url(bob.pk)).status_code == 204
    assert client.get(BLOCKED).json()["results"] == []
    assert not Block.objects.exists()


def test_blocking_and_unblocking_are_idempotent(client_for, alice, bob):
    client = client_for(alice)

    assert [client.post(url(bob.pk)).status_code for _ in range(2)] == [204, 204]
    assert Block.objects.filter(blocker=alice, blocked=bob).count() == 1
    assert [client.delete(url(bob.pk)).status_code for _ in range(2)] == [204, 204]
    assert not Block.objects.exists()


def test_the_list_is_the_callers_own_newest_first_and_paginated(client_for, alice, bob, outsider):
    carol = UserFactory(username="carol")
    client_for(alice).post(url(bob.pk))
    client_for(alice).post(url(carol.pk))
    client_for(outsider).post(url(alice.pk))

    page = client_for(alice).get(BLOCKED + "?limit=1").json()

    assert page["count"] == 2
    assert page["results"] == [{"id": carol.pk, "username": "carol"}]
    assert client_for(alice).get(BLOCKED + "?limit=1&offset=1").json()["results"][0]["id"] == bob.pk
    # bob learns nothing of alice's blocks, nor of who blocks him.
    assert client_for(bob).get(BLOCKED).json()["count"] == 0
    assert client_for(outsider).get(BLOCKED).json()["results"] == [
        {"id": alice.pk, "username": "alice"}
    ]


def test_blocking_oneself_is_a_400_that_says_why(client_for, alice):
    for method in ("post", "delete"):
        response = getattr(client_for(alice), method)(url(alice.pk))

        assert response.status_code == 400
        assert response.json() == {"user": ["You cannot block yourself."]}
    assert not Block.objects.exists()


@pytest.mark.parametrize("user_id", ["999999", "99999999999999999999", "0"])
def test_an_unknown_user_is_a_404(client_for, alice, user_id):
    for method in ("post", "delete"):
        response = getattr(client_for(alice), method)(f"/api/users/{user_id}/block/")

        assert response.status_code == 404
        assert response.json() == {"detail": "No user found."}


@pytest.mark.parametrize("user_id", ["abc", "-1", "1.0"])
def test_a_malformed_id_is_a_404(client_for, alice, user_id):
    assert client_for(alice).post(f"/api/users/{user_id}/block/").status_code == 404


def test_a_deactivated_user_can_still_be_blocked(client_for, alice, bob):
    bob.is_active = False
    bob.save()

    assert client_for(alice).post(url(bob.pk)).status_code == 204


def test_anonymous_callers_get_401(anon_client, bob):
    assert anon_client.post(url(bob.pk)).status_code == 401
    assert anon_client.delete(url(bob.pk)).status_code == 401
    assert anon_client.get(BLOCKED).status_code == 401


def test_blocking_runs_a_fixed_number_of_queries(client_for, alice, bob, django_assert_num_queries):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the user to block, 3 INSERT ... ON CONFLICT DO NOTHING.
    with django_assert_num_queries(3):
        assert client.post(url(bob.pk)).status_code == 204
