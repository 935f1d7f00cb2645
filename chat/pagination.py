"""Pagination: `LimitOffsetPagination` that refuses malformed parameters, keyset pages, and
rows counted by a cheaper query.

DRF's own class silently ignores a bad `limit` or `offset`; a client that sent one has a bug it
should hear about, so here it is a 400 that says which parameter is wrong.
"""

from collections.abc import Callable

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from chat.models import MAX_ID
from chat.serializers import PlainIntegerField

MAX_OFFSET = MAX_ID  # an offset is bound by the number of rows, so by the largest id


class PageQuerySerializer(serializers.Serializer):
    limit = PlainIntegerField(required=False, min_value=1)
    offset = PlainIntegerField(required=False, min_value=0, max_value=MAX_OFFSET)


class StrictLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100

    def _query(self, request) -> dict:
        # Validated once per request: `get_limit` and `get_offset` both ask.
        if not request.query_params:
            return {}
        if getattr(self, "_validated_for", None) is not request:
            params = PageQuerySerializer(data=request.query_params)
            params.is_valid(raise_exception=True)
            self._validated_for, self._validated = request, params.validated_data
        return self._validated

    def get_limit(self, request) -> int:
        return min(self._query(request).get("limit", self.default_limit), self.max_limit)

    def get_offset(self, request) -> int:
        return self._query(request).get("offset", 0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update(minimum=1, default=self.default_limit)
                parameter["description"] = f"Page size, 1 or more (at most {self.max_limit} used)."
            else:
                parameter["schema"].update(minimum=0, maximum=MAX_OFFSET, default=0)
        return parameters


class MessagePagination(StrictLimitOffsetPagination):
    """Offset pages, or keyset pages with `?before=<id>` (older, newest first) or `?after=<id>`
    (newer, oldest first) that cost the same at any depth of a long history.

    `count` is the number of messages in the whole thread for every kind of page. The messages
    come as `chat.selectors.ThreadMessages`: `count()`, slices, `older_than`, `newer_than`.
    """

    def paginate_keyset(self, messages, request, *, before=None, after=None):
        self.request = request
        self.limit = self.get_limit(request)
        self.count = self.get_count(messages)
        if before is not None:
            page = messages.older_than(before, self.limit + 1)
            key, back_key = "before", "after"
        else:
            page = messages.newer_than(after, self.limit + 1)
            key, back_key = "after", "before"
        has_more = len(page) > self.limit
        page = page[: self.limit]
        url = remove_query_param(request.build_absolute_uri(), self.offset_query_param)
        base = remove_query_param(remove_query_param(url, "before"), "after")
        self.keyset_next = replace_query_param(base, key, page[-1].pk) if has_more else None
        self.keyset_previous = replace_query_param(base, back_key, page[0].pk) if page else None
        return page

    def get_keyset_response(self, data) -> Response:
        return Response(
            {
                "count": self.count,
                "next": self.keyset_next,
                "previous": self.keyset_previous,
                "results": data,
            }
        )


class CountedRows:
    """Rows to paginate, read by `fetch(offset, limit)`, counted by a separate, cheaper query.

    DRF's paginator only calls `count()` and slices; a page query that joins other tables would
    make a `count()` of it join them too, where a plain count over one index says the same.
    """

    def __init__(self, fetch: Callable[[int, int], list], count: Callable[[], int]) -> None:
        self.fetch, self.count = fetch, count

    def __getitem__(self, window: slice) -> list:
        return self.fetch(window.start, window.stop - window.start)
