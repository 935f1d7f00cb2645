"""Every /api/ error is JSON, whatever DEBUG says and wherever in Django it arose."""

import pytest
from django.urls import path

from config.urls import urlpatterns as project_urls


def crash(request):
    raise RuntimeError("boom")


urlpatterns = [*project_urls, path("api/crash/", crash)]


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.parametrize(
    ("path", "host", "status"),
    [
        ("/api/no-such-endpoint/", "127.0.0.1", 404),
        ("/api/threads", "127.0.0.1", 404),  # no trailing slash: no redirect
        ("/api/threads/abc/", "127.0.0.1", 404),
        ("/api/users/me/", "evil.example", 400),
    ],
)
def test_errors_outside_drf_are_json(client, db, debug, path, host, status):
    response = client.get(path, HTTP_HOST=host)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


@pytest.mark.urls("config.tests.test_json_errors")
def test_an_unexpected_exception_is_a_json_500_without_details(db, debug, settings):
    from django.test import Client

    response = Client(raise_request_exception=False).get("/api/crash/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}


def test_pages_outside_the_api_keep_djangos_html(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_post_without_trailing_slash_is_a_json_404_not_a_500(client, db, debug):
    response = client.post("/api/threads", {}, content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


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
