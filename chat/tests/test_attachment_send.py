"""Sending uploads with a message (POST /api/threads/<id>/messages/ with "attachments"), and
where sent files then appear: the message page, the thread list, the live event, edits,
deletion."""

import pytest
from django.core.files.storage import default_storage

from chat import services
from chat.models import Attachment, Message
from chat.tests import attachment_files as made
from chat.tests.factories import UserFactory, make_message, make_thread


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def published(monkeypatch):
    """The (user id, event) pairs given to the channel layer while the test runs."""
    from chat import events

    sent = []
    monkeypatch.setattr(events, "send_to_users", sent.extend)
    return sent


def upload(user, content: bytes = b"some notes", name: str = "notes.txt") -> Attachment:
    return services.attachment_upload(user=user, upload=made.upload(content, name))


def image(user) -> Attachment:
    return upload(user, made.image_bytes(made.gradient(), "PNG"), "photo.png")


def send(client, thread, **body):
    return client.post(f"/api/threads/{thread.pk}/messages/", body, format="json")


def stored_files(media) -> list:
    return sorted(path for path in media.rglob("*") if path.is_file())


def test_a_message_carries_its_files_in_upload_order(client_for, alice, thread):
    photo, notes = image(alice), upload(alice)

    response = send(client_for(alice), thread, text="look", attachments=[photo.pk, notes.pk])

    assert response.status_code == 201, response.json()
    files = response.json()["attachments"]
    assert [(f["id"], f["name"], f["content_type"]) for f in files] == [
        (photo.pk, "photo.png", "image/png"),
        (notes.pk, "notes.txt", "text/plain"),
    ]
    assert files[0]["width"] == 640
    assert files[1]["thumbnail_url"] is None
    message = Message.objects.get()
    assert set(Attachment.objects.values_list("message", flat=True)) == {message.pk}


def test_with_files_the_text_may_be_empty_or_left_out(client_for, alice, thread):
    first = send(client_for(alice), thread, text="", attachments=[upload(alice).pk])
    second = send(client_for(alice), thread, attachments=[upload(alice).pk])

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["text"] == ""


def test_without_files_the_text_is_still_required(client_for, alice, thread):
    response = send(client_for(alice), thread, text="  ", attachments=[])

    assert response.status_code == 400
    assert response.json() == {"text": ["The message cannot be empty or only white space."]}


@pytest.mark.parametrize(
    "attachments",
    [
        "3",
        [0],
        ["x"],
        [1.5],
        [2**63],
        list(range(1, 12)),
    ],
)
def test_malformed_attachment_lists_are_a_400(client_for, alice, thread, attachments):
    response = send(client_for(alice), thread, text="hi", attachments=attachments)

    assert response.status_code == 400
    assert "attachments" in response.json()
    assert not Message.objects.exists()


def test_a_file_listed_twice_is_a_400(client_for, alice, thread):
    notes = upload(alice)

    response = send(client_for(alice), thread, text="hi", attachments=[notes.pk, notes.pk])

    assert response.status_code == 400
    assert response.json() == {"attachments": ["Each file can be attached once."]}


def test_ten_files_are_allowed(client_for, alice, thread):
    ids = [upload(alice, f"file {n}".encode()).pk for n in range(10)]

    response = send(client_for(alice), thread, attachments=ids)

    assert response.status_code == 201
    assert len(response.json()["attachments"]) == 10


def test_someone_elses_upload_a_sent_one_or_an_unknown_id_is_a_400_and_nothing_is_sent(
    client_for, alice, bob, outsider, thread
):
    theirs = upload(outsider)
    sent = upload(alice)
    send(client_for(alice), thread, attachments=[sent.pk])
    mine = upload(alice)

    for ids in ([theirs.pk], [sent.pk], [mine.pk, 999_999]):
        response = send(client_for(alice), thread, text="hi", attachments=ids)
        assert response.status_code == 400
        assert response.json() == {
            "attachments": ["Each id must be a file you uploaded and have not sent yet."]
        }
    assert Message.objects.count() == 1
    mine.refresh_from_db()
    assert mine.message is None  # rolled back with the message, still free to send
    theirs.refresh_from_db()
    assert theirs.message is None


def test_a_retry_with_the_same_key_returns_the_first_message_with_its_files(
    client_for, alice, thread
):
    notes = upload(alice)
    client = client_for(alice)
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    body = {"text": "hi", "attachments": [notes.pk]}
    url = f"/api/threads/{thread.pk}/messages/"

    first = client.post(url, body, format="json", **headers)
    again = client.post(url, body, format="json", **headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["attachments"] == first.json()["attachments"]
    assert Message.objects.count() == 1


def test_sending_with_files_costs_two_queries_more(client_for, alice, thread, counted):
    client = client_for(alice)
    ids = [upload(alice).pk, upload(alice).pk]
    # The eleven of a send (test_message_send.py), plus attaching the files (an UPDATE) and
    # reading them for the response and the event (a SELECT, once for both).
    with counted(13):
        response = send(client, thread, text="hi", attachments=ids)
    assert response.status_code == 201


def test_the_message_page_shows_files_with_one_query_more(client_for, alice, bob, thread, counted):
    send(client_for(alice), thread, text="with", attachments=[image(alice).pk])
    make_message(thread, bob, "without")
    client = client_for(bob)
    # The user (token), the thread (access), the count, the page, and the page's files.
    with counted(5):
        page = client.get(f"/api/threads/{thread.pk}/messages/").json()
    assert [len(m["attachments"]) for m in page["results"]] == [0, 1]
    assert page["results"][1]["attachments"][0]["name"] == "photo.png"


def test_the_thread_list_shows_the_last_messages_files(client_for, alice, bob, thread, counted):
    send(client_for(alice), thread, attachments=[image(alice).pk])
    other = make_thread(bob, UserFactory())
    make_message(other, bob, "no files here")
    client = client_for(bob)
    # The user (token), the count, the page, and the files of its last messages.
    with counted(4):
        threads = client.get("/api/threads/").json()["results"]
    by_id = {t["id"]: t for t in threads}
    assert by_id[thread.pk]["last_message"]["attachments"][0]["name"] == "photo.png"
    assert by_id[other.pk]["last_message"]["attachments"] == []


def test_search_results_carry_their_files(client_for, alice, thread):
    send(client_for(alice), thread, text="the lease", attachments=[upload(alice).pk])

    results = client_for(alice).get("/api/messages/search/?q=lease").json()["results"]

    assert results[0]["message"]["attachments"][0]["name"] == "notes.txt"


def test_the_live_event_carries_the_files(
    client_for, alice, bob, thread, published, django_capture_on_commit_callbacks
):
    notes = upload(alice)

    with django_capture_on_commit_callbacks(execute=True):
        send(client_for(alice), thread, text="see file", attachments=[notes.pk])

    created = [event for _, event in published if event["type"] == "message.created"]
    assert {tuple(a["id"] for a in e["message"]["attachments"]) for e in created} == {(notes.pk,)}


def test_a_message_with_files_may_be_edited_to_no_text(client_for, alice, thread):
    sent = send(client_for(alice), thread, text="caption", attachments=[upload(alice).pk]).json()
    plain = make_message(thread, alice, "words only")

    response = client_for(alice).patch(f"/api/messages/{sent['id']}/", {"text": ""}, format="json")
    refused = client_for(alice).patch(f"/api/messages/{plain.pk}/", {"text": ""}, format="json")

    assert response.status_code == 200
    assert (response.json()["text"], len(response.json()["attachments"])) == ("", 1)
    assert refused.status_code == 400
    assert refused.json() == {"text": ["The message cannot be empty or only white space."]}


def test_deleting_for_everyone_takes_the_files_once_it_commits(
    client_for, alice, bob, thread, media, django_capture_on_commit_callbacks
):
    sent = send(client_for(alice), thread, text="oops", attachments=[image(alice).pk]).json()
    assert len(stored_files(media)) == 2  # the image and its thumbnail

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).delete(f"/api/messages/{sent['id']}/")

    assert response.status_code == 204
    assert stored_files(media) == []
    assert not Attachment.objects.exists()
    page = client_for(bob).get(f"/api/threads/{thread.pk}/messages/").json()
    assert page["results"][0]["attachments"] == []
    assert page["results"][0]["deleted"] is True


def test_hiding_for_oneself_keeps_the_files_for_the_other(client_for, alice, bob, thread, media):
    sent = send(client_for(alice), thread, attachments=[upload(alice).pk]).json()

    client_for(bob).delete(f"/api/messages/{sent['id']}/?scope=me")

    assert len(stored_files(media)) == 1
    page = client_for(alice).get(f"/api/threads/{thread.pk}/messages/").json()
    assert len(page["results"][0]["attachments"]) == 1


def test_deleting_the_thread_takes_every_file_of_it_and_no_other(
    client_for, alice, bob, thread, media, django_capture_on_commit_callbacks
):
    send(client_for(alice), thread, attachments=[image(alice).pk])
    send(client_for(bob), thread, attachments=[upload(bob).pk])
    elsewhere = make_thread(alice, UserFactory())
    send(client_for(alice), elsewhere, attachments=[upload(alice, b"keep me").pk])
    unsent = upload(alice, b"not sent yet")

    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(bob).delete(f"/api/threads/{thread.pk}/").status_code == 204

    remaining = {path.read_bytes() for path in stored_files(media)}
    assert remaining == {b"keep me", b"not sent yet"}
    assert set(Attachment.objects.values_list("pk", flat=True)) == {
        unsent.pk,
        Attachment.objects.get(message__thread=elsewhere).pk,
    }


def test_a_deletion_that_rolls_back_keeps_the_files(alice, thread, media):
    """Files go only once the deletion commits: a transaction that fails after the rows went
    leaves both the rows and the files."""
    from django.db import transaction

    sent, _ = services.message_send(
        thread=thread, sender=alice, text="x", attachment_ids=[upload(alice).pk]
    )

    with transaction.atomic():
        services.message_delete_for_everyone(message=sent, user=alice)
        transaction.set_rollback(True)

    assert Attachment.objects.filter(message=sent).exists()
    assert len(stored_files(media)) == 1
    assert default_storage.exists(Attachment.objects.get().file_name)
