from django.urls import path, register_converter

from chat import files, views


class FileKindConverter:
    """Which file of an attachment a signed link serves."""

    regex = f"{files.FILE}|{files.THUMBNAIL}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FileKindConverter, "file_kind")

urlpatterns = [
    path("threads/", views.ThreadListCreateView.as_view(), name="thread-list"),
    path("threads/<int:thread_id>/", views.ThreadDetailView.as_view(), name="thread-detail"),
    path(
        "threads/<int:thread_id>/messages/",
        views.MessageListCreateView.as_view(),
        name="thread-messages",
    ),
    path("threads/<int:thread_id>/read/", views.ThreadReadView.as_view(), name="thread-read"),
    path("threads/<int:thread_id>/clear/", views.ThreadClearView.as_view(), name="thread-clear"),
    path("threads/<int:thread_id>/mute/", views.ThreadMuteView.as_view(), name="thread-mute"),
    path("messages/search/", views.MessageSearchView.as_view(), name="message-search"),
    path("messages/<int:message_id>/", views.MessageDetailView.as_view(), name="message-detail"),
    path(
        "messages/<int:message_id>/history/",
        views.MessageHistoryView.as_view(),
        name="message-history",
    ),
    path("messages/<int:message_id>/read/", views.MessageReadView.as_view(), name="message-read"),
    path(
        "messages/<int:message_id>/unread/",
        views.MessageUnreadView.as_view(),
        name="message-unread",
    ),
    path(
        "messages/<int:message_id>/report/",
        views.MessageReportView.as_view(),
        name="message-report",
    ),
    path("messages/unread-count/", views.UnreadCountView.as_view(), name="unread-count"),
    path("users/<int:user_id>/presence/", views.UserPresenceView.as_view(), name="user-presence"),
    path("attachments/", views.AttachmentUploadView.as_view(), name="attachment-upload"),
    path(
        "attachments/<int:attachment_id>/",
        views.AttachmentDetailView.as_view(),
        name="attachment-detail",
    ),
    path(
        "attachments/<int:attachment_id>/<file_kind:kind>/",
        views.AttachmentLinkView.as_view(),
        name="attachment-link",
    ),
]
