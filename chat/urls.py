from django.urls import path

from chat import views

urlpatterns = [
    path("threads/", views.ThreadListCreateView.as_view(), name="thread-list"),
    path("threads/<int:thread_id>/", views.ThreadDetailView.as_view(), name="thread-detail"),
    path(
        "threads/<int:thread_id>/messages/",
        views.MessageListCreateView.as_view(),
        name="thread-messages",
    ),
    path("threads/<int:thread_id>/read/", views.ThreadReadView.as_view(), name="thread-read"),
    path("messages/<int:message_id>/read/", views.MessageReadView.as_view(), name="message-read"),
    path("messages/unread-count/", views.UnreadCountView.as_view(), name="unread-count"),
]
