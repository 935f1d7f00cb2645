"""Live events: what the WebSocket clients of each user receive after a write commits.

Services call these through `transaction.on_commit`, so an event never announces data that a
rollback took back. Payloads use the REST output serializers: a `message.created` frame carries
exactly the Message that `GET .../messages/` returns.

The channel layer is best-effort: if it is down (Redis stopped), the write has already committed
and clients catch up through REST, so a failure is logged (once, until the layer recovers) and
never raised into the request.

Publishing is a coroutine. Under ASGI, `async_to_sync` hands it to the worker's event loop. A WSGI
worker has no loop, and there `async_to_sync` made a new loop, with a new Redis connection, for
every publish: 3.8 ms a message (bench/TOPOLOGY.md). `config/wsgi.py` therefore calls
`publish_from_lasting_loop()`, and publishes then run on one event loop per process, on a thread
of its own, that keeps its Redis connections: 0.56 ms.
"""

import asyncio
import logging
import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat import selectors
from chat.models import Message, Thread
from chat.serializers import MessageSerializer, ThreadSerializer

logger = logging.getLogger(__name__)

# Consumers route frames of this type to `ChatConsumer.chat_event`.
EVENT_HANDLER = "chat.event"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


# How long a request waits for its events to reach the channel layer before giving up on them.
PUBLISH_TIMEOUT_SECONDS = 5


class _LayerHealth:
    """Remembers whether the last publish failed, so an outage is logged once, not per request."""

    failing = False


class _LastingLoop:
    """One event loop per process on a daemon thread, started at the first publish (so after a
    fork) once `publish_from_lasting_loop()` has been called."""

    enabled = False
    loop: asyncio.AbstractEventLoop | None = None
    pid = 0
    lock = threading.Lock()

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls.lock:
            if cls.loop is None or cls.pid != os.getpid():
                cls.loop = asyncio.new_event_loop()
                cls.pid = os.getpid()
                threading.Thread(
                    target=cls.loop.run_forever, name="channel-layer-publisher", daemon=True
                ).start()
            return cls.loop


def publish_from_lasting_loop() -> None:
    """For processes without an event loop of their own (WSGI workers): publish on one lasting
    loop per process instead of a new loop and Redis connection per publish."""
    _LastingLoop.enabled = True


def _run(coroutine_function) -> None:
    if not _LastingLoop.enabled:
        async_to_sync(coroutine_function)()
        return
    future = asyncio.run_coroutine_threadsafe(coroutine_function(), _LastingLoop.get())
    try:
        future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
    except TimeoutError:
        future.cancel()
        raise


def send_to_users(deliveries: list[tuple[int, dict]]) -> None:
    """Send each (user id, event) to that user's sockets, all at once and after the caller's
    transaction has committed; never raises."""
    layer = get_channel_layer()
    if layer is None or not deliveries:
        return

    async def send_all():
        await asyncio.gather(
            *(
                layer.group_send(user_group(user_id), {"type": EVENT_HANDLER, "event": event})
                for user_id, event in deliveries
            )
        )

    try:
        _run(send_all)
    except Exception:
        if not _LayerHealth.failing:
            logger.exception(
                "Channel layer unavailable: live events are not delivered until it recovers; "
                "clients catch up through REST."
            )
        _LayerHealth.failing = True
        return
    if _LayerHealth.failing:
        logger.warning("Channel layer recovered: live events are delivered again.")
        _LayerHealth.failing = False


def message_created(message: Message) -> None:
    payload = MessageSerializer(message).data
    unread = selectors.unread_counts_for_users(user_ids=(message.sender_id, message.recipient_id))
    send_to_users(
        [
            (user_id, {"type": "message.created", "message": payload, "unread_count": count})
            for user_id, count in unread.items()
        ]
    )


def messages_read(*, thread_id: int, participant_ids: tuple[int, int], message_ids: list[int]):
    unread = selectors.unread_counts_for_users(user_ids=participant_ids)
    send_to_users(
        [
            (
                user_id,
                {
                    "type": "message.read",
                    "thread": thread_id,
                    "message_ids": message_ids,
                    "unread_count": count,
                },
            )
            for user_id, count in unread.items()
        ]
    )


def thread_created(thread: Thread) -> None:
    send_to_users(
        [
            (
                user.pk,
                {
                    "type": "thread.created",
                    "thread": ThreadSerializer(
                        selectors.thread_with_summary(thread=thread, user=user)
                    ).data,
                },
            )
            for user in thread.pair
        ]
    )


def thread_deleted(*, thread_id: int, participant_ids: tuple[int, int]) -> None:
    send_to_users(
        [(user_id, {"type": "thread.deleted", "thread": thread_id}) for user_id in participant_ids]
    )
