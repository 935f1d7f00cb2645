"""`manage.py purge_attachments`: uploads never sent go after 24 hours, and files that no row
names (a crash between a commit and deleting the files it let go) are found and removed."""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from chat import files, services
from chat.models import Attachment
from chat.tests import attachment_files as made
from tests.servers import ROOT, manage, server_env

# Committed transactions, as in production: files go when a deletion commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> set[bytes]:
    return {path.read_bytes() for path in media.rglob("*") if path.is_file()}


def upload_at(user, when, content: bytes) -> Attachment:
    """An upload made at `when`: its row's time and its hour folder."""
    real_now = timezone.now
    files.timezone.now = lambda: when
    try:
        attachment = services.attachment_upload(user=user, upload=made.upload(content, "f.txt"))
    finally:
        files.timezone.now = real_now
    Attachment.objects.filter(pk=attachment.pk).update(created=when)
    return attachment


def purge() -> str:
    from io import StringIO

    out = StringIO()
    call_command("purge_attachments", stdout=out)
    return out.getvalue()


def test_uploads_never_sent_go_after_24_hours_with_their_files(alice, thread, media):
    now = timezone.now()
    old_draft = upload_at(alice, now - timedelta(hours=25), b"old draft")
    upload_at(alice, now - timedelta(hours=23), b"recent draft")
    old_sent = upload_at(alice, now - timedelta(days=30), b"sent long ago")
    services.message_send(thread=thread, sender=alice, text="", attachment_ids=[old_sent.pk])

    output = purge()

    assert "Purged 1 upload(s) never sent and 0 stored file(s)" in output
    assert not Attachment.objects.filter(pk=old_draft.pk).exists()
    assert stored_files(media) == {b"recent draft", b"sent long ago"}


def test_files_left_by_a_crash_after_a_deletion_committed_are_found(alice, thread, media):
    """The rows went (here by raw SQL, as if the process died before the files were deleted):
    the files stay until the purge finds that no row names them."""
    two_hours_ago = timezone.now() - timedelta(hours=2)
    image = made.image_bytes(made.gradient(), "PNG")
    lost = services.attachment_upload(user=alice, upload=made.upload(image, "a.png"))
    upload_at(alice, two_hours_ago, b"kept: still named")
    orphan = upload_at(alice, two_hours_ago, b"orphan")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM chat_attachment WHERE id IN (%s, %s)", [lost.pk, orphan.pk])

    output = purge()

    # The image of this hour and its thumbnail stay: an upload of this hour may still be about
    # to write its row. The older orphan goes.
    assert "0 upload(s) never sent and 1 stored file(s)" in output
    assert len(stored_files(media)) == 3
    assert b"orphan" not in stored_files(media)
    assert b"kept: still named" in stored_files(media)


def test_a_thumbnail_named_by_its_row_is_kept(alice, media):
    hours_ago = timezone.now() - timedelta(hours=3)
    real_now = timezone.now
    files.timezone.now = lambda: hours_ago
    try:
        services.attachment_upload(
            user=alice, upload=made.upload(made.image_bytes(made.gradient(), "PNG"), "a.png")
        )
    finally:
        files.timezone.now = real_now

    assert "0 stored file(s)" in purge()
    assert len(stored_files(media)) == 2


def test_nothing_stored_yet_is_nothing_to_purge():
    assert "Purged 0 upload(s) never sent and 0 stored file(s)" in purge()


def test_running_every_n_seconds_it_survives_a_failing_run(tmp_path):
    """As `make serve` runs it: a run that fails (here, storage that is not a folder) is logged
    and tried again, and the process stays up beside the service."""
    not_a_folder = tmp_path / "media"
    not_a_folder.write_text("a file where the attachments folder should be")
    database = tmp_path / "db.sqlite3"
    env = server_env(SQLITE_PATH=str(database), MEDIA_ROOT=str(not_a_folder))
    manage("migrate", "--noinput", env=env)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "purge_attachments", "--every=1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(3)
        assert process.poll() is None  # still running
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert output.count("Purging attachments failed; trying again in 1 s.") >= 2
