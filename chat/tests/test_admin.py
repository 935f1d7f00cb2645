"""The operators' admin: lists, change pages, the add form's rules, bulk actions, query counts."""

import re

import pytest
from django.test import Client

from chat import services
from chat.models import Message, Participant, Thread
from chat.tests import attachment_files as made
from chat.tests.factories import UserFactory, make_message, make_thread
from chat.tests.inbox import Inbox

THREADS = "/admin/chat/thread/"
MESSAGES = "/admin/chat/message/"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_non_staff_users_are_sent_to_the_login_page(client, alice):
    client.force_login(alice)

    response = client.get(THREADS)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_thread_list_shows_participants_and_message_count(admin_client, alice, bob, thread):
    make_message(thread, alice, "one")
    make_message(thread, bob, "two")

    response = admin_client.get(THREADS)

    assert response.status_code == 200
    page = response.content.decode()
    assert "alice ↔ bob" in page
    assert '<td class="field-message_count">2</td>' in page


def test_thread_search_finds_by_either_username(admin_client, alice, bob, outsider, thread):
    carol = UserFactory(username="carol")
    make_thread(outsider, carol)

    by_bob = admin_client.get(THREADS, {"q": "bob"}).content.decode()
    by_carol = admin_client.get(THREADS, {"q": "carol"}).content.decode()

    assert "alice ↔ bob" in by_bob
    assert "mallory ↔ carol" not in by_bob
    assert "mallory ↔ carol" in by_carol
    assert "alice ↔ bob" not in by_carol


def test_thread_change_page_shows_recent_messages_and_a_link_to_all(admin_client, alice, thread):
    make_message(thread, alice, "hello from the admin test")

    response = admin_client.get(f"{THREADS}{thread.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "hello from the admin test" in page
    assert f"{MESSAGES}?thread={thread.pk}" in page


def test_thread_page_is_view_only(admin_client, thread):
    page = admin_client.get(f"{THREADS}{thread.pk}/change/").content.decode()

    assert "View thread" in page
    assert 'name="_save"' not in page


def test_thread_change_is_refused_and_changes_nothing(admin_client, alice, bob, thread):
    before = Thread.objects.get(pk=thread.pk)

    response = admin_client.post(f"{THREADS}{thread.pk}/change/", {"_save": "Save"})

    assert response.status_code == 403
    after = Thread.objects.get(pk=thread.pk)
    assert (after.user_low_id, after.user_high_id, after.updated) == (
        before.user_low_id,
        before.user_high_id,
        before.updated,
    )


def test_message_list_filtered_by_thread(admin_client, alice, bob, outsider, thread):
    make_message(thread, alice, "in this thread")
    make_message(make_thread(alice, outsider), outsider, "in another thread")

    response = admin_client.get(MESSAGES, {"thread": thread.pk})

    assert response.status_code == 200
    page = response.content.decode()
    assert "in this thread" in page
    assert "in another thread" not in page


def test_message_search_finds_text_and_sender(admin_client, alice, bob, thread):
    make_message(thread, alice, "needle in a haystack")
    make_message(thread, bob, "something else")

    by_text = admin_client.get(MESSAGES, {"q": "needle"}).content.decode()
    by_sender = admin_client.get(MESSAGES, {"q": "bob"}).content.decode()

    assert "needle in a haystack" in by_text
    assert "something else" not in by_text
    assert "something else" in by_sender
    assert "needle in a haystack" not in by_sender


def test_message_change_page_opens(admin_client, alice, thread):
    message = make_message(thread, alice, "look at me")

    response = admin_client.get(f"{MESSAGES}{message.pk}/change/")

    assert response.status_code == 200
    assert "look at me" in response.content.decode()


def test_operators_cannot_write_messages(admin_client):
    assert admin_client.get(f"{MESSAGES}add/").status_code == 403


def test_add_form_opens(admin_client):
    response = admin_client.get(f"{THREADS}add/")

    assert response.status_code == 200
    assert "Exactly two different active users." in response.content.decode()


def test_add_form_with_three_participants_is_a_form_error(admin_client, alice, bob):
    carol = UserFactory(username="carol")

    response = admin_client.post(
        f"{THREADS}add/", {"participants": [alice.pk, bob.pk, carol.pk], "_save": "Save"}
    )

    assert response.status_code == 200
    assert "A thread has exactly two participants; you chose 3." in response.content.decode()
    assert not Thread.objects.exists()
    assert not Participant.objects.exists()


@pytest.mark.parametrize("chosen", [[], ["alice"]])
def test_add_form_with_fewer_than_two_participants_is_a_form_error(
    admin_client, alice, bob, chosen
):
    users = {"alice": alice}

    response = admin_client.post(
        f"{THREADS}add/", {"participants": [users[name].pk for name in chosen], "_save": "Save"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["participants"]
    assert not Thread.objects.exists()


def test_add_form_with_an_inactive_user_is_a_form_error(admin_client, alice):
    gone = UserFactory(username="gone", is_active=False)

    response = admin_client.post(
        f"{THREADS}add/", {"participants": [alice.pk, gone.pk], "_save": "Save"}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Thread.objects.exists()


def test_add_form_with_two_users_creates_the_thread_through_the_service(admin_client, alice, bob):
    response = admin_client.post(
        f"{THREADS}add/", {"participants": [bob.pk, alice.pk], "_save": "Save"}
    )

    assert response.status_code == 302
    thread = Thread.objects.get()
    assert sorted(Participant.objects.filter(thread=thread).values_list("user_id", flat=True)) == (
        sorted([alice.pk, bob.pk])
    )
    assert thread.user_low_id < thread.user_high_id


def test_add_form_for_an_existing_pair_is_a_form_error(admin_client, alice, bob, thread):
    response = admin_client.post(
        f"{THREADS}add/", {"participants": [bob.pk, alice.pk], "_save": "Save"}
    )

    assert response.status_code == 200
    assert "alice and bob already have a thread." in response.content.decode()
    assert Thread.objects.count() == 1


def test_participant_autocomplete_finds_users(admin_client, alice, bob):
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "chat", "model_name": "thread", "field_name": "participants", "term": "ali"},
    )

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == ["alice"]


def test_bulk_mark_read_and_unread(admin_client, alice, bob, thread):
    first = make_message(thread, bob, "one")
    second = make_message(thread, bob, "two")
    untouched = make_message(thread, bob, "three")

    admin_client.post(MESSAGES, {"action": "mark_read", "_selected_action": [first.pk, second.pk]})
    read = set(Message.objects.filter(is_read=True).values_list("pk", flat=True))
    admin_client.post(MESSAGES, {"action": "mark_unread", "_selected_action": [first.pk]})
    after = set(Message.objects.filter(is_read=True).values_list("pk", flat=True))

    assert read == {first.pk, second.pk}
    assert after == {second.pk}
    assert untouched.pk not in read


def test_bulk_action_reports_how_many_changed(admin_client, bob, thread):
    message = make_message(thread, bob, "one")

    response = admin_client.post(
        MESSAGES, {"action": "mark_read", "_selected_action": [message.pk]}, follow=True
    )

    assert "1 message(s) marked read." in response.content.decode()


def test_deleting_a_thread_in_the_admin_removes_its_messages(admin_client, alice, thread):
    make_message(thread, alice, "bye")

    response = admin_client.post(f"{THREADS}{thread.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Thread.objects.exists()
    assert not Message.objects.exists()


def _threads_with_messages(count):
    for _ in range(count):
        first, second = UserFactory.create_batch(2)
        thread = make_thread(first, second)
        make_message(thread, first, "hi")
        make_message(thread, second, "hello")


@pytest.mark.parametrize("rows", [1, 12])
def test_thread_list_runs_the_same_queries_whatever_the_rows(
    admin_client, django_assert_num_queries, rows
):
    _threads_with_messages(rows)
    # 1 the session, 2 the operator, 3 count for the paginator, 4 the page of threads with both
    # users and the message counts the database keeps joined, 5 the date hierarchy's first and
    # last dates, 6 its distinct days. No query per row.
    with django_assert_num_queries(6):
        response = admin_client.get(THREADS)
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [1, 12])
def test_message_list_runs_the_same_queries_whatever_the_rows(
    admin_client, django_assert_num_queries, rows
):
    _threads_with_messages(rows)
    # 1 the session, 2 the operator, 3 count for the paginator, 4 the page of messages with
    # sender, thread and both participants joined. No query per row, and no date hierarchy
    # (it would group every message by day).
    with django_assert_num_queries(4):
        response = admin_client.get(MESSAGES)
    assert response.status_code == 200


def test_thread_change_page_shows_only_the_latest_20_messages(admin_client, alice, thread):
    for number in range(25):
        make_message(thread, alice, f"msg-{number:03}")

    page = admin_client.get(f"{THREADS}{thread.pk}/change/").content.decode()

    assert "msg-024" in page
    assert "msg-005" in page
    assert "msg-004" not in page
    assert "All 25 messages" in page


def test_a_filter_naming_an_impossible_id_is_refused_not_a_500(admin_client, thread):
    for url in (
        f"{MESSAGES}?thread=99999999999999999999",
        f"{THREADS}?id__in=1,-99999999999999999999",
    ):
        response = admin_client.get(url)
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")


def test_a_search_for_a_long_number_is_still_a_search(admin_client, alice, thread):
    make_message(thread, alice, "call 99999999999999999999")

    response = admin_client.get(f"{MESSAGES}?q=99999999999999999999")

    assert response.status_code == 200
    assert "call 99999999999999999999" in response.content.decode()


def test_the_message_page_shows_its_earlier_texts(admin_client, alice, thread):
    message = make_message(thread, alice, "first draft")
    services.message_edit(message=message, user=alice, text="final words")

    page = admin_client.get(f"{MESSAGES}{message.pk}/change/").content.decode()

    assert "final words" in page
    assert "first draft" in page
    assert "edit history" in page


def test_operators_delete_messages_for_everyone_leaving_tombstones(
    admin_client, alice, bob, thread, django_capture_on_commit_callbacks
):
    kept = make_message(thread, alice, "fine")
    removed = [make_message(thread, bob, "spam"), make_message(thread, bob, "more spam")]
    inbox = Inbox(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            MESSAGES,
            {"action": "delete_for_everyone", "_selected_action": [m.pk for m in removed]},
        )

    assert response.status_code == 302
    assert set(Message.objects.filter(deleted=True).values_list("id", flat=True)) == {
        m.pk for m in removed
    }
    assert Message.objects.get(pk=kept.pk).text == "fine"
    assert Message.objects.count() == 3  # tombstones, not removed rows
    assert [e["type"] for e in inbox.events()] == ["message.deleted", "message.deleted"]
    listing = admin_client.get(f"{MESSAGES}?deleted__exact=1").content.decode()
    assert "Message deleted" in listing
    assert "spam" not in listing


def test_djangos_own_delete_of_a_message_leaves_a_tombstone_too(admin_client, alice, thread):
    message = make_message(thread, alice, "oops")

    admin_client.post(f"{MESSAGES}{message.pk}/delete/", {"post": "yes"})

    stored = Message.objects.get(pk=message.pk)
    assert (stored.deleted, stored.text) == (True, "")
    actions = admin_client.get(MESSAGES).context["action_form"].fields["action"].choices
    assert "delete_selected" not in dict(actions)


def test_bulk_mark_unread_leaves_what_the_recipient_no_longer_sees(
    admin_client, alice, bob, outsider, thread
):
    hidden = make_message(thread, alice, "hidden by bob")
    services.message_hide(message=hidden, user=bob)
    with_outsider = make_thread(bob, outsider)
    cleared = make_message(with_outsider, outsider, "cleared by bob")
    services.thread_clear(thread=with_outsider, user=bob)
    visible = make_message(thread, alice, "visible")
    services.message_mark_read(message=visible, user=bob)
    ids = [hidden.pk, cleared.pk, visible.pk]

    admin_client.post(MESSAGES, {"action": "mark_unread", "_selected_action": ids})

    unread = set(Message.objects.filter(pk__in=ids, is_read=False).values_list("id", flat=True))
    assert unread == {visible.pk}


def test_the_message_page_shows_its_files_as_thumbnails_that_open_them(
    admin_client, alice, thread, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    photo = services.attachment_upload(
        user=alice, upload=made.upload(made.image_bytes(made.gradient(), "PNG"), "harbour.png")
    )
    notes = services.attachment_upload(user=alice, upload=made.upload(b"minutes", "notes.txt"))
    message, _ = services.message_send(
        thread=thread, sender=alice, text="", attachment_ids=[photo.pk, notes.pk]
    )

    page = admin_client.get(f"{MESSAGES}{message.pk}/change/")

    html = page.content.decode()
    thumbnail = re.search(r'<img src="([^"]+)" alt="harbour.png"', html)
    assert thumbnail is not None
    assert "640 x 480 px" in html
    assert "notes.txt" in html
    # The links work as they are, in the operator's browser: signed, no token needed.
    served = Client().get(thumbnail.group(1).replace("&amp;", "&"))
    assert (served.status_code, served["Content-Type"]) == (200, "image/png")
    download = (
        re.search(r'<a href="([^"]+)">Download notes.txt</a>', html).group(1).replace("&amp;", "&")
    )
    assert b"".join(Client().get(download).streaming_content) == b"minutes"
