"""GET /healthz, the docs page, and the JSON-only error responses under /api/."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.db import DatabaseError

import chat.views
import config.urls
from chat.models import Message

User = get_user_model()


def test_healthz_answers_ok_without_auth(anon_client, db):
    response = anon_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(anon_client, db, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise DatabaseError("database is gone")

    monkeypatch.setattr(config.urls, "connection", BrokenConnection())

    response = anon_client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] != "ok"


@pytest.mark.parametrize(
    "path",
    [
        "/api/nope/",
        "/api/nope",
        "/api/threads/abc/",
        "/api/threads/abc/messages/",
        "/api/threads/1/nope/",
        "/api/messages/abc/read/",
        "/api/threads/-1/",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_paths_are_a_json_404_whatever_debug_says(
    client_for, alice, settings, path, debug
):
    settings.DEBUG = debug

    response = client_for(alice).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("path", ["/api/nope/", "/api/threads/abc/"])
def test_unknown_api_paths_are_a_404_for_anonymous_callers_too(anon_client, db, path):
    response = anon_client.post(path, {"x": 1}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


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


def test_an_unexpected_error_is_a_json_500_without_details(client_for, alice, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(chat.views.selectors, "unread_count_for_user", explode)

    response = client_for(alice).get("/api/messages/unread-count/")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert "secret internals" not in response.content.decode()


def test_the_docs_page_is_served(anon_client, db):
    response = anon_client.get("/api/docs/")

    assert response.status_code == 200
    assert "swagger" in response.content.decode().lower()


def test_the_docs_page_loads_only_the_services_own_static_files(anon_client, db):
    page = anon_client.get("/api/docs/").content.decode()

    sources = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert len(sources) == 4  # favicon, stylesheet, two scripts
    for source in sources:
        assert source.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/"), source
        assert finders.find(source.removeprefix("/static/")), source
