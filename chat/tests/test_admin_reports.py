"""The reports queue in the admin: the list and its filters, a report in its thread's context,
and the three ways to close a report (dismiss, delete the message, deactivate the sender)."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken

from chat import services
from chat.models import Message, Report
from chat.tests import attachment_files as made
from chat.tests.factories import make_message

REPORTS = "/admin/chat/report/"


@pytest.fixture
def reported(thread, alice, bob):
    """bob reports alice's second message, between two others."""
    make_message(thread, bob, "before it")
    message = make_message(thread, alice, "you will regret this")
    make_message(thread, bob, "after it")
    report, _ = services.message_report(message=message, user=bob, reason="harassment")
    return report


def select(action, *reports):
    return {"action": action, "_selected_action": [report.pk for report in reports]}


def test_the_queue_lists_reports_and_filters_by_state_and_reason(admin_client, reported):
    page = admin_client.get(REPORTS).content.decode()
    by_reason = admin_client.get(REPORTS + "?reason__exact=spam").content.decode()
    open_ones = admin_client.get(REPORTS + "?state=open").content.decode()

    assert "you will regret this" in page
    assert "you will regret this" not in by_reason
    assert "you will regret this" in open_ones


def test_the_queue_opens_on_open_reports_and_all_is_a_choice(admin_client, admin_user, reported):
    services.reports_dismiss(reports=Report.objects.all(), operator=admin_user)

    default = admin_client.get(REPORTS)
    everything = admin_client.get(REPORTS + "?state=all").content.decode()
    dismissed = admin_client.get(REPORTS + "?state=dismissed").content.decode()

    assert "you will regret this" not in default.content.decode()
    assert "you will regret this" in everything
    assert "you will regret this" in dismissed
    choices = [
        c["display"] for c in default.context["cl"].filter_specs[0].choices(default.context["cl"])
    ]
    assert choices == ["Open", "Dismissed", "Actioned", "All"]


def test_a_report_shows_its_message_in_context(admin_client, reported, alice):
    services.message_edit(message=reported.message, user=alice, text="edited away")

    page = admin_client.get(f"{REPORTS}{reported.pk}/change/").content.decode()

    # The copy as reported, and the thread around it as it is now.
    assert "you will regret this" in page
    assert "edited away" in page
    assert page.index("before it") < page.index("edited away") < page.index("after it")
    assert 'class="reported"' in page


def test_a_report_whose_thread_is_gone_still_opens(admin_client, reported, thread):
    services.thread_delete(thread=thread)

    response = admin_client.get(f"{REPORTS}{reported.pk}/change/")

    assert response.status_code == 200
    assert "you will regret this" in response.content.decode()
    assert "Gone with its thread" in response.content.decode()


def test_dismissing_closes_the_report_and_touches_nothing_else(admin_client, admin_user, reported):
    response = admin_client.post(REPORTS, select("dismiss", reported), follow=True)

    reported.refresh_from_db()
    assert "1 report(s) dismissed." in response.content.decode()
    assert (reported.state, reported.handled_by) == ("dismissed", admin_user)
    assert reported.handled is not None
    assert Message.objects.get(pk=reported.message_id).text == "you will regret this"


def test_deleting_the_message_leaves_a_tombstone_and_the_copy(admin_client, reported):
    admin_client.post(REPORTS, select("delete_messages", reported))

    reported.refresh_from_db()
    message = Message.objects.get(pk=reported.message_id)
    assert (message.deleted, message.text) == (True, "")
    assert (reported.state, reported.text) == ("actioned", "you will regret this")


def test_deactivating_the_sender_ends_their_sessions(
    admin_client, reported, alice, client_for, anon_client
):
    refresh = RefreshToken.for_user(alice)
    client = client_for(alice)
    assert client.get("/api/users/me/").status_code == 200

    response = admin_client.post(REPORTS, select("deactivate_senders", reported), follow=True)

    assert "1 account(s) deactivated." in response.content.decode()
    assert get_user_model().objects.get(pk=alice.pk).is_active is False
    assert client.get("/api/users/me/").status_code == 401
    refreshed = anon_client.post(
        "/api/auth/token/refresh/", {"refresh": str(refresh)}, format="json"
    )
    assert refreshed.status_code == 401
    reported.refresh_from_db()
    assert reported.state == "actioned"


def test_a_closed_report_keeps_how_it_was_closed(admin_client, reported):
    admin_client.post(REPORTS, select("dismiss", reported))
    admin_client.post(REPORTS, select("delete_messages", reported))

    reported.refresh_from_db()
    assert reported.state == "dismissed"


def test_reports_cannot_be_added_or_edited(admin_client, reported):
    assert admin_client.get(REPORTS + "add/").status_code == 403
    before = Report.objects.values().get(pk=reported.pk)
    admin_client.post(f"{REPORTS}{reported.pk}/change/", {"state": "dismissed", "text": "x"})
    assert Report.objects.values().get(pk=reported.pk) == before


@pytest.mark.parametrize("rows", [1, 8])
def test_the_queue_runs_the_same_queries_whatever_the_rows(
    admin_client, django_assert_num_queries, alice, bob, thread, rows
):
    for n in range(rows):
        message = make_message(thread, alice, f"spam {n}")
        services.message_report(message=message, user=bob, reason="spam")
    # 1 the session, 2 the operator, 3 count for the paginator, 4 the page of reports with the
    # reporter and sender joined. No query per row.
    with django_assert_num_queries(4):
        response = admin_client.get(REPORTS)
    assert response.status_code == 200


def test_a_reported_image_shows_while_it_stays_and_its_name_after(
    admin_client, thread, alice, bob, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    image = made.image_bytes(made.gradient(), "PNG")
    photo = services.attachment_upload(user=alice, upload=made.upload(image, "insult.png"))
    message, _ = services.message_send(
        thread=thread, sender=alice, text="", attachment_ids=[photo.pk]
    )
    report, _ = services.message_report(
        message=Message.objects.get(pk=message.pk), user=bob, reason="harassment"
    )
    assert report.files == [{"name": "insult.png", "content_type": "image/png", "size": photo.size}]

    page = admin_client.get(f"{REPORTS}{report.pk}/change/").content.decode()
    assert 'alt="insult.png"' in page

    with django_capture_on_commit_callbacks(execute=True):
        services.message_delete_for_everyone(message=message, user=alice)
    page = admin_client.get(f"{REPORTS}{report.pk}/change/").content.decode()
    assert "insult.png (image/png," in page
    assert "Deleted with the message since." in page
    assert 'alt="insult.png"' not in page
