"""Pagination: `LimitOffsetPagination` that refuses malformed parameters, and rows counted by a
cheaper query than the one that reads them.

DRF's own class silently ignores a bad `limit` or `offset`; a client that sent one has a bug it
should hear about, so here it is a 400 that says which parameter is wrong.
"""

from collections.abc import Callable

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

from common.fields import MAX_ID, PlainIntegerField

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


class CountedRows:
    """Rows to paginate, read by `fetch(offset, limit)`, counted by a separate, cheaper query.

    DRF's paginator only calls `count()` and slices; a page query that joins other tables would
    make a `count()` of it join them too, where a plain count over one index says the same.
    """

    def __init__(self, fetch: Callable[[int, int], list], count: Callable[[], int]) -> None:
        self.fetch, self.count = fetch, count

    def __getitem__(self, window: slice) -> list:
        return self.fetch(window.start, window.stop - window.start)
