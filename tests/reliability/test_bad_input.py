"""Hand-picked malformed input that generated cases rarely reach: never a 500, always JSON in
DRF's error shapes."""

import pytest

BIG = b'{"text": "' + b"a" * 3_000_000 + b'"}'

POSTS = [
    ("/api/threads/{thread}/messages/", BIG, "application/json", 413),
    ("/api/auth/register/", BIG, "application/json", 413),
    ("/api/threads/{thread}/messages/", b'{"text": "\xff\xfe"}', "application/json", 400),
    ("/api/threads/{thread}/messages/", b'{"text": "a\\u0000b"}', "application/json", 400),
    ("/api/threads/{thread}/messages/", b'{"text": "\\ud800"}', "application/json", 400),
    ("/api/threads/{thread}/messages/", b'{"text": "   \\n\\t"}', "application/json", 400),
    (
        "/api/threads/{thread}/messages/",
        b'{"text": "' + b"a" * 4097 + b'"}',
        "application/json",
        400,
    ),
    ("/api/threads/{thread}/messages/", b"[1, 2]", "application/json", 400),
    ("/api/threads/{thread}/messages/", b'{"text": 3.9e-217}', "application/json", 400),
    ("/api/threads/{thread}/messages/", b'{"text": 42}', "application/json", 400),
    ("/api/auth/register/", b'{"username": 123456, "password": "x"}', "application/json", 400),
    ("/api/threads/{thread}/messages/", b'{"text": ', "application/json", 400),
    ("/api/threads/{thread}/messages/", b"text=hi", "application/x-www-form-urlencoded", 415),
    ("/api/threads/99999999999999999999999/messages/", b'{"text": "x"}', "application/json", 404),
    ("/api/threads/", b'{"participants": [99999999999999999999999]}', "application/json", 400),
    ("/api/threads/", b'{"participants": "abc"}', "application/json", 400),
    ("/api/threads/", b'{"participants": [true]}', "application/json", 400),
    ("/api/threads/", b'{"participants": [1, 2, 3]}', "application/json", 400),
    ("/api/threads/", b'{"participants": [2.0]}', "application/json", 400),
    ("/api/threads/", b'{"participants": ["1_0"]}', "application/json", 400),
    ("/api/threads/", b'{"participants": []}', "application/json", 400),
    ("/api/auth/register/", b'{"username": "a\\u0000b", "password": "x"}', "application/json", 400),
    ("/api/auth/token/", b'{"username": ["a"], "password": {}}', "application/json", 400),
    ("/api/auth/token/refresh/", b'{"refresh": "\\ud800"}', "application/json", 400),
    ("/api/auth/token/verify/", b'{"token": 5}', "application/json", 401),
    ("/api/auth/logout/", b'{"refresh": "a.b.c"}', "application/json", 400),
    ("/api/no/such/endpoint/", b"{}", "application/json", 404),
    ("/api/threads/abc/", b"{}", "application/json", 404),
]


def assert_drf_shape(response):
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert isinstance(data, dict)
    if response.status_code > 400:
        assert isinstance(data["detail"], str)


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status"),
    POSTS,
    ids=[f"{path} {body[:24]!r}" for path, body, _, _ in POSTS],
)
def test_malformed_posts(client_for, alice, bob, thread, path, body, content_type, status):
    response = client_for(alice).generic(
        "POST", path.format(thread=thread.pk), body, content_type=content_type
    )
    assert response.status_code == status, response.content[:300]
    assert_drf_shape(response)


QUERIES = [
    "limit=abc",
    "offset=-1",
    "limit=0",
    "offset=99999999999999999999",
    "before=0",
    "after=99999999999999999999999",
    "before=1&after=1",
    "user=abc",
    "user=99999999999999999999",
    "search=%00",
    "search=" + "a" * 1000,
]


# DRF's IntegerField reads all of these as integers ("1_0" as 10); one id has one spelling.
LENIENT_INTEGERS = ["1.0", "+1", " 1", "1_0", "%D9%A3", "%EF%BC%91"]


@pytest.mark.parametrize("value", LENIENT_INTEGERS)
@pytest.mark.parametrize("name", ["user", "limit", "offset", "before", "after"])
def test_integers_have_one_spelling(client_for, alice, thread, name, value):
    path = (
        "/api/threads/"
        if name in ("user", "limit", "offset")
        else "/api/threads/{thread}/messages/"
    )
    response = client_for(alice).get(f"{path.format(thread=thread.pk)}?{name}={value}")
    assert response.status_code == 400, response.content[:300]
    assert name in response.json()


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(
    "path",
    [
        "/api/threads/{thread}/messages/",
        "/api/threads/",
        "/api/users/",
        "/api/messages/unread-count/",
    ],
)
def test_malformed_queries(client_for, alice, thread, path, query):
    response = client_for(alice).get(f"{path.format(thread=thread.pk)}?{query}")
    assert response.status_code in (200, 400), response.content[:300]
    assert_drf_shape(response)
