"""POST /api/threads/: create-or-get the thread of the caller and one other user."""

import json

import pytest
from rest_framework.test import APIClient

from accounts.models import Profile
from chat import presence
from chat.models import Participant, Thread
from chat.tests.factories import UserFactory, make_message, make_thread
from chat.tests.inbox import Inbox

URL = "/api/threads/"


def test_creates_a_thread_with_one_id_and_answers_201(client_for, alice, bob):
    response = client_for(alice).post(URL, {"participants": [bob.pk]}, format="json")

    assert response.status_code == 201
    body = response.json()
    thread = Thread.objects.get()
    assert body["id"] == thread.pk
    assert body["participants"] == [
        {"id": alice.pk, "username": "alice", "online": False, "last_seen": None},
        {"id": bob.pk, "username": "bob", "online": False, "last_seen": None},
    ]
    assert body["last_message"] is None
    assert body["unread_count"] == 0
    assert body["created"].endswith("Z") or "+00:00" in body["created"]
    assert set(Participant.objects.values_list("user_id", flat=True)) == {alice.pk, bob.pk}


def test_the_response_and_each_ones_event_carry_presence_as_that_user_may_see_it(
    client_for, alice, bob, django_capture_on_commit_callbacks
):
    Profile.objects.create(user=alice, show_presence=False)
    presence.socket_open(user_id=alice.pk, channel_name="alice-socket", worker="test-worker")
    presence.socket_open(user_id=bob.pk, channel_name="bob-socket", worker="test-worker")
    inboxes = {"alice": Inbox(alice), "bob": Inbox(bob)}

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(URL, {"participants": [bob.pk]}, format="json")

    online = {"online": True, "last_seen": None}
    hidden = {"online": False, "last_seen": None}
    [for_alice] = inboxes["alice"].events()
    [for_bob] = inboxes["bob"].events()
    as_alice_sees = [
        {"id": alice.pk, "username": "alice", **hidden},
        {"id": bob.pk, "username": "bob", **online},
    ]
    assert response.json()["participants"] == for_alice["thread"]["participants"] == as_alice_sees
    assert for_bob["thread"]["participants"] == [
        {"id": alice.pk, "username": "alice", **hidden},
        {"id": bob.pk, "username": "bob", **online},
    ]


def test_second_call_answers_200_with_the_same_thread(client_for, alice, bob):
    first = client_for(alice).post(URL, {"participants": [bob.pk]}, format="json")
    second = client_for(alice).post(URL, {"participants": [bob.pk]}, format="json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert Thread.objects.count() == 1


@pytest.mark.parametrize(
    ("creator", "ids"),
    [
        ("alice", ["bob"]),
        ("bob", ["alice"]),
        ("alice", ["alice", "bob"]),
        ("alice", ["bob", "alice"]),
        ("bob", ["alice", "bob"]),
        ("bob", ["bob", "alice"]),
    ],
)
def test_every_way_of_naming_the_pair_gets_the_existing_thread(
    client_for, alice, bob, thread, creator, ids
):
    users = {"alice": alice, "bob": bob}

    response = client_for(users[creator]).post(
        URL, {"participants": [users[name].pk for name in ids]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["id"] == thread.pk
    assert Thread.objects.count() == 1


def test_two_ids_including_the_caller_create_the_thread(client_for, alice, bob):
    response = client_for(bob).post(URL, {"participants": [alice.pk, bob.pk]}, format="json")

    assert response.status_code == 201
    assert Thread.objects.get().pk == response.json()["id"]


def test_existing_thread_comes_back_with_its_summary_for_the_caller(client_for, alice, bob, thread):
    make_message(thread, alice, "one")
    last = make_message(thread, alice, "two")

    response = client_for(bob).post(URL, {"participants": [alice.pk]}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert body["last_message"]["id"] == last.pk
    assert body["unread_count"] == 2


def test_another_pair_gets_a_thread_of_its_own(client_for, alice, bob):
    carol = UserFactory(username="carol")
    make_thread(alice, bob)

    response = client_for(alice).post(URL, {"participants": [carol.pk]}, format="json")

    assert response.status_code == 201
    assert Thread.objects.count() == 2


def test_self_chat_is_refused(client_for, alice):
    response = client_for(alice).post(URL, {"participants": [alice.pk]}, format="json")

    assert response.status_code == 400
    assert "yourself" in response.json()["participants"][0]
    assert not Thread.objects.exists()


def test_the_caller_twice_is_a_self_chat(client_for, alice):
    response = client_for(alice).post(URL, {"participants": [alice.pk, alice.pk]}, format="json")

    assert response.status_code == 400
    assert "yourself" in response.json()["participants"][0]


def test_two_ids_without_the_caller_are_refused(client_for, outsider, alice, bob):
    response = client_for(outsider).post(URL, {"participants": [alice.pk, bob.pk]}, format="json")

    assert response.status_code == 400
    assert "include you" in response.json()["participants"][0]
    assert not Thread.objects.exists()


def test_outsider_cannot_get_an_existing_thread_of_others(client_for, outsider, alice, bob, thread):
    make_message(thread, alice, "private")

    response = client_for(outsider).post(URL, {"participants": [alice.pk, bob.pk]}, format="json")

    assert response.status_code == 400
    assert "private" not in response.content.decode()
    assert Thread.objects.count() == 1


def test_three_ids_are_refused(client_for, alice, bob):
    carol = UserFactory(username="carol")

    response = client_for(alice).post(
        URL, {"participants": [alice.pk, bob.pk, carol.pk]}, format="json"
    )

    assert response.status_code == 400
    assert "no more than 2" in response.json()["participants"][0]
    assert not Thread.objects.exists()


def test_unknown_user_is_refused_saying_so(client_for, alice):
    response = client_for(alice).post(URL, {"participants": [987654]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"participants": ["No active user has id 987654."]}


def test_inactive_user_is_refused_like_an_unknown_one(client_for, alice):
    gone = UserFactory(username="gone", is_active=False)

    response = client_for(alice).post(URL, {"participants": [gone.pk]}, format="json")

    assert response.status_code == 400
    assert response.json() == {"participants": [f"No active user has id {gone.pk}."]}
    assert not Thread.objects.exists()


@pytest.mark.parametrize(
    ("participants", "message"),
    [
        ("5", "Expected a list of items"),
        (5, "Expected a list of items"),
        ({"id": 5}, "Expected a list of items"),
        (None, "may not be null"),
        ([], "at least 1"),
        (["abc"], "valid integer"),
        ([True], "valid integer"),
        ([1.5], "valid integer"),
        ([2.0], "valid integer"),
        (["1_0"], "valid integer"),
        ([None], "may not be null"),
        ([[2]], "valid integer"),
        ([0], "greater than or equal to 1"),
        ([-3], "greater than or equal to 1"),
        ([99999999999999999999], "less than or equal to"),
        (["\ud800"], "valid integer"),
    ],
)
def test_malformed_participants_are_a_400_naming_the_field(
    client_for, alice, participants, message
):
    # json.dumps escapes a lone surrogate as "\ud800", as a client's JSON text would carry it.
    body = json.dumps({"participants": participants})

    response = client_for(alice).post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert message in str(response.json()["participants"])
    assert not Thread.objects.exists()


def test_missing_participants_is_a_400(client_for, alice):
    response = client_for(alice).post(URL, {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"participants": ["This field is required."]}


@pytest.mark.parametrize("body", ["[1, 2]", '"hi"', "null", "{not json"])
def test_a_body_that_is_not_an_object_is_a_400(client_for, alice, body):
    response = client_for(alice).post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()


def test_anonymous_caller_gets_401(anon_client, bob):
    response = anon_client.post(URL, {"participants": [bob.pk]}, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()
    assert not Thread.objects.exists()


def test_a_bad_token_gets_401(bob):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.post(URL, {"participants": [bob.pk]}, format="json")

    assert response.status_code == 401


def test_creating_runs_a_fixed_number_of_queries(client_for, alice, bob, counted):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the other user (validation), 3 SAVEPOINT (service), 4 does either
    # block the other, 5 look for the pair's thread, 6 SAVEPOINT, 7 INSERT thread, 8 INSERT both
    # participants, 9 RELEASE, 10 the webhook endpoints (none), 11 RELEASE, 12 the thread as the
    # caller's list reads it (with both users' presence); after commit, 13 and 14 the thread as
    # each participant sees it, for `thread.created`.
    with counted(14):
        response = client.post(URL, {"participants": [bob.pk]}, format="json")
    assert response.status_code == 201


def test_getting_an_existing_thread_runs_a_fixed_number_of_queries(
    client_for, alice, bob, thread, counted
):
    client = client_for(bob)
    # 1 the caller (JWT), 2 the other user (validation), 3 SAVEPOINT, 4 does either block the
    # other, 5 the pair's thread, 6 RELEASE, 7 the thread as the caller's list reads it; no event.
    with counted(7):
        response = client.post(URL, {"participants": [alice.pk]}, format="json")
    assert response.status_code == 200
