"""POST / DELETE /api/threads/<id>/mute/: a participant mutes a thread for themselves, until a
time or until unmuted. Muting silences notifications only: live events flow as before."""

from datetime import UTC, datetime, timedelta

import pytest

from chat.models import Participant
from chat.tests.factories import make_message
from chat.tests.inbox import Inbox


def url(thread_id):
    return f"/api/threads/{thread_id}/mute/"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_muting_until_unmuted_shows_on_the_callers_thread_only(client_for, alice, bob, thread):
    response = client_for(alice).post(url(thread.pk), {"until": None}, format="json")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["muted"]) == (thread.pk, True)
    assert response.json()["muted_until"] is None
    listed = client_for(alice).get("/api/threads/").json()["results"][0]
    assert (listed["muted"], listed["muted_until"]) == (True, None)
    assert client_for(bob).get(f"/api/threads/{thread.pk}/").json()["muted"] is False


def test_an_empty_body_mutes_until_unmuted(client_for, alice, thread):
    response = client_for(alice).post(url(thread.pk))

    assert response.status_code == 200
    assert response.json()["muted"] is True


def test_muting_until_a_time_ends_by_itself(client_for, alice, thread):
    until = datetime.now(UTC) + timedelta(hours=8)

    response = client_for(alice).post(url(thread.pk), {"until": iso(until)}, format="json")

    assert response.json()["muted"] is True
    assert datetime.fromisoformat(response.json()["muted_until"]) == until
    # Time passes: the stored mute has run out, and the thread says so without anyone unmuting.
    Participant.objects.filter(thread=thread, user=alice).update(
        muted_until=datetime.now(UTC) - timedelta(seconds=1)
    )
    thread_now = client_for(alice).get(f"/api/threads/{thread.pk}/").json()
    assert (thread_now["muted"], thread_now["muted_until"]) == (False, None)


def test_unmuting(client_for, alice, thread):
    client_for(alice).post(url(thread.pk), {"until": None}, format="json")

    response = client_for(alice).delete(url(thread.pk))

    assert response.status_code == 200
    assert (response.json()["muted"], response.json()["muted_until"]) == (False, None)
    assert client_for(alice).delete(url(thread.pk)).status_code == 200  # harmless again


def test_a_muted_thread_still_gets_its_live_events(
    client_for, alice, bob, thread, django_capture_on_commit_callbacks
):
    client_for(alice).post(url(thread.pk), {"until": None}, format="json")
    inbox = Inbox(alice)

    with django_capture_on_commit_callbacks(execute=True):
        make_message(thread, bob, "still here")

    assert [event["type"] for event in inbox.events()] == ["message.created"]


@pytest.mark.parametrize(
    "until",
    ["tomorrow", 12, ["2030-01-01T00:00:00Z"], "2000-01-01T00:00:00Z", {"at": 1}],
)
def test_a_bad_or_past_time_is_a_400(client_for, alice, thread, until):
    response = client_for(alice).post(url(thread.pk), {"until": until}, format="json")

    assert response.status_code == 400
    assert "until" in response.json()
    assert client_for(alice).get(f"/api/threads/{thread.pk}/").json()["muted"] is False


def test_outsiders_get_the_404_of_a_thread_that_does_not_exist(client_for, outsider, thread):
    for method in ("post", "delete"):
        response = getattr(client_for(outsider), method)(url(thread.pk))
        none = getattr(client_for(outsider), method)(url(999_999))

        assert response.status_code == none.status_code == 404
        assert response.json() == none.json()
    assert not Participant.objects.filter(muted=True).exists()


def test_muting_runs_a_fixed_number_of_queries(
    client_for, alice, thread, django_assert_num_queries
):
    client = client_for(alice)
    # 1 the caller (JWT), 2 the thread (access check), 3 UPDATE the caller's seat, 4 the thread
    # as the caller's list reads it.
    with django_assert_num_queries(4):
        response = client.post(url(thread.pk), {"until": None}, format="json")
    assert response.status_code == 200
