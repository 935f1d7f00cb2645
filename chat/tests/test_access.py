"""The privacy table: every REST endpoint walked as the anonymous caller, an outsider, both
participants and staff (the socket's rows are in test_realtime_consumer.py).

The thread under test is alice's and bob's, with a message from alice to bob. Each row gives the
status each role gets; for the anonymous caller and the outsider, the body must also not carry
a single id or word of that thread (a 404 for another's thread is exactly a 404 for none).
"""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from chat import services
from chat.tests import attachment_files as made
from chat.tests.factories import UserFactory, make_message, make_thread

SECRET_TEXTS = ["the launch code is 0000", "meet at the old mill"]
ROLES = ["anonymous", "outsider", "bob", "alice", "staff"]


def row(method, path, statuses, body=None):
    return (method, path, dict(zip(ROLES, statuses, strict=True)), body)


# Paths name {thread}, {message} (alice → bob), {alice}, {bob}; bodies may name {bob}, {refresh}.
TABLE = [
    row("get", "/api/threads/{thread}/", [401, 404, 200, 200, 404]),
    row("delete", "/api/threads/{thread}/", [401, 404, 204, 204, 404]),
    row("get", "/api/threads/{thread}/messages/", [401, 404, 200, 200, 404]),
    row("get", "/api/threads/{thread}/messages/?before=999999", [401, 404, 200, 200, 404]),
    row("get", "/api/threads/{thread}/messages/?after=0", [401, 404, 400, 400, 404]),
    row("post", "/api/threads/{thread}/messages/", [401, 404, 201, 201, 404], {"text": "hi"}),
    row("post", "/api/threads/{thread}/read/", [401, 404, 200, 200, 404]),
    row("post", "/api/threads/{thread}/clear/", [401, 404, 200, 200, 404]),
    row("post", "/api/messages/{message}/read/", [401, 404, 200, 403, 404]),
    row("post", "/api/messages/{message}/unread/", [401, 404, 200, 403, 404]),
    row("patch", "/api/messages/{message}/", [401, 404, 403, 200, 404], {"text": "edited"}),
    row("delete", "/api/messages/{message}/", [401, 404, 403, 204, 404]),
    row("delete", "/api/messages/{message}/?scope=me", [401, 404, 204, 204, 404]),
    row("get", "/api/messages/{message}/history/", [401, 404, 200, 200, 404]),
    row("get", "/api/messages/search/?q=launch", [401, 200, 200, 200, 200]),
    row("get", "/api/messages/search/?q=launch&thread={thread}", [401, 404, 200, 200, 404]),
    row("get", "/api/threads/", [401, 200, 200, 200, 200]),
    row("get", "/api/threads/?user={alice}", [401, 403, 403, 200, 200]),
    row("get", "/api/messages/unread-count/", [401, 200, 200, 200, 200]),
    row("get", "/api/messages/unread-count/?user={bob}", [401, 403, 200, 403, 200]),
    row("post", "/api/threads/", [401, 201, 400, 200, 201], {"participants": ["{bob}"]}),
    row("post", "/api/threads/{thread}/mute/", [401, 404, 200, 200, 404], {"until": None}),
    row("delete", "/api/threads/{thread}/mute/", [401, 404, 200, 200, 404]),
    row("post", "/api/messages/{message}/report/", [401, 404, 201, 403, 404], {"reason": "spam"}),
    row("post", "/api/users/{bob}/block/", [401, 204, 400, 204, 204]),
    row("delete", "/api/users/{bob}/block/", [401, 204, 400, 204, 204]),
    row("get", "/api/users/blocked/", [401, 200, 200, 200, 200]),
    row("post", "/api/users/999999/block/", [401, 404, 404, 404, 404]),
    row("get", "/api/users/", [401, 200, 200, 200, 200]),
    row("get", "/api/users/me/", [401, 200, 200, 200, 200]),
    row("patch", "/api/users/me/", [401, 200, 200, 200, 200], {"show_presence": False}),
    row("patch", "/api/users/me/", [401, 400, 400, 400, 400], {"show_presence": "no"}),
    # Presence: only oneself and the users one shares a thread with; anyone else, staff included,
    # is a 404 exactly like a user that does not exist.
    row("get", "/api/users/{alice}/presence/", [401, 404, 200, 200, 404]),
    # A file: its uploader and the participants of the thread it was sent in; staff too is a 404.
    # (Its signed links work for anyone holding them: test_attachment_download.py.)
    row("get", "/api/attachments/{attachment}/", [401, 404, 200, 200, 404]),
    row("get", "/api/attachments/999999/", [401, 404, 404, 404, 404]),
    # Sent files go with their message: alice's is sent, so even she gets a 409.
    row("delete", "/api/attachments/{attachment}/", [401, 404, 403, 409, 404]),
    row("get", "/api/attachments/99999999999999999999/", [401, 404, 404, 404, 404]),
    row("get", "/api/users/{bob}/presence/", [401, 404, 200, 200, 404]),
    row("get", "/api/users/999999/presence/", [401, 404, 404, 404, 404]),
    row("get", "/api/users/abc/presence/", [404, 404, 404, 404, 404]),
    row("get", "/api/users/99999999999999999999/presence/", [401, 404, 404, 404, 404]),
    row("post", "/api/auth/logout/", [401, 205, 205, 205, 205], {"refresh": "{refresh}"}),
    row("get", "/api/threads/999999/", [401, 404, 404, 404, 404]),
    row("get", "/api/threads/abc/", [404, 404, 404, 404, 404]),
    row("post", "/api/messages/999999/read/", [401, 404, 404, 404, 404]),
    row("patch", "/api/messages/999999/", [401, 404, 404, 404, 404], {"text": "x"}),
]


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    outsider = UserFactory(username="mallory")
    staff = UserFactory(username="operator", is_staff=True, is_superuser=True)
    # Other people's conversations first, so the thread under test does not have id 1.
    make_message(make_thread(outsider, staff), outsider, "decoy")
    thread = make_thread(alice, bob)
    upload = services.attachment_upload(user=alice, upload=made.upload(b"attached", "a.txt"))
    message, _ = services.message_send(
        thread=thread, sender=alice, text=SECRET_TEXTS[0], attachment_ids=[upload.pk]
    )
    make_message(thread, bob, SECRET_TEXTS[1])
    return {
        "users": {"alice": alice, "bob": bob, "outsider": outsider, "staff": staff},
        "thread": thread,
        "message": message,
        "attachment": upload,
    }


def client_as(world, role):
    client = APIClient()
    if role != "anonymous":
        user = world["users"][role]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


def fill(value, names):
    if isinstance(value, str):
        filled = value.format(**names)
        return int(filled) if filled.isdigit() and value != filled else filled
    if isinstance(value, list):
        return [fill(item, names) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    return value


def objects_in(data):
    """Every JSON object in a response body, however deeply nested."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from objects_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from objects_in(item)


def assert_nothing_of_the_thread(response, world):
    body = response.content.decode()
    for text in SECRET_TEXTS:
        assert text not in body
    thread, message = world["thread"], world["message"]
    for obj in objects_in(response.json() if body else None):
        assert obj.get("thread") != thread.pk, obj
        if "participants" in obj or "last_message" in obj:
            assert obj.get("id") != thread.pk, obj
        if "text" in obj or "is_read" in obj:
            assert obj.get("id") != message.pk, obj


def assert_drf_error_shape(response):
    if response.status_code in (401, 403, 404, 405, 429):
        assert response["Content-Type"].startswith("application/json")
        data = response.json()
        assert list(data) == ["detail"]
        assert isinstance(data["detail"], str)
    elif response.status_code == 400:
        data = response.json()
        assert isinstance(data, dict)
        assert data


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "statuses", "body"),
    TABLE,
    ids=[f"{method.upper()} {path}" for method, path, _, _ in TABLE],
)
def test_access(world, role, method, path, statuses, body):
    users = world["users"]
    caller = users.get(role)
    names = {
        "thread": world["thread"].pk,
        "message": world["message"].pk,
        "attachment": world["attachment"].pk,
        "alice": users["alice"].pk,
        "bob": users["bob"].pk,
        "refresh": str(RefreshToken.for_user(caller)) if caller else "x",
    }
    client = client_as(world, role)
    response = getattr(client, method)(fill(path, names), fill(body, names), format="json")

    assert response.status_code == statuses[role], response.content
    assert_drf_error_shape(response)
    if role in ("anonymous", "outsider"):
        assert_nothing_of_the_thread(response, world)
