"""GET /api/messages/unread-count/: unread messages sent to the caller, across threads."""

import pytest

from chat.tests.factories import UserFactory, make_message, make_thread

URL = "/api/messages/unread-count/"


def test_counts_unread_messages_sent_to_the_caller_across_threads(client_for, alice, bob, thread):
    carol = UserFactory(username="carol")
    make_message(thread, bob, "1")
    make_message(thread, bob, "2")
    make_message(make_thread(alice, carol), carol, "3")
    make_message(thread, alice, "sent by alice")

    assert client_for(alice).get(URL).json() == {"unread_count": 3}
    assert client_for(bob).get(URL).json() == {"unread_count": 1}
    assert client_for(carol).get(URL).json() == {"unread_count": 0}


def test_read_messages_no_longer_count(client_for, alice, bob, thread):
    first = make_message(thread, bob, "1")
    make_message(thread, bob, "2")
    client = client_for(alice)

    client.post(f"/api/messages/{first.pk}/read/")

    assert client.get(URL).json() == {"unread_count": 1}


def test_outsider_counts_none_of_the_others_messages(client_for, outsider, bob, thread):
    make_message(thread, bob, "for alice")

    assert client_for(outsider).get(URL).json() == {"unread_count": 0}


def test_naming_yourself_is_allowed(client_for, alice, bob, thread):
    make_message(thread, bob, "1")

    assert client_for(alice).get(URL, {"user": alice.pk}).json() == {"unread_count": 1}


@pytest.mark.parametrize("named", ["participant", "unknown"])
def test_naming_someone_else_is_403_for_non_staff(client_for, alice, bob, outsider, thread, named):
    make_message(thread, bob, "for alice")
    user_id = alice.pk if named == "participant" else 987654

    response = client_for(outsider).get(URL, {"user": user_id})

    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


def test_staff_may_ask_for_anyones_count(client_for, staff, alice, bob, thread):
    make_message(thread, bob, "1")
    make_message(thread, bob, "2")

    assert client_for(staff).get(URL, {"user": alice.pk}).json() == {"unread_count": 2}
    assert client_for(staff).get(URL).json() == {"unread_count": 0}


def test_staff_naming_an_unknown_user_gets_400(client_for, staff):
    response = client_for(staff).get(URL, {"user": 987654})

    assert response.status_code == 400
    assert "user" in response.json()


@pytest.mark.parametrize("value", ["abc", "0", "-1", "2.5", "1_0", "99999999999999999999", "\x00"])
def test_malformed_user_is_a_400(client_for, alice, value):
    response = client_for(alice).get(URL, {"user": value})

    assert response.status_code == 400
    assert "user" in response.json()


def test_anonymous_caller_gets_401(anon_client):
    assert anon_client.get(URL).status_code == 401


def test_counting_runs_a_fixed_number_of_queries(
    client_for, alice, bob, thread, django_assert_num_queries
):
    for n in range(5):
        make_message(thread, bob, str(n))
    client = client_for(alice)
    # 1 the caller (JWT), 2 the count.
    with django_assert_num_queries(2):
        response = client.get(URL)
    assert response.json() == {"unread_count": 5}


def test_staff_counting_for_another_user_runs_one_query_more(
    client_for, staff, alice, django_assert_num_queries
):
    client = client_for(staff)
    # 1 the caller (JWT), 2 the named user, 3 the count.
    with django_assert_num_queries(3):
        client.get(URL, {"user": alice.pk})
