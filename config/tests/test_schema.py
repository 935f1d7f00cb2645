"""GET /api/schema/: the OpenAPI schema lists every endpoint and documents the answers the fuzzer
(tests/reliability/test_fuzz.py) rarely provokes but the endpoints' tests do: rate limits,
oversized and non-JSON bodies, refusals, logout's 205. And the reference for the service's users,
docs/API.md, covers every operation the schema lists."""

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "API.md"

OBSERVED = [
    ("post", "/api/auth/token/", "429"),
    ("post", "/api/auth/register/", "429"),
    ("post", "/api/auth/token/refresh/", "429"),
    ("post", "/api/threads/{thread_id}/messages/", "429"),
    ("post", "/api/threads/{thread_id}/messages/", "413"),
    ("post", "/api/threads/{thread_id}/messages/", "415"),
    ("post", "/api/auth/register/", "413"),
    ("get", "/api/threads/", "403"),
    ("get", "/api/messages/unread-count/", "403"),
    ("post", "/api/messages/{message_id}/read/", "403"),
    ("post", "/api/auth/logout/", "205"),
    ("post", "/api/threads/", "200"),
    ("post", "/api/threads/", "201"),
    ("post", "/api/threads/{thread_id}/messages/", "200"),
    ("delete", "/api/threads/{thread_id}/", "204"),
]


@pytest.fixture(scope="module")
def schema():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_lists_every_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/threads/",
        "/api/threads/{thread_id}/",
        "/api/threads/{thread_id}/messages/",
        "/api/threads/{thread_id}/read/",
        "/api/messages/{message_id}/read/",
        "/api/messages/unread-count/",
        "/api/auth/register/",
        "/api/auth/token/",
        "/api/auth/token/refresh/",
        "/api/auth/token/verify/",
        "/api/auth/logout/",
        "/api/users/",
        "/api/users/me/",
    } <= set(schema["paths"])


@pytest.mark.parametrize(("method", "path", "code"), OBSERVED)
def test_observed_status_is_documented(schema, method, path, code):
    assert code in schema["paths"][path][method]["responses"]


def test_every_429_documents_retry_after(schema):
    throttled = [
        operation["responses"]["429"]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if "429" in operation["responses"]
    ]
    assert len(throttled) == 5  # login, register, refresh, send, upload
    for response in throttled:
        assert response["headers"]["Retry-After"]["required"] is True


def test_every_error_has_a_json_body(schema):
    for methods in schema["paths"].values():
        for operation in methods.values():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    assert "application/json" in response["content"], (
                        operation["operationId"],
                        code,
                    )


def test_the_thread_list_is_paginated(schema):
    operation = schema["paths"]["/api/threads/"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"limit", "offset"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/PaginatedThreadList")


def as_documented(path: str) -> str:
    """`/api/threads/{thread_id}/` as `/api/threads/<id>/`; other parameters by name
    (`/api/attachments/<id>/<kind>/`)."""
    return re.sub(r"{([a-z]+)}", r"<\1>", re.sub(r"{[a-z_]+_id}", "<id>", path))


def test_the_reference_documents_every_operation(schema):
    operations = [
        f"{method.upper()} {as_documented(path)}"
        for path, methods in schema["paths"].items()
        for method in methods
    ]
    reference = REFERENCE.read_text()
    assert [operation for operation in operations if operation not in reference] == []
