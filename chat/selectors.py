"""Reads: the one access check for threads and messages, and the lists the API serves.

Every read of a thread or message on behalf of a user goes through `thread_for_participant` or
`message_for_participant`; a thread the user does not take part in is a 404, exactly like one
that does not exist, so no caller can learn of other people's conversations. Presence has its
own, `presence_for_user`: only oneself and the people one shares a thread with.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404

from chat import files, queries
from chat.models import Attachment, HiddenMessage, Message, MessageEdit, Participant, Thread
from chat.queries import PresenceView, ThreadView
from chat.search import MessageSearch
from common.fields import MAX_ID
from common.pagination import CountedRows

User = get_user_model()


def thread_for_participant(*, user, thread_id: int) -> Thread:
    """The thread, or Http404 unless `user` takes part in it."""
    if not 0 < thread_id <= MAX_ID:
        raise Http404("No thread found.")  # no such row can exist; the driver would overflow
    thread = queries.thread_if_participant(user_id=user.pk, thread_id=thread_id)
    if thread is None:
        raise Http404("No thread found.")
    return thread


def message_for_participant(*, user, message_id: int) -> Message:
    """The message, or Http404 unless it is in one of `user`'s threads and not deleted by
    `user` for themselves (a hidden message is, to them, one that does not exist)."""
    if not 0 < message_id <= MAX_ID:
        raise Http404("No message found.")
    message = queries.message_if_visible(user_id=user.pk, message_id=message_id)
    if message is None:
        raise Http404("No message found.")
    return message


def attachment_for_user(*, user, attachment_id: int) -> Attachment:
    """The attachment, or Http404 unless `user` uploaded it or takes part in the thread of the
    message it was sent with (and has not hidden that message for themselves)."""
    if not 0 < attachment_id <= MAX_ID:
        raise Http404("No file found.")
    attachment = queries.attachment_if_allowed(user_id=user.pk, attachment_id=attachment_id)
    if attachment is None:
        raise Http404("No file found.")
    return attachment


def attachment_by_link(*, attachment_id: int, kind: str, expires: str, signature: str):
    """The attachment a signed link names, and how many seconds the link has left: no access
    check but the signature (PermissionDenied if tampered with or expired); Http404 if the file
    is gone (its message deleted) or the attachment has no such file."""
    seconds_left = files.link_seconds_left(attachment_id, kind, expires, signature)
    if seconds_left is None:
        raise PermissionDenied("This link is invalid or has expired.")
    attachment = Attachment.objects.filter(pk=attachment_id).first()
    if attachment is None or (kind == files.THUMBNAIL and not attachment.thumbnail_name):
        raise Http404("No file found.")
    return attachment, seconds_left


def message_history(*, message: Message) -> list[MessageEdit]:
    """The earlier texts of a message, oldest first."""
    return list(MessageEdit.objects.filter(message=message).order_by("id"))


def threads_for_user(*, user) -> CountedRows:
    """The user's threads, most recent activity first, as pages of `ThreadView`: two queries a
    page whatever the number of threads (the count, from the participant index alone, and
    `queries.THREAD_SQL`)."""
    return CountedRows(
        lambda offset, limit: queries.threads_page(user_id=user.pk, offset=offset, limit=limit),
        count=lambda: queries.thread_count(user_id=user.pk),
    )


def thread_view(*, thread_id: int, user_id: int) -> ThreadView:
    """The thread as the user sees it, read exactly as a page of their thread list reads it
    (detail, create and live events): Http404 unless they take part in it."""
    view = queries.thread_view(user_id=user_id, thread_id=thread_id)
    if view is None:
        raise Http404("No thread found.")
    return view


def messages_for_thread(*, thread: Thread, user) -> queries.ThreadMessages:
    """The messages of a thread that `user` sees, newest first (ids follow arrival order), to
    paginate. Each page is one query that walks the (thread, -id) index from its start or from
    the key; the total starts from the count the database keeps (`ThreadMessageCount`), so no
    page counts the rows of a long thread."""
    return queries.ThreadMessages(user_id=user.pk, thread_id=thread.pk)


def messages_search(*, user, words: list[str], thread_id: int | None = None) -> MessageSearch:
    """The messages `user` can see that match every word, newest first, to paginate (the
    thread, if any, has passed the access check)."""
    return MessageSearch(user_id=user.pk, words=words, thread_id=thread_id)


def unread_count_for_user(*, user) -> int:
    return queries.unread_count(user_id=user.pk)


def unread_counts_for_users(*, user_ids, thread_id: int) -> dict[int, tuple[int, int]]:
    """Each user's unread count, in all and in the thread, in one query (the two participants
    of a live event)."""
    return queries.unread_counts(user_ids=tuple(user_ids), thread_id=thread_id)


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


def presence_for_user(*, caller, user_id: int) -> PresenceView:
    """`user_id`'s presence as `caller` may see it: the access check of presence, in the same
    query. Http404 unless it is the caller or someone who shares a thread with them, exactly as
    for a user that does not exist, so the answer reveals nobody's existence."""
    if not 0 < user_id <= MAX_ID:
        raise Http404("No user found.")
    presence = queries.presence_for(viewer_id=caller.pk, user_id=user_id)
    if presence is None:
        raise Http404("No user found.")
    return presence


def presence_seen_by(*, viewer_id: int, user_id: int) -> PresenceView | None:
    """`user_id`'s presence as `viewer_id` may see it, or None when they share no thread (no
    access check: for events about a change the two already know of)."""
    return queries.presence_for(viewer_id=viewer_id, user_id=user_id)


def presence_audience(*, user_id: int, hidden_too: bool = False) -> list[int]:
    """The users a change in `user_id`'s presence is sent to (`queries.presence_audience`)."""
    return queries.presence_audience(user_id=user_id, hidden_too=hidden_too)


# Whether a message's recipient no longer sees it: they deleted it for themselves, or cleared
# the conversation past it. (The admin does not make such a message unread; nobody is notified
# of it.)
def hidden_from_recipient() -> Exists:
    return Exists(HiddenMessage.objects.filter(user=OuterRef("recipient"), message=OuterRef("pk")))


def cleared_by_recipient() -> Exists:
    return Exists(
        Participant.objects.filter(
            thread=OuterRef("thread"),
            user=OuterRef("recipient"),
            cleared_through__gte=OuterRef("pk"),
        )
    )
