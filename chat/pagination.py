"""Keyset pages of a thread's messages, beside the offset pages every list has."""

from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from common.pagination import StrictLimitOffsetPagination


class MessagePagination(StrictLimitOffsetPagination):
    """Offset pages, or keyset pages with `?before=<id>` (older, newest first) or `?after=<id>`
    (newer, oldest first) that cost the same at any depth of a long history.

    `count` is the number of messages in the whole thread for every kind of page. The messages
    come as `chat.queries.ThreadMessages`: `count()`, slices, `older_than`, `newer_than`.
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
        self.keyset_next = replace_query_param(base, key, page[-1].id) if has_more else None
        self.keyset_previous = replace_query_param(base, back_key, page[0].id) if page else None
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
