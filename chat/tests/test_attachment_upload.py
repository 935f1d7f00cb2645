"""POST /api/attachments/: upload a file to send; its type judged from its content, images
cleaned of metadata, limits on size, quota and rate."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from chat.models import Attachment
from chat.tests import attachment_files as made

URL = "/api/attachments/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def post(client, content: bytes, name: str, content_type: str = "application/octet-stream"):
    return client.post(URL, {"file": made.upload(content, name, content_type)}, format="multipart")


def stored(attachment: Attachment, kind: str = "file") -> bytes:
    name = attachment.file_name if kind == "file" else attachment.thumbnail_name
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def test_an_image_is_stored_without_exif_gps_or_comments_with_a_thumbnail(client_for, alice):
    original = made.jpeg_with_gps(640, 480)
    assert made.SECRET.encode() in original  # the test's file does carry them

    response = post(client_for(alice), original, "holiday.jpg", "image/jpeg")

    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get()
    body = response.json()
    assert body == {
        "id": attachment.pk,
        "name": "holiday.jpg",
        "size": len(stored(attachment)),
        "content_type": "image/jpeg",
        "width": 640,
        "height": 480,
        "url": body["url"],
        "thumbnail_url": body["thumbnail_url"],
    }
    assert body["url"].startswith(f"/api/attachments/{attachment.pk}/file/?expires=")
    assert body["thumbnail_url"].startswith(f"/api/attachments/{attachment.pk}/thumbnail/?")
    kept = stored(attachment)
    assert made.SECRET.encode() not in kept
    assert b"Exif" not in kept
    image = Image.open(io.BytesIO(kept))
    assert dict(image.getexif()) == {}
    assert image.size == (640, 480)
    thumbnail = Image.open(io.BytesIO(stored(attachment, "thumbnail")))
    assert (thumbnail.format, thumbnail.size) == ("JPEG", (320, 240))
    assert attachment.uploader == alice
    assert attachment.message is None


def test_a_photo_taken_sideways_is_stored_upright_without_its_orientation_tag(client_for, alice):
    response = post(client_for(alice), made.jpeg_with_gps(640, 480, orientation=6), "side.jpg")

    assert (response.json()["width"], response.json()["height"]) == (480, 640)
    assert dict(Image.open(io.BytesIO(stored(Attachment.objects.get()))).getexif()) == {}


@pytest.mark.parametrize(
    ("image_format", "options", "content_type"),
    [
        ("PNG", {}, "image/png"),
        ("GIF", {}, "image/gif"),
        ("WEBP", {"lossless": True}, "image/webp"),
    ],
)
def test_lossless_images_keep_every_pixel(client_for, alice, image_format, options, content_type):
    source = made.gradient(300, 200)
    if image_format == "GIF":
        source = source.quantize(256)  # a GIF's pixels are a palette's
    original = made.image_bytes(source, image_format, exif=made.exif_with_gps(), **options)

    response = post(client_for(alice), original, "picture")

    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == content_type
    kept = Image.open(io.BytesIO(stored(Attachment.objects.get())))
    assert kept.format == image_format
    assert kept.convert("RGB").tobytes() == source.convert("RGB").tobytes()
    assert dict(kept.getexif()) == {}


@pytest.mark.parametrize(
    ("image_format", "mode"),
    [("PNG", "I;16"), ("PNG", "LA"), ("PNG", "P"), ("PNG", "1"), ("JPEG", "CMYK"), ("JPEG", "L")],
)
def test_every_common_pixel_format_gets_its_thumbnail(client_for, alice, image_format, mode):
    source = made.gradient(1000, 700).convert(mode if mode != "I;16" else "I").convert(mode)

    response = post(client_for(alice), made.image_bytes(source, image_format), "picture")

    assert response.status_code == 201, response.json()
    thumbnail = Image.open(io.BytesIO(stored(Attachment.objects.get(), "thumbnail")))
    assert thumbnail.size == (320, 224)


def test_png_text_chunks_are_dropped(client_for, alice):
    post(client_for(alice), made.png_with_metadata(), "scan.png")

    kept = stored(Attachment.objects.get())
    assert made.SECRET.encode() not in kept
    assert Image.open(io.BytesIO(kept)).info.get("Author") is None


def test_an_animation_keeps_its_frames_and_their_durations(client_for, alice):
    frames = [made.gradient(60, 40).rotate(angle) for angle in (0, 90, 180)]
    original = made.image_bytes(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[100, 250, 400]
    )

    post(client_for(alice), original, "spin.gif")

    kept = Image.open(io.BytesIO(stored(Attachment.objects.get())))
    durations = []
    for index in range(kept.n_frames):
        kept.seek(index)
        durations.append(kept.info["duration"])
    assert durations == [100, 250, 400]


def test_the_type_comes_from_the_content_and_the_name_follows_it(client_for, alice):
    """A PNG named .pdf is a PNG, and is called one, so a download opens with the right
    program."""
    response = post(client_for(alice), made.image_bytes(made.gradient(), "PNG"), "report.pdf")

    assert response.status_code == 201
    assert (response.json()["content_type"], response.json()["name"]) == ("image/png", "report.png")


@pytest.mark.parametrize(
    ("content", "name", "claimed"),
    [
        (made.HTML, "cat.png", "image/png"),
        (made.SVG, "logo.svg", "image/svg+xml"),
        (b"  \n<html><p>hi</p></html>", "notes.txt", "text/plain"),
        (b"plain start, then <script>alert(1)</script>", "notes.txt", "text/plain"),
        (b"PK\x03\x04" + b"\x00" * 40, "archive.zip", "application/zip"),
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe", "application/octet-stream"),
        ("Grüße in Latin-1".encode("latin-1"), "latin.txt", "text/plain"),
        (b"\x1b[31mred terminal output", "log.txt", "text/plain"),
        ("a C1 control \u0085 inside".encode(), "c1.txt", "text/plain"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "broken.png", "image/png"),
    ],
)
def test_other_types_markup_and_broken_files_are_refused_with_415(
    client_for, alice, content, name, claimed
):
    response = post(client_for(alice), content, name, claimed)

    assert response.status_code == 415
    assert response.json()["detail"]
    assert "object at" not in response.json()["detail"]  # no internals
    assert not Attachment.objects.exists()


def test_pdf_and_plain_text_are_stored_as_they_are(client_for, alice):
    pdf = post(client_for(alice), made.PDF, "minutes.pdf").json()
    text = post(client_for(alice), "Address: 12 Rue de l'Église\n".encode(), "address").json()

    assert (pdf["content_type"], pdf["width"], pdf["thumbnail_url"]) == (
        "application/pdf",
        None,
        None,
    )
    assert (text["content_type"], text["name"]) == ("text/plain", "address.txt")
    assert stored(Attachment.objects.get(pk=pdf["id"])) == made.PDF


def test_a_decompression_bomb_is_refused_before_it_is_decoded(client_for, alice):
    bomb = made.decompression_bomb()
    assert len(bomb) < 100_000

    response = post(client_for(alice), bomb, "small.png")

    assert response.status_code == 413
    assert "million pixels" in response.json()["detail"]


def test_an_image_over_the_pixel_limit_is_refused_even_below_pillows_own(
    client_for, alice, settings
):
    settings.ATTACHMENT_MAX_PIXELS = 640 * 480 - 1

    response = post(client_for(alice), made.image_bytes(made.gradient(), "PNG"), "big.png")

    assert response.status_code == 413


def test_a_file_of_exactly_the_limit_is_taken_and_one_byte_more_is_413(client_for, alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000
    client = client_for(alice)

    assert post(client, b"a" * 1000, "exact.txt").status_code == 201
    response = post(client, b"a" * 1001, "over.txt")

    assert response.status_code == 413
    assert response.json() == {"detail": "This file is too large: files can be up to 1000 bytes."}
    assert Attachment.objects.count() == 1


def test_a_body_far_over_the_limit_is_refused_from_its_length_alone(client_for, alice, settings):
    settings.ATTACHMENT_MAX_BYTES = 1000

    response = post(client_for(alice), b"a" * 200_000, "huge.txt")

    assert response.status_code == 413


def test_the_quota_counts_what_the_user_stores(client_for, alice, bob, settings):
    settings.ATTACHMENT_QUOTA_BYTES = 2500
    client = client_for(alice)
    assert post(client, b"a" * 1000, "one.txt").status_code == 201
    assert post(client, b"b" * 1000, "two.txt").status_code == 201

    response = post(client, b"c" * 1000, "three.txt")

    assert response.status_code == 413
    assert "your 2.4 KB: you store 2 KB" in response.json()["detail"]
    # Another user's files are theirs: bob's quota is untouched.
    assert post(client_for(bob), b"d" * 1000, "bobs.txt").status_code == 201


def test_uploads_are_throttled_per_user(client_for, alice, bob, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "upload": "2/min",
        },
    }
    client = client_for(alice)
    assert [post(client, b"x", f"{n}.txt").status_code for n in range(2)] == [201, 201]

    response = post(client, b"x", "third.txt")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert post(client_for(bob), b"x", "bob.txt").status_code == 201


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, 400),
        ({"file": "not a file"}, 400),
    ],
)
def test_a_request_without_a_file_is_a_400(client_for, alice, data, expected):
    response = client_for(alice).post(URL, data, format="multipart")

    assert response.status_code == expected
    assert "file" in response.json()


def test_an_empty_file_is_a_400(client_for, alice):
    response = post(client_for(alice), b"", "empty.txt")

    assert response.status_code == 400
    assert "file" in response.json()


def test_json_instead_of_multipart_is_a_415(client_for, alice):
    response = client_for(alice).post(URL, {"file": "x"}, format="json")

    assert response.status_code == 415


def test_uploading_needs_a_token(anon_client):
    response = anon_client.post(URL, {"file": made.upload(b"x", "a.txt")}, format="multipart")

    assert response.status_code == 401


def test_a_file_name_loses_folders_and_control_characters(client_for, alice):
    response = post(client_for(alice), b"notes", "../../etc/pass\x07wd.txt")

    assert response.json()["name"] == "passwd.txt"


def test_an_upload_is_one_insert_after_the_quota_check(
    client_for, alice, django_assert_num_queries
):
    client = client_for(alice)
    # The user (token), the quota before decoding; in the transaction (a savepoint in a test):
    # the user's row locked, the quota again, the insert.
    with django_assert_num_queries(7):
        response = post(client, made.image_bytes(made.gradient(), "PNG"), "a.png")
    assert response.status_code == 201


def test_files_are_not_left_behind_when_the_row_cannot_be_written(
    client_for, alice, settings, media, monkeypatch
):
    """A failure after the files were stored (here, over the quota found in the transaction)
    deletes them again."""
    from chat import services

    checks = iter([None])  # the first check (before decoding) passes, the second refuses

    def quota(user, size):
        if next(checks, "refuse") == "refuse":
            raise services.TooLarge("over")

    monkeypatch.setattr(services, "_refuse_over_quota", quota)

    response = post(client_for(alice), made.image_bytes(made.gradient(), "PNG"), "a.png")

    assert response.status_code == 413
    assert [path for path in media.rglob("*") if path.is_file()] == []
