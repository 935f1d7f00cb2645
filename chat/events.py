"""Live events: what the WebSocket clients of each user receive after a write commits.

Services call these through `transaction.on_commit`, so an event never announces data that a
rollback took back. Each event type has one builder here; payloads use the REST output
serializers, so a `message.created` frame carries exactly the Message that `GET .../messages/`
returns. Events about messages carry the receiving user's unread counts, in all
(`unread_count`) and in the thread (`thread_unread_count`), so that badges need no request.
`presence` comes from `chat.presence` rather than from a service: sockets opening and closing,
and the sweep of expired ones, are its writes.

The channel layer is best-effort: if it is down (Redis stopped), the write has already committed
and clients catch up through REST, so a failure is logged (once, until the layer recovers) and
never raised into the request.

Publishing blocks until the event is sent: with Redis, one PUBLISH per user in one round trip,
from any process (`config.channel_layer` says why no event loop is involved).
"""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat import selectors
from chat.models import Message, Thread
from chat.queries import PresenceView
from chat.serializers import MessageSerializer, PresenceSerializer, ThreadSerializer
from config import metrics
from config.channel_layer import PubSubChannelLayer

logger = logging.getLogger(__name__)

# Consumers route frames of this type to `ChatConsumer.chat_event`, and of the other to
# `ChatConsumer.chat_close`.
EVENT_HANDLER = "chat.event"
CLOSE_HANDLER = "chat.close"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class _LayerHealth:
    """Remembers whether the last publish failed, so an outage is logged once, not per request."""

    failing = False


def _group_send(layer, messages: list[tuple[str, dict]]) -> None:
    """Send each (group, message) and wait until they are sent. Redis: all in one blocking round
    trip, from any process or thread (`config.channel_layer`). The in-memory layer of a single
    process (`make run`, tests): on the process's event loop."""
    if isinstance(layer, PubSubChannelLayer):
        layer.group_send_blocking(messages)
        return

    async def send_all():
        await asyncio.gather(*(layer.group_send(group, message) for group, message in messages))

    async_to_sync(send_all)()


def send_to_users(deliveries: list[tuple[int, dict]]) -> None:
    """Send each (user id, event) to that user's sockets, all at once and after the caller's
    transaction has committed; never raises."""
    layer = get_channel_layer()
    if layer is None or not deliveries:
        return
    messages = [
        (user_group(user_id), {"type": EVENT_HANDLER, "event": event})
        for user_id, event in deliveries
    ]
    try:
        _group_send(layer, messages)
    except Exception:
        metrics.count_events(deliveries, failed=True)
        if not _LayerHealth.failing:
            logger.exception(
                "Channel layer unavailable: live events are not delivered until it recovers; "
                "clients catch up through REST."
            )
        _LayerHealth.failing = True
        return
    metrics.count_events(deliveries)
    if _LayerHealth.failing:
        logger.warning("Channel layer recovered: live events are delivered again.")
        _LayerHealth.failing = False


def unread_figures(user_id: int, counts: dict[int, tuple[int, int]]) -> dict:
    total, in_thread = counts[user_id]
    return {"unread_count": total, "thread_unread_count": in_thread}


def message_created(message: Message) -> None:
    payload = MessageSerializer(message).data
    participant_ids = (message.sender_id, message.recipient_id)
    counts = selectors.unread_counts_for_users(
        user_ids=participant_ids, thread_id=message.thread_id
    )
    send_to_users(
        [
            (
                user_id,
                {"type": "message.created", "message": payload} | unread_figures(user_id, counts),
            )
            for user_id in participant_ids
        ]
    )


def message_updated(message: Message) -> None:
    payload = MessageSerializer(message).data
    send_to_users(
        [
            (user_id, {"type": "message.updated", "message": payload})
            for user_id in (message.sender_id, message.recipient_id)
        ]
    )


def _read_state_changed(kind: str, *, thread_id, participant_ids, message_ids) -> None:
    counts = selectors.unread_counts_for_users(user_ids=participant_ids, thread_id=thread_id)
    send_to_users(
        [
            (
                user_id,
                {"type": kind, "thread": thread_id, "message_ids": message_ids}
                | unread_figures(user_id, counts),
            )
            for user_id in participant_ids
        ]
    )


def messages_read(*, thread_id: int, participant_ids: tuple[int, int], message_ids: list[int]):
    _read_state_changed(
        "message.read",
        thread_id=thread_id,
        participant_ids=participant_ids,
        message_ids=message_ids,
    )


def messages_unread(*, thread_id: int, participant_ids: tuple[int, int], message_ids: list[int]):
    _read_state_changed(
        "message.unread",
        thread_id=thread_id,
        participant_ids=participant_ids,
        message_ids=message_ids,
    )


def message_deleted(
    *, thread_id: int, message_id: int, scope: str, user_ids: tuple[int, ...]
) -> None:
    """To both participants when deleted for everyone (a tombstone now); to the one who hid it
    (`scope` "me") otherwise."""
    counts = selectors.unread_counts_for_users(user_ids=user_ids, thread_id=thread_id)
    send_to_users(
        [
            (
                user_id,
                {
                    "type": "message.deleted",
                    "thread": thread_id,
                    "message_id": message_id,
                    "scope": scope,
                }
                | unread_figures(user_id, counts),
            )
            for user_id in user_ids
        ]
    )


def thread_cleared(*, thread_id: int, user_id: int, through: int) -> None:
    """To the sockets of the user who cleared the thread (their other tabs and devices), with
    the newest message it hid: later ones stay."""
    counts = selectors.unread_counts_for_users(user_ids=(user_id,), thread_id=thread_id)
    send_to_users(
        [
            (
                user_id,
                {"type": "thread.cleared", "thread": thread_id, "through": through}
                | unread_figures(user_id, counts),
            )
        ]
    )


def thread_created(thread: Thread) -> None:
    send_to_users(
        [
            (
                user_id,
                {
                    "type": "thread.created",
                    "thread": ThreadSerializer(
                        selectors.thread_view(thread_id=thread.pk, user_id=user_id)
                    ).data,
                },
            )
            for user_id in (thread.user_low_id, thread.user_high_id)
        ]
    )


def thread_deleted(*, thread_id: int, participant_ids: tuple[int, int]) -> None:
    """With each participant's unread total after the deletion: the thread's unread messages
    went with it, and a client that had not loaded that thread could not tell how many."""
    counts = selectors.unread_counts_for_users(user_ids=participant_ids, thread_id=thread_id)
    send_to_users(
        [
            (
                user_id,
                {"type": "thread.deleted", "thread": thread_id, "unread_count": counts[user_id][0]},
            )
            for user_id in participant_ids
        ]
    )


def sockets_closed(*, user_id: int) -> None:
    """Close every socket of a user whose account was deactivated, in whichever worker holds it:
    their token stops working at its next request, and a socket must not outlive it."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        _group_send(layer, [(user_group(user_id), {"type": CLOSE_HANDLER})])
    except Exception:
        logger.exception("Could not close the sockets of deactivated user %s.", user_id)


def presence_changed(*, user_id: int, presence: PresenceView, hidden_too: bool = False) -> None:
    """`user_id` came online, went offline, or changed whether they show it: to the users who
    share a thread with them and have a socket open, not across a block, and not at all while
    they hide their presence, unless `hidden_too` (they have just hidden it, and everyone who
    saw them online must now see them offline). One query finds them, however many threads."""
    audience = selectors.presence_audience(user_id=user_id, hidden_too=hidden_too)
    event = {"type": "presence", "user": user_id} | PresenceSerializer(presence).data
    send_to_users([(partner_id, event) for partner_id in audience])


def presence_across_block(*, user_ids: tuple[int, int]) -> None:
    """A block between two users began or ended: each sees the other's presence as they may now,
    offline with no `last_seen` while it stands (as for someone who hides it, so a block shows as
    nothing more), what the other is on its end."""
    deliveries = []
    for viewer_id, user_id in (user_ids, user_ids[::-1]):
        presence = selectors.presence_seen_by(viewer_id=viewer_id, user_id=user_id)
        if presence is not None:
            event = {"type": "presence", "user": user_id} | PresenceSerializer(presence).data
            deliveries.append((viewer_id, event))
    send_to_users(deliveries)


# What operators' webhooks receive of each event (notifications/webhooks.py), built inside the
# writing transaction: the event as its participants get it, less what is one user's own (their
# unread counts), and naming the users a participant's event leaves implicit.
def _message_view(kind: str):
    return lambda message: {"type": kind, "message": MessageSerializer(message).data}


def _read_state_view(kind: str):
    return lambda *, thread_id, participant_ids, message_ids: {
        "type": kind,
        "thread": thread_id,
        "message_ids": message_ids,
    }


WEBHOOK_VIEWS = {
    message_created: _message_view("message.created"),
    message_updated: _message_view("message.updated"),
    messages_read: _read_state_view("message.read"),
    messages_unread: _read_state_view("message.unread"),
    message_deleted: lambda *, thread_id, message_id, scope, user_ids: {
        "type": "message.deleted",
        "thread": thread_id,
        "message_id": message_id,
        "scope": scope,
        "users": list(user_ids),
    },
    thread_cleared: lambda *, thread_id, user_id, through: {
        "type": "thread.cleared",
        "thread": thread_id,
        "user": user_id,
        "through": through,
    },
    thread_created: lambda thread: {
        "type": "thread.created",
        "thread": {
            "id": thread.pk,
            "participants": [thread.user_low_id, thread.user_high_id],
            "created": thread.created,
        },
    },
    thread_deleted: lambda *, thread_id, participant_ids: {
        "type": "thread.deleted",
        "thread": thread_id,
        "participants": list(participant_ids),
    },
}
