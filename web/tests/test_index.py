"""The page at `/`: served with a strict Content-Security-Policy, scripts and styles external; its
service worker at `/sw.js`."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import override_settings

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)


@pytest.fixture
def page(client):
    return client.get("/")


def test_index_serves_the_client_page(page):
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert '<script type="module" src="/static/web/app.js">' in html
    assert 'href="/static/web/app.css"' in html


def test_index_runs_no_inline_script_or_style(page):
    html = page.content.decode()
    scripts = SCRIPT_TAG.findall(html)
    assert scripts
    assert all("src=" in tag for tag in scripts)
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), "inline event handler"


def test_index_is_sent_with_a_content_security_policy(page):
    policy = page["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "connect-src 'self' ws://testserver wss://testserver" in policy
    assert "frame-ancestors 'none'" in policy
    assert "worker-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@override_settings(ATTACHMENT_MAX_BYTES=12345)
def test_index_tells_the_largest_file_the_server_takes(client):
    html = client.get("/").content.decode()
    assert '<meta name="attachment-max-bytes" content="12345">' in html


def test_index_answers_only_get_and_head(client):
    assert client.head("/").status_code == 200
    assert client.post("/").status_code == 405


@pytest.mark.parametrize(
    "name",
    [
        "app.js",
        "api.js",
        "socket.js",
        "store.js",
        "sync.js",
        "banner.js",
        "login.js",
        "threadlist.js",
        "people.js",
        "conversation.js",
        "messages.js",
        "dom.js",
        "files.js",
        "attachments.js",
        "uploads.js",
        "push.js",
        "sw.js",
        "icons/paperclip.svg",
        "icons/file.svg",
        "app.css",
    ],
)
def test_static_assets_are_found(name):
    assert finders.find(f"web/{name}")


def test_the_service_worker_is_served_at_the_root_so_that_it_covers_the_page(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.content == Path(finders.find("web/sw.js")).read_bytes()
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert client.post("/sw.js").status_code == 405


@pytest.mark.django_db
def test_admin_and_api_docs_still_answer(client):
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
