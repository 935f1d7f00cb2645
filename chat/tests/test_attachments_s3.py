"""Attachments on S3-compatible object storage, end to end: a real S3 server on a local port, and
the service started with `AWS_STORAGE_BUCKET_NAME` and `AWS_S3_ENDPOINT_URL` as an operator sets
them, talking to it through django-storages and boto3 over HTTP.

The S3 server is moto's `moto_server` (moto[server], from PyPI, a test dependency): of the
servers that speak the S3 API, it is the one the package registries offer (MinIO and Ceph are
neither on PyPI nor in Debian's packages), and it starts in a second. It keeps its objects in its
memory. Skipped, saying why, when it cannot start.
"""

import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from chat.tests import attachment_files as made
from tests.servers import Server, free_port, manage, server_env

boto3 = pytest.importorskip("boto3", reason="boto3 is not installed (requirements.txt has it)")

BUCKET = "chat-attachments"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret"}
PASSWORD = "s3-test-pass-4321"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    moto_server = Path(sys.executable).with_name("moto_server")
    if not moto_server.exists():
        pytest.skip("moto_server is not installed (requirements-dev.txt has moto[server])")
    port = free_port()
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - the virtualenv's own moto_server
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            client.create_bucket(Bucket=BUCKET)
            break
        except Exception as error:  # not listening yet
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.skip(f"moto_server did not start: {error}; {log.read_text()[-500:]}")
            time.sleep(0.2)
    yield endpoint, client
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def service(s3_endpoint, tmp_path_factory):
    endpoint, _ = s3_endpoint
    tmp = tmp_path_factory.mktemp("service")
    env = server_env(
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=endpoint,
        AWS_S3_REGION_NAME="us-east-1",
        MEDIA_ROOT=str(tmp / "media-must-stay-empty"),
        **CREDENTIALS,
    )
    manage("migrate", "--noinput", env=env)
    server = Server(env, log=tmp / "server.log")
    tokens = {}
    for name in ("alice", "bob"):
        assert server.call("POST", "/api/auth/register/", {"username": name, "password": PASSWORD})
        tokens[name] = server.login(name, PASSWORD)
    yield server, tokens, tmp
    server.stop()


def stored_keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_files_live_in_the_bucket_and_go_with_their_message(s3_endpoint, service):
    _, client = s3_endpoint
    server, tokens, tmp = service
    status, photo = server.upload(tokens["alice"], made.jpeg_with_gps(), "photo.jpg")
    assert status == 201, photo

    keys = stored_keys(client)
    assert len(keys) == 2  # the image and its thumbnail
    assert all(key.startswith("attachments/") for key in keys)
    stored = client.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert made.SECRET.encode() not in stored  # cleaned before it reached the bucket
    assert not any((tmp / "media-must-stay-empty").glob("**/*"))

    status, thread = server.call("POST", "/api/threads/", {"participants": [2]}, tokens["alice"])
    assert status == 201
    status, message = server.call(
        "POST",
        f"/api/threads/{thread['id']}/messages/",
        {"text": "", "attachments": [photo["id"]]},
        tokens["alice"],
    )
    assert status == 201
    link = message["attachments"][0]["thumbnail_url"]
    status, thumbnail = server.fetch(link)
    assert status == 200
    assert Image.open(io.BytesIO(thumbnail)).size == (320, 240)
    assert server.call("GET", f"/api/attachments/{photo['id']}/", token=tokens["bob"])[0] == 200

    status, _ = server.call("DELETE", f"/api/messages/{message['id']}/", token=tokens["alice"])
    assert status == 204
    assert stored_keys(client) == []
    assert server.fetch(link)[0] == 404


def test_the_purge_finds_objects_that_no_row_names(s3_endpoint, service):
    _, client = s3_endpoint
    server, tokens, _ = service
    assert server.upload(tokens["bob"], b"a draft", "draft.txt")[0] == 201
    orphan = "attachments/2000010100/0123456789abcdef0123456789abcdef"
    client.put_object(Bucket=BUCKET, Key=orphan, Body=b"left by a crash")

    output = manage("purge_attachments", env=server.env)

    assert "0 upload(s) never sent and 1 stored file(s)" in output
    assert orphan not in stored_keys(client)
    assert len(stored_keys(client)) == 1  # the draft, younger than a day
