"""GET /api/threads/: the caller's threads, newest activity first, with summaries."""

import json
from datetime import UTC, datetime

import pytest

from accounts.models import Block, Profile
from chat import presence
from chat.tests.factories import UserFactory, make_message, make_thread

URL = "/api/threads/"


def test_lists_only_the_callers_threads(client_for, alice, bob, outsider, thread):
    others = make_thread(bob, outsider)

    alice_sees = client_for(alice).get(URL).json()
    outsider_sees = client_for(outsider).get(URL).json()

    assert alice_sees["count"] == 1
    assert [item["id"] for item in alice_sees["results"]] == [thread.pk]
    assert [item["id"] for item in outsider_sees["results"]] == [others.pk]


def test_an_outsider_sees_none_of_the_threads_of_others(client_for, alice, bob, outsider, thread):
    make_message(thread, alice, "private")

    response = client_for(outsider).get(URL)

    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_newest_activity_comes_first_and_a_message_moves_its_thread_up(client_for, alice, bob):
    carol = UserFactory(username="carol")
    with_bob = make_thread(alice, bob)
    with_carol = make_thread(alice, carol)
    client = client_for(alice)

    assert [t["id"] for t in client.get(URL).json()["results"]] == [with_carol.pk, with_bob.pk]

    make_message(with_bob, bob, "news")

    results = client.get(URL).json()["results"]
    assert [t["id"] for t in results] == [with_bob.pk, with_carol.pk]
    assert results[0]["updated"] > results[1]["updated"]


def test_updated_moves_to_the_time_of_the_newest_message(client_for, alice, bob, thread):
    before = client_for(alice).get(URL).json()["results"][0]["updated"]

    message = client_for(bob).post(
        f"/api/threads/{thread.pk}/messages/", {"text": "hi"}, format="json"
    )

    entry = client_for(alice).get(URL).json()["results"][0]
    assert entry["updated"] > before
    assert entry["updated"] == message.json()["created"]


def test_each_entry_has_its_last_message_and_the_callers_unread_count(
    client_for, alice, bob, thread
):
    carol = UserFactory(username="carol")
    quiet = make_thread(alice, carol)
    make_message(thread, bob, "one")
    make_message(thread, bob, "two")
    make_message(thread, alice, "mine")
    last = make_message(thread, bob, "three")

    alice_view = {t["id"]: t for t in client_for(alice).get(URL).json()["results"]}
    bob_view = {t["id"]: t for t in client_for(bob).get(URL).json()["results"]}

    assert alice_view[thread.pk]["last_message"] == {
        "id": last.pk,
        "thread": thread.pk,
        "sender": bob.pk,
        "text": "three",
        "created": alice_view[thread.pk]["last_message"]["created"],
        "is_read": False,
        "edited": None,
        "deleted": False,
        "attachments": [],
    }
    assert alice_view[thread.pk]["unread_count"] == 3
    assert bob_view[thread.pk]["unread_count"] == 1
    assert alice_view[quiet.pk]["last_message"] is None
    assert alice_view[quiet.pk]["unread_count"] == 0
    assert alice_view[thread.pk]["participants"] == [
        {"id": alice.pk, "username": "alice", "online": False, "last_seen": None},
        {"id": bob.pk, "username": "bob", "online": False, "last_seen": None},
    ]


def test_participants_carry_their_presence_as_the_caller_may_see_it(client_for, alice, bob):
    carol, dave, erin = (UserFactory(username=name) for name in ("carol", "dave", "erin"))
    for partner in (bob, carol, dave, erin):
        make_thread(alice, partner)
    Profile.objects.create(user=bob, last_seen=datetime(2026, 11, 25, 10, 4, tzinfo=UTC))
    Profile.objects.create(user=dave, show_presence=False)
    Block.objects.create(blocker=erin, blocked=alice)
    for user in (alice, carol, dave, erin):
        presence.socket_open(user_id=user.pk, channel_name=f"{user}-1", worker="test-worker")

    results = client_for(alice).get(URL).json()["results"]

    seen_by_alice = {
        participant["username"]: (participant["online"], participant["last_seen"])
        for thread in results
        for participant in thread["participants"]
    }
    assert seen_by_alice == {
        "alice": (True, None),
        "bob": (False, "2026-11-25T10:04:00Z"),  # offline since then
        "carol": (True, None),
        "dave": (False, None),  # hides their presence
        "erin": (False, None),  # blocks alice
    }
    # Each participant sees the thread with their own view: the block hides alice from erin too.
    [erins] = client_for(erin).get(URL).json()["results"]
    assert [(p["username"], p["online"]) for p in erins["participants"]] == [
        ("alice", False),
        ("erin", True),
    ]


def test_unread_count_drops_once_read(client_for, alice, bob, thread):
    make_message(thread, bob, "one")
    client = client_for(alice)

    client.post(f"/api/threads/{thread.pk}/read/")

    assert client.get(URL).json()["results"][0]["unread_count"] == 0


def test_pages_follow_limit_and_offset(client_for, alice):
    partners = UserFactory.create_batch(5)
    threads = [make_thread(alice, partner) for partner in partners]
    newest_first = [t.pk for t in reversed(threads)]
    client = client_for(alice)

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(first["next"]).json()

    assert first["count"] == 5
    assert [t["id"] for t in first["results"]] == newest_first[:2]
    assert [t["id"] for t in second["results"]] == newest_first[2:4]
    assert "offset=2" in first["next"]
    assert first["previous"] is None
    assert second["previous"] is not None


def test_default_page_is_20_and_limit_is_capped_at_100(client_for, alice):
    for partner in UserFactory.create_batch(101):
        make_thread(alice, partner)
    client = client_for(alice)

    assert len(client.get(URL).json()["results"]) == 20
    assert len(client.get(URL, {"limit": 1000}).json()["results"]) == 100


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "1_0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "1_0"}, "offset"),
        ({"offset": "abc"}, "offset"),
        ({"offset": "99999999999999999999"}, "offset"),
    ],
)
def test_malformed_paging_is_a_400_naming_the_parameter(client_for, alice, thread, query, field):
    response = client_for(alice).get(URL, query)

    assert response.status_code == 400
    assert field in response.json()


def test_empty_parameters_count_as_absent(client_for, alice, thread):
    # DRF reads query strings like HTML forms: `?limit=&user=` means the defaults.
    response = client_for(alice).get(URL, {"limit": "", "offset": "", "user": ""})

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["results"]] == [thread.pk]


def test_an_offset_past_the_end_is_an_empty_page(client_for, alice, thread):
    response = client_for(alice).get(URL, {"offset": "9223372036854775807"})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_user_query_naming_yourself_is_allowed(client_for, alice, thread):
    response = client_for(alice).get(URL, {"user": alice.pk})

    assert response.status_code == 200
    assert [t["id"] for t in response.json()["results"]] == [thread.pk]


@pytest.mark.parametrize("user_id", ["other", "999999"])
def test_user_query_naming_someone_else_is_403_for_non_staff(
    client_for, alice, bob, thread, user_id
):
    named = bob.pk if user_id == "other" else int(user_id)

    response = client_for(alice).get(URL, {"user": named})

    assert response.status_code == 403
    assert set(response.json()) == {"detail"}


def test_outsider_naming_a_participant_gets_403_and_learns_nothing(
    client_for, alice, outsider, thread
):
    make_message(thread, alice, "private")

    response = client_for(outsider).get(URL, {"user": alice.pk})

    assert response.status_code == 403
    assert "private" not in response.content.decode()


def test_staff_may_list_anyones_threads_seen_from_that_user(client_for, staff, alice, bob, thread):
    make_message(thread, bob, "for alice")

    response = client_for(staff).get(URL, {"user": alice.pk})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [t["id"] for t in results] == [thread.pk]
    assert results[0]["unread_count"] == 1


def test_staff_naming_an_unknown_user_gets_400(client_for, staff):
    response = client_for(staff).get(URL, {"user": 987654})

    assert response.status_code == 400
    assert response.json() == {"user": ["No user has id 987654."]}


@pytest.mark.parametrize(
    "value", ["abc", "0", "-5", "1.5", "1_0", "99999999999999999999", json.dumps(["1"])]
)
def test_malformed_user_query_is_a_400(client_for, alice, value):
    response = client_for(alice).get(URL, {"user": value})

    assert response.status_code == 400
    assert "user" in response.json()


def test_anonymous_caller_gets_401(anon_client, thread):
    response = anon_client.get(URL)

    assert response.status_code == 401
    assert "detail" in response.json()


def _threads_with_messages(user, count, messages_each):
    threads = []
    for partner in UserFactory.create_batch(count):
        thread = make_thread(user, partner)
        for number in range(messages_each):
            make_message(thread, partner if number % 2 else user, f"message {number}")
        threads.append(thread)
    return threads


@pytest.mark.parametrize(("threads", "messages_each"), [(1, 1), (25, 6)])
def test_query_count_does_not_grow_with_threads_or_messages(
    client_for, alice, django_assert_num_queries, threads, messages_each
):
    _threads_with_messages(alice, threads, messages_each)
    client = client_for(alice)
    # 1 the caller (JWT), 2 count of the caller's threads, 3 the page: threads with both users
    # and their presence (as the caller may see it), last message and the caller's unread count
    # in each, in one statement.
    with django_assert_num_queries(3):
        response = client.get(URL)
    assert len(response.json()["results"]) == min(threads, 20)


def test_query_count_for_staff_naming_another_user(
    client_for, staff, alice, django_assert_num_queries
):
    _threads_with_messages(alice, 3, 2)
    client = client_for(staff)
    # 1 the caller (JWT), 2 the named user, 3 count, 4 the page.
    with django_assert_num_queries(4):
        response = client.get(URL, {"user": alice.pk})
    assert response.json()["count"] == 3


def test_query_count_without_threads(client_for, alice, django_assert_num_queries):
    client = client_for(alice)
    # 1 the caller (JWT), 2 count; an empty count skips the page and its summaries.
    with django_assert_num_queries(2):
        response = client.get(URL)
    assert response.json()["results"] == []
