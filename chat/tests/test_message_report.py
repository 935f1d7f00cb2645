"""POST /api/messages/<id>/report/: the recipient reports a message; the report keeps the
message as it was, whatever happens to the message afterwards."""

import pytest

from chat import services
from chat.models import Report
from chat.tests.factories import make_message


def url(message_id):
    return f"/api/messages/{message_id}/report/"


@pytest.fixture
def message(thread, alice):
    return make_message(thread, alice, "buy cheap watches")


def test_the_recipient_reports_and_the_copy_is_kept(client_for, bob, alice, thread, message):
    response = client_for(bob).post(
        url(message.pk), {"reason": "spam", "comment": "third time"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "reason", "created"}
    assert body["reason"] == "spam"
    report = Report.objects.get(pk=body["id"])
    assert (report.reporter, report.sender, report.message) == (bob, alice, message)
    assert (report.text, report.comment, report.state) == (
        "buy cheap watches",
        "third time",
        "open",
    )
    assert (report.thread_id_reported, report.message_id_reported) == (thread.pk, message.pk)


def test_reporting_again_answers_the_first_report(client_for, bob, message):
    first = client_for(bob).post(url(message.pk), {"reason": "spam"}, format="json")
    again = client_for(bob).post(url(message.pk), {"reason": "other"}, format="json")

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Report.objects.count() == 1


def test_the_copy_outlives_edits_deletion_and_the_thread(client_for, alice, bob, thread, message):
    report_id = client_for(bob).post(url(message.pk), {"reason": "harassment"}, format="json")
    report_id = report_id.json()["id"]

    services.message_edit(message=message, user=alice, text="nothing to see")
    services.message_delete_for_everyone(message=message, user=alice)
    services.thread_delete(thread=thread)

    report = Report.objects.get(pk=report_id)
    assert report.message is None
    assert (report.text, report.reason, report.sender) == ("buy cheap watches", "harassment", alice)


def test_the_sender_may_not_report_their_own_message(client_for, alice, message):
    response = client_for(alice).post(url(message.pk), {"reason": "spam"}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Only its recipient can report a message."}
    assert not Report.objects.exists()


def test_an_outsider_gets_the_404_of_a_message_that_does_not_exist(client_for, outsider, message):
    response = client_for(outsider).post(url(message.pk), {"reason": "spam"}, format="json")
    none = client_for(outsider).post(url(999_999), {"reason": "spam"}, format="json")

    assert response.status_code == none.status_code == 404
    assert response.json() == none.json()


def test_a_message_hidden_by_the_recipient_is_not_theirs_to_report(client_for, bob, message):
    services.message_hide(message=message, user=bob)

    assert (
        client_for(bob).post(url(message.pk), {"reason": "spam"}, format="json").status_code == 404
    )


def test_a_tombstone_has_nothing_left_to_report(client_for, alice, bob, message):
    services.message_delete_for_everyone(message=message, user=alice)

    response = client_for(bob).post(url(message.pk), {"reason": "spam"}, format="json")

    assert response.status_code == 409
    assert "deleted" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "boring"}, "reason"),
        ({"reason": ["spam"]}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": "spam", "comment": "x" * 1001}, "comment"),
        ({"reason": "spam", "comment": 12}, "comment"),
        ({"reason": "spam", "comment": None}, "comment"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client_for, bob, message, body, field):
    response = client_for(bob).post(url(message.pk), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()


def test_a_1000_character_comment_is_accepted(client_for, bob, message):
    response = client_for(bob).post(
        url(message.pk), {"reason": "other", "comment": "x" * 1000}, format="json"
    )

    assert response.status_code == 201


def test_anonymous_callers_get_401(anon_client, message):
    assert anon_client.post(url(message.pk), {"reason": "spam"}, format="json").status_code == 401


def test_reporting_runs_a_fixed_number_of_queries(client_for, bob, message, counted):
    client = client_for(bob)
    # 1 the caller (JWT), 2 the message (access check), 3 SAVEPOINT, 4 an earlier report by the
    # caller, 5 SAVEPOINT, 6 INSERT, 7 RELEASE, 8 RELEASE; no event.
    with counted(8):
        response = client.post(url(message.pk), {"reason": "spam"}, format="json")
    assert response.status_code == 201
