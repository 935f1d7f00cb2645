"""The OpenAPI schema class: every operation documents the error answers it can really give.

drf-spectacular documents the success codes a view declares; the errors come from the view's
configuration instead, so that a new view cannot forget them:
- 400 `ValidationError` when the operation takes a body, query or header parameters;
- 401 `ErrorDetail` when it authenticates (a bad or expired token), or is a token endpoint;
- 404 `ErrorDetail` when its path names an object;
- 413 and 415 `ErrorDetail` when it takes a body (too large, or not JSON);
- 429 `ErrorDetail` with `Retry-After` when it is throttled.
A code a view declares without a body (`403: None`) gets the `ErrorDetail` body.
Optional query parameters say `allowEmptyValue`: DRF reads `?limit=` as "not given".
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework_simplejwt.views import TokenViewBase

ERROR_DETAIL = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})

ERROR_DESCRIPTIONS = {
    "400": 'Invalid input: `{"field": ["message", ...]}` (DRF\'s shape), or `{"detail": ...}` '
    "for a body that is not JSON.",
    "401": "No valid credentials: a missing, expired, tampered or revoked token, or a wrong "
    "password.",
    "403": "Authenticated, but not allowed.",
    "404": "No such object among the caller's (another user's thread is a 404 too).",
    "405": "Method not allowed.",
    "413": "The request body is over the size limit (2.5 MB).",
    "415": "The body is not `application/json`.",
    "429": "Rate limit exceeded; `Retry-After` says how many seconds to wait.",
}

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "Field name to its errors (nested for list items), or `detail`.",
    "minProperties": 1,
    "additionalProperties": {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}},
            {"type": "object"},
        ]
    },
}

# OpenAPI links: where the id in a response leads next, so that a client (or a stateful fuzzer)
# can go from a created thread to its messages, and from a sent message to marking it read.
THREAD_LINKS = {
    name: {"operationId": operation_id, "parameters": {"thread_id": "$response.body#/id"}}
    for name, operation_id in [
        ("GetThread", "threads_retrieve"),
        ("ListMessages", "threads_messages_list"),
        ("SendMessage", "threads_messages_create"),
        ("MarkThreadRead", "threads_read_create"),
        ("DeleteThread", "threads_destroy"),
    ]
}
MESSAGE_LINKS = {
    "MarkMessageRead": {
        "operationId": "messages_read_create",
        "parameters": {"message_id": "$response.body#/id"},
    },
    "ListThreadMessages": {
        "operationId": "threads_messages_list",
        "parameters": {"thread_id": "$response.body#/thread"},
    },
}
LINKS = {
    ("/api/threads/", "POST"): THREAD_LINKS,
    ("/api/threads/{thread_id}/", "GET"): THREAD_LINKS,
    ("/api/threads/{thread_id}/messages/", "POST"): MESSAGE_LINKS,
}

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before the next request is allowed.",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
        for code, response in responses.items():
            if not code.startswith("4") or "content" in response:
                continue
            if not response.get("description") or response["description"] == "No response body":
                response["description"] = ERROR_DESCRIPTIONS.get(code, "Error.")
            if code == "400":
                schema = VALIDATION_ERROR_SCHEMA
            else:
                schema = self._get_response_for_code(ERROR_DETAIL, code)["content"][
                    "application/json"
                ]["schema"]
            response["content"] = {"application/json": {"schema": schema}}
            if code == "429":
                response["headers"] = RETRY_AFTER_HEADER
        links = LINKS.get((self.path, self.method))
        for code in ("200", "201"):
            if links and code in responses:
                responses[code]["links"] = links
        return dict(sorted(responses.items()))

    def _get_parameters(self):
        parameters = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        return parameters

    def _error_codes(self) -> list[str]:
        codes = []
        takes_input = self.method in ("POST", "PUT", "PATCH") and (
            self.get_request_serializer() is not None
        )
        if takes_input or self._has_query_or_header_parameters():
            codes.append("400")
        if self.view.get_authenticators() or isinstance(self.view, TokenViewBase):
            codes.append("401")
        if "{" in self.path:
            codes.append("404")
        if takes_input:
            codes += ["413", "415"]
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _has_query_or_header_parameters(self) -> bool:
        return any(parameter["in"] in ("query", "header") for parameter in self._get_parameters())
