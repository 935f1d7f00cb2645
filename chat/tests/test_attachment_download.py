"""GET /api/attachments/<id>/ (with a token) and the signed links of an Attachment's `url` and
`thumbnail_url` (without one): who gets the file, with which headers, and until when."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from chat import files, services
from chat.tests import attachment_files as made
from chat.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(user, content: bytes, name: str):
    return services.attachment_upload(user=user, upload=made.upload(content, name))


def content_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def photo(alice, thread):
    attachment = upload(alice, made.image_bytes(made.gradient(), "PNG"), "photo.png")
    services.message_send(thread=thread, sender=alice, text="", attachment_ids=[attachment.pk])
    attachment.refresh_from_db()
    return attachment


def test_the_uploader_gets_an_unsent_file_and_nobody_else_does(client_for, alice, bob, thread):
    draft = upload(alice, b"draft", "draft.txt")

    mine = client_for(alice).get(f"/api/attachments/{draft.pk}/")

    assert (mine.status_code, content_of(mine)) == (200, b"draft")
    # bob shares a thread with alice, but the file is not in it yet.
    assert client_for(bob).get(f"/api/attachments/{draft.pk}/").status_code == 404


def test_both_participants_get_a_sent_file_an_outsider_and_staff_do_not(
    client_for, alice, bob, outsider, staff, photo
):
    for user in (alice, bob):
        assert client_for(user).get(f"/api/attachments/{photo.pk}/").status_code == 200
    for user in (outsider, staff):
        response = client_for(user).get(f"/api/attachments/{photo.pk}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No file found."}


def test_a_participant_who_hid_the_message_no_longer_gets_its_file(client_for, alice, bob, photo):
    client_for(bob).delete(f"/api/messages/{photo.message_id}/?scope=me")

    assert client_for(bob).get(f"/api/attachments/{photo.pk}/").status_code == 404
    assert client_for(alice).get(f"/api/attachments/{photo.pk}/").status_code == 200


def test_an_image_is_served_inline_with_the_contracts_headers(client_for, alice, photo):
    response = client_for(alice).get(f"/api/attachments/{photo.pk}/")

    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Content-Disposition"] == 'inline; filename="photo.png"'
    assert int(response["Content-Length"]) == photo.size
    assert Image.open(io.BytesIO(content_of(response))).size == (640, 480)


@pytest.mark.parametrize(
    ("content", "name", "content_type", "disposition"),
    [
        (made.PDF, "minutes.pdf", "application/pdf", 'attachment; filename="minutes.pdf"'),
        (
            "Grüße".encode(),
            "Grüße.txt",
            "text/plain; charset=utf-8",
            "attachment; filename*=utf-8''Gr%C3%BC%C3%9Fe.txt",
        ),
    ],
)
def test_other_files_are_downloads_never_shown_in_the_page(
    client_for, alice, content, name, content_type, disposition
):
    attachment = upload(alice, content, name)

    response = client_for(alice).get(f"/api/attachments/{attachment.pk}/")

    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == disposition
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert content_of(response) == content


def test_a_signed_link_works_without_a_token_and_the_thumbnail_is_small(anon_client, photo):
    file = anon_client.get(photo.url)
    thumbnail = anon_client.get(photo.thumbnail_url)

    assert file.status_code == 200
    assert Image.open(io.BytesIO(content_of(file))).size == (640, 480)
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/png"
    assert thumbnail["Content-Security-Policy"] == "sandbox"
    assert Image.open(io.BytesIO(content_of(thumbnail))).size == (320, 240)
    assert thumbnail["Cache-Control"].startswith("private, max-age=")


def test_a_link_expires_after_the_ttl(anon_client, alice, settings, monkeypatch):
    settings.ATTACHMENT_URL_TTL = 600
    now = 1_800_000_010.0
    monkeypatch.setattr(files.time, "time", lambda: now)
    attachment = upload(alice, b"x", "x.txt")
    link = attachment.url
    expires = int(parse_qs(urlsplit(link).query)["expires"][0])
    # Rounded up to the minute: the same link for a minute, so browsers cache what it shows.
    assert expires == 1_800_000_660
    assert attachment.url == link

    monkeypatch.setattr(files.time, "time", lambda: expires - 1.0)
    assert anon_client.get(link).status_code == 200
    assert anon_client.get(link)["Cache-Control"] == "private, max-age=1"

    monkeypatch.setattr(files.time, "time", lambda: float(expires))
    response = anon_client.get(link)
    assert response.status_code == 403
    assert response.json() == {"detail": "This link is invalid or has expired."}


def test_a_tampered_link_is_a_403(anon_client, alice, bob):
    mine = upload(alice, b"mine", "mine.txt")
    theirs = upload(bob, b"theirs", "theirs.txt")
    query = parse_qs(urlsplit(mine.url).query)
    expires, signature = query["expires"][0], query["signature"][0]
    altered = signature[:10] + ("x" if signature[10] != "x" else "y") + signature[11:]
    tampered = [
        f"/api/attachments/{theirs.pk}/file/?expires={expires}&signature={signature}",
        f"/api/attachments/{mine.pk}/file/?expires={int(expires) + 60}&signature={signature}",
        f"/api/attachments/{mine.pk}/file/?expires={expires}&signature={altered}",
        f"/api/attachments/{mine.pk}/thumbnail/?expires={expires}&signature={signature}",
        f"/api/attachments/{mine.pk}/file/?expires=-5&signature={signature}",
        f"/api/attachments/99999999999999999999/file/?expires={expires}&signature={signature}",
    ]

    for link in tampered:
        response = anon_client.get(link)
        assert response.status_code == 403, link
        assert response.json() == {"detail": "This link is invalid or has expired."}


@pytest.mark.parametrize(
    "query", ["", "?expires=1", "?signature=x", "?expires=" + "9" * 30 + "&signature=x"]
)
def test_a_link_without_its_parts_is_a_400(anon_client, alice, query):
    attachment = upload(alice, b"x", "x.txt")

    response = anon_client.get(f"/api/attachments/{attachment.pk}/file/{query}")

    assert response.status_code == 400


def test_a_link_to_a_deleted_file_is_a_404(anon_client, client_for, alice, photo, thread):
    link = photo.url
    client_for(alice).delete(f"/api/messages/{photo.message_id}/")

    assert anon_client.get(link).status_code == 404


def test_a_file_missing_from_storage_is_a_404_not_a_500(client_for, alice, media):
    attachment = upload(alice, b"x", "x.txt")
    files.delete_stored([attachment.file_name])

    assert client_for(alice).get(f"/api/attachments/{attachment.pk}/").status_code == 404


def test_a_file_in_another_thread_of_the_uploader_stays_private(client_for, alice, bob, thread):
    """alice sends a file to carol: bob, who shares another thread with alice, cannot get it,
    neither by id nor by guessing the link's path without its signature."""
    carol = UserFactory()
    with_carol, _ = services.thread_get_or_create(user=alice, other=carol)
    secret = upload(alice, b"for carol only", "carol.txt")
    services.message_send(thread=with_carol, sender=alice, text="", attachment_ids=[secret.pk])

    assert client_for(bob).get(f"/api/attachments/{secret.pk}/").status_code == 404
    assert client_for(carol).get(f"/api/attachments/{secret.pk}/").status_code == 200
    assert client_for(bob).get(f"/api/attachments/{secret.pk}/file/").status_code == 400


def test_the_uploader_takes_back_an_unsent_file_and_its_room_in_the_quota(
    client_for, alice, media, settings, django_capture_on_commit_callbacks
):
    settings.ATTACHMENT_QUOTA_BYTES = 10
    draft = upload(alice, b"1234567890", "draft.txt")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).delete(f"/api/attachments/{draft.pk}/")

    assert response.status_code == 204
    assert [path for path in media.rglob("*") if path.is_file()] == []
    assert upload(alice, b"0987654321", "again.txt").size == 10  # the room is free again
    assert client_for(alice).delete(f"/api/attachments/{draft.pk}/").status_code == 404


def test_a_sent_file_is_not_taken_back_alone(client_for, alice, bob, outsider, photo):
    mine = client_for(alice).delete(f"/api/attachments/{photo.pk}/")
    theirs = client_for(bob).delete(f"/api/attachments/{photo.pk}/")

    assert mine.status_code == 409
    assert mine.json() == {
        "detail": "This file was sent: it goes when its message is deleted for everyone."
    }
    assert theirs.status_code == 403
    assert client_for(outsider).delete(f"/api/attachments/{photo.pk}/").status_code == 404
    assert client_for(alice).get(f"/api/attachments/{photo.pk}/").status_code == 200


def test_someone_elses_unsent_file_is_a_404_to_delete(client_for, alice, bob, thread):
    draft = upload(alice, b"draft", "draft.txt")

    assert client_for(bob).delete(f"/api/attachments/{draft.pk}/").status_code == 404
