"""GET /api/users/<id>/presence/: a user's presence, for themselves and the users who share a
thread with them; a 404 for anyone else, exactly as for a user that does not exist."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Block, Profile
from chat import presence
from chat.models import PresenceSocket
from chat.tests.factories import UserFactory


def url(user_id) -> str:
    return f"/api/users/{user_id}/presence/"


def go_online(user, channel_name="socket-1"):
    presence.socket_open(user_id=user.pk, channel_name=channel_name, worker="test-worker")


LAST_SEEN = datetime(2026, 11, 25, 10, 4, tzinfo=UTC)


def test_a_partner_online_and_offline(client_for, alice, bob, thread):
    client = client_for(alice)
    assert client.get(url(bob.pk)).json() == {"online": False, "last_seen": None}  # never seen

    Profile.objects.create(user=bob, last_seen=LAST_SEEN)
    assert client.get(url(bob.pk)).json() == {
        "online": False,
        "last_seen": "2026-11-25T10:04:00Z",
    }

    go_online(bob)
    # Online: last_seen is for when they are not.
    assert client.get(url(bob.pk)).json() == {"online": True, "last_seen": None}


def test_a_socket_row_past_its_expiry_is_offline(client_for, alice, bob, thread):
    now = timezone.now()
    PresenceSocket.objects.create(
        channel_name="stale", user=bob, worker="dead-worker", seen=now, expires=now
    )

    assert client_for(alice).get(url(bob.pk)).json()["online"] is False


def test_a_user_may_always_ask_about_themselves(client_for, outsider):
    assert client_for(outsider).get(url(outsider.pk)).json() == {
        "online": False,
        "last_seen": None,
    }
    go_online(outsider)
    assert client_for(outsider).get(url(outsider.pk)).json()["online"] is True


def test_outsiders_and_staff_get_the_404_of_a_user_that_does_not_exist(
    client_for, alice, bob, thread, outsider, staff
):
    go_online(bob)
    unknown = client_for(outsider).get(url(999_999))

    for caller in (outsider, staff):
        response = client_for(caller).get(url(bob.pk))
        assert response.status_code == 404
        assert response.json() == unknown.json() == {"detail": "No user found."}


def test_a_deleted_thread_ends_the_right_to_ask(client_for, alice, bob, thread):
    thread.delete()

    assert client_for(alice).get(url(bob.pk)).status_code == 404


@pytest.mark.parametrize("direction", ["alice blocks bob", "bob blocks alice"])
def test_a_block_either_way_hides_presence_both_ways(client_for, alice, bob, thread, direction):
    Profile.objects.create(user=bob, last_seen=LAST_SEEN)
    Profile.objects.create(user=alice, last_seen=LAST_SEEN)
    go_online(bob, "bob-socket")
    go_online(alice, "alice-socket")
    blocker, blocked = (alice, bob) if direction == "alice blocks bob" else (bob, alice)
    Block.objects.create(blocker=blocker, blocked=blocked)
    hidden = {"online": False, "last_seen": None}

    assert client_for(alice).get(url(bob.pk)).json() == hidden
    assert client_for(bob).get(url(alice.pk)).json() == hidden
    # Their own presence is not theirs to hide from themselves.
    assert client_for(bob).get(url(bob.pk)).json()["online"] is True


def test_show_presence_off_hides_it_from_everyone(client_for, alice, bob, thread):
    Profile.objects.create(user=bob, last_seen=LAST_SEEN, show_presence=False)
    go_online(bob)
    hidden = {"online": False, "last_seen": None}

    assert client_for(alice).get(url(bob.pk)).json() == hidden
    # What everyone sees, they see too: the setting's effect, checkable by its owner.
    assert client_for(bob).get(url(bob.pk)).json() == hidden
    # The setting is theirs alone: alice's own presence still shows.
    go_online(alice, "alice-socket")
    assert client_for(bob).get(url(alice.pk)).json()["online"] is True


@pytest.mark.parametrize("path", ["abc", "-1", "1.0", "0", str(2**63), "1e3"])
def test_malformed_ids_are_404s(client_for, alice, path):
    response = client_for(alice).get(f"/api/users/{path}/presence/")

    assert response.status_code == 404
    assert list(response.json()) == ["detail"]


def test_a_deactivated_partner_is_still_answered(client_for, alice, bob, thread):
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    assert client_for(alice).get(url(bob.pk)).json() == {"online": False, "last_seen": None}


def test_runs_two_queries(client_for, alice, bob, thread, django_assert_num_queries):
    go_online(bob)
    for other in UserFactory.create_batch(3):
        Block.objects.create(blocker=other, blocked=alice)
    client = client_for(alice)
    # 1 the caller (JWT), 2 the access check with the presence: the pair's thread, the profile,
    # an unexpired socket row and a block either way, in one statement.
    with django_assert_num_queries(2):
        response = client.get(url(bob.pk))
    assert response.json() == {"online": True, "last_seen": None}


def test_last_seen_is_to_the_minute(client_for, alice, bob, thread):
    seen = timezone.now() - timedelta(minutes=5)
    PresenceSocket.objects.create(
        channel_name="closed", user=bob, worker="", seen=seen, expires=seen
    )

    assert presence.sweep() == 1

    last_seen = client_for(alice).get(url(bob.pk)).json()["last_seen"]
    assert last_seen == seen.replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")
