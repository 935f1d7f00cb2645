"""Reads: the one access check for threads and messages, and the lists the API serves.

Every read of a thread or message on behalf of a user goes through `thread_for_participant` or
`message_for_participant`; a thread the user does not take part in is a 404, exactly like one
that does not exist, so no caller can learn of other people's conversations.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404

from chat.models import Message, Participant, Thread

User = get_user_model()


def thread_for_participant(*, user, thread_id: int) -> Thread:
    """The thread with both participants loaded, or Http404 unless `user` takes part in it."""
    thread = (
        Thread.objects.select_related("user_low", "user_high")
        .filter(pk=thread_id, participant_rows__user=user)
        .first()
    )
    if thread is None:
        raise Http404("No thread found.")
    return thread


def message_for_participant(*, user, message_id: int) -> Message:
    """The message, or Http404 unless `user` sent or received it."""
    message = (
        Message.objects.filter(pk=message_id).filter(Q(sender=user) | Q(recipient=user)).first()
    )
    if message is None:
        raise Http404("No message found.")
    return message


def participant_rows_for_user(*, user) -> QuerySet[Participant]:
    """The user's seats in threads, most recent activity first, with each thread and its pair.

    Each row carries `last_message_id` so that `threads_with_summaries` can load the last
    messages of a whole page in one query.
    """
    last_message_id = (
        Message.objects.filter(thread=OuterRef("thread_id")).order_by("-id").values("id")[:1]
    )
    return (
        Participant.objects.filter(user=user)
        .select_related("thread__user_low", "thread__user_high")
        .annotate(last_message_id=Subquery(last_message_id))
        .order_by("-thread_updated", "-thread_id")
    )


def threads_with_summaries(*, rows: Iterable[Participant], user) -> list[Thread]:
    """The threads of `rows`, each with `last_message` and `unread_count` for `user` set.

    Two queries whatever the number of threads: one for the last messages, one for the counts.
    """
    threads = []
    last_message_ids = []
    for row in rows:
        threads.append(row.thread)
        if row.last_message_id is not None:
            last_message_ids.append(row.last_message_id)
    if not threads:
        return threads
    last_messages = {
        message.thread_id: message for message in Message.objects.filter(pk__in=last_message_ids)
    }
    unread_counts = dict(
        Message.objects.filter(recipient=user, is_read=False, thread__in=threads)
        .values_list("thread")
        .annotate(count=Count("id"))
        .order_by()
    )
    for thread in threads:
        thread.last_message = last_messages.get(thread.pk)
        thread.unread_count = unread_counts.get(thread.pk, 0)
    return threads


def thread_with_summary(*, thread: Thread, user) -> Thread:
    """One thread with `last_message` and `unread_count` for `user` (detail and create)."""
    thread.last_message = Message.objects.filter(thread=thread).order_by("-id").first()
    thread.unread_count = Message.objects.filter(
        thread=thread, recipient=user, is_read=False
    ).count()
    return thread


def messages_for_thread(*, thread: Thread) -> QuerySet[Message]:
    """Messages of a thread, newest first (ids follow arrival order)."""
    return Message.objects.filter(thread=thread).order_by("-id")


def unread_count_for_user(*, user) -> int:
    return Message.objects.filter(recipient=user, is_read=False).count()


def users_search(*, search: str = "") -> QuerySet:
    users = User.objects.filter(is_active=True).order_by("username", "id")
    if search:
        users = users.filter(username__icontains=search)
    return users


def subject_user(*, caller, user_id: int | None):
    """Whose threads or unread count a `?user=` query asks for.

    Anyone may name themselves; only staff may name someone else (403 otherwise, whether or not
    that user exists, so the answer reveals nothing).
    """
    if user_id is None or user_id == caller.pk:
        return caller
    if not caller.is_staff:
        raise PermissionDenied("Only staff may look at another user's threads.")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"user": [f"No user has id {user_id}."]})
    return user
