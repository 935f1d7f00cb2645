"""Every /api/ error is JSON in DRF's `{"detail": ...}` shape, whatever DEBUG says and wherever
it arose: URL resolution, the Host check, parsing (config/parsers.py), the REST exception handler
(config/exceptions.py) or the middleware (config/middleware.py)."""

import json

import pytest
from django import urls
from django.contrib.auth import get_user_model
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from chat.models import Message
from config.urls import urlpatterns as project_urls

User = get_user_model()


def crash(request):
    raise RuntimeError("secret internals")


class CrashingView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internals")


urlpatterns = [
    *project_urls,
    urls.path("api/crash/", crash),
    urls.path("api/crash-in-a-rest-view/", CrashingView.as_view()),
]


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


UNKNOWN_PATHS = [
    "/api/nope/",
    "/api/nope",
    "/api/threads",  # no trailing slash: no redirect either
    "/api/threads/abc/",
    "/api/threads/abc/messages/",
    "/api/threads/1/nope/",
    "/api/messages/abc/read/",
    "/api/threads/-1/",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_unknown_api_paths_are_a_json_404(client_for, alice, debug, path):
    response = client_for(alice).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_a_post_to_an_unknown_path_is_a_json_404_for_anyone(anon_client, db, debug, path):
    # Not a 401 (nothing is there to protect), nor CSRF's HTML 403, nor a 500.
    response = anon_client.post(path, {"x": 1}, format="json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_disallowed_host_is_a_json_400(client, db, debug):
    response = client.get("/api/users/me/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


def test_pages_outside_the_api_keep_djangos_html(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_json_405(client_for, alice):
    response = client_for(alice).delete("/api/users/me/")

    assert response.status_code == 405
    assert "detail" in response.json()


def test_malformed_json_is_a_json_400(client_for, alice):
    response = client_for(alice).post(
        "/api/threads/", data="{oops", content_type="application/json"
    )

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


DEEP = 100_000


@pytest.mark.parametrize(
    "body",
    [
        '{"participants": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"text": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
    ],
    ids=["array", "object"],
)
@pytest.mark.parametrize(
    "path",
    [
        "/api/threads/",
        "/api/threads/{thread}/messages/",
        "/api/auth/register/",
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/auth/token/verify/",
        "/api/auth/logout/",
    ],
)
def test_json_nested_too_deeply_is_a_400_not_a_500(client_for, alice, thread, path, body):
    response = client_for(alice).post(
        path.format(thread=thread.pk), data=body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - nested too deeply."}


@pytest.mark.parametrize("path", ["/api/threads/{thread}/messages/", "/api/auth/register/"])
def test_a_body_over_the_upload_limit_is_a_json_413(client_for, alice, thread, path):
    # Django's default limit, 2.5 MB, is the service's.
    body = json.dumps({"text": "x" * 3_000_000, "username": "big", "password": "x" * 20})
    users = User.objects.count()

    response = client_for(alice).post(
        path.format(thread=thread.pk), data=body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert not Message.objects.exists()
    assert User.objects.count() == users


def test_an_unsupported_media_type_is_a_json_415(client_for, alice):
    response = client_for(alice).post("/api/threads/", data="x", content_type="text/plain")

    assert response.status_code == 415
    assert "detail" in response.json()


@pytest.mark.urls("config.tests.test_json_errors")
@pytest.mark.parametrize("path", ["/api/crash/", "/api/crash-in-a-rest-view/"])
def test_an_unexpected_exception_is_a_json_500_without_details(client, db, debug, path):
    # The test client raises an exception that nothing turned into a response; none is raised.
    response = client.get(path)

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert "secret internals" not in response.content.decode()


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 200),  # a browser
        ("text/html", 406),
    ],
)
def test_a_browser_gets_json_from_every_list_never_an_html_page(
    client_for, alice, thread, accept, status
):
    for url in ("/api/threads/", f"/api/threads/{thread.pk}/messages/", "/api/users/"):
        response = client_for(alice).get(url, HTTP_ACCEPT=accept)

        assert response.status_code == status, (url, response.content)
        assert response["Content-Type"] == "application/json"


BAD_QUERIES = [
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


@pytest.mark.parametrize("query", BAD_QUERIES)
@pytest.mark.parametrize(
    "path",
    [
        "/api/threads/{thread}/messages/",
        "/api/threads/",
        "/api/users/",
        "/api/messages/unread-count/",
    ],
)
def test_a_bad_query_on_any_list_is_a_json_400_or_ignored(client_for, alice, thread, path, query):
    # Each list's own tests say which parameters it reads; here, every value on every list, read
    # or not, is never a 500 and never a body that is not a JSON object.
    response = client_for(alice).get(f"{path.format(thread=thread.pk)}?{query}")

    assert response.status_code in (200, 400), response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json(), dict)
