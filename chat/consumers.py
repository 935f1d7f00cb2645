"""The WebSocket endpoint `/ws/chat/?token=<access>`: live events for one user.

Each socket joins its user's group (`chat.events.user_group`); services publish to both
participants' groups after a write commits. From the client it takes `typing`, `view` (the
thread its window shows while focused: not pushed meanwhile) and `ping`; anything else is
answered with an error frame and the socket stays open. Each socket is counted for presence
(`chat.presence`) from before it is accepted until it closes.
"""

import json
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from accounts.selectors import blocked
from chat import presence, selectors
from chat.events import EVENT_HANDLER, user_group
from config import metrics

# Close code for "not authenticated": 4000-4999 are the application's; 4401 mirrors HTTP 401.
CLOSE_UNAUTHENTICATED = 4401
# Typing frames beyond one per thread per interval are dropped, not relayed.
TYPING_INTERVAL_SECONDS = 1.0
# Sockets open in this process, on /metrics (config/metrics.py).
OPEN_SOCKETS = metrics.open_sockets()


class ChatConsumer(AsyncJsonWebsocketConsumer):
    counted = False  # in OPEN_SOCKETS
    keeper: presence.Keeper | None = None  # counts this socket for presence

    async def connect(self):
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:
            # Accept first so that the client sees the close code (a refused handshake is an
            # opaque 1006 in browsers) and knows to log in again rather than retry.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.token_expires_at = self.scope["token_expires_at"]
        self.last_typing: dict[int, float] = {}
        await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
        # Counted before the handshake completes, so that once a client sees its socket open,
        # its partners have been told it is online.
        self.keeper = presence.keeper()
        await self.keeper.opened(user_id=self.user.pk, channel_name=self.channel_name)
        await self.accept()
        OPEN_SOCKETS.inc()
        self.counted = True

    async def disconnect(self, code):
        if self.counted:
            OPEN_SOCKETS.dec()
        if self.user is not None and self.user.is_authenticated:
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
        if self.keeper is not None:
            await self.keeper.closed(channel_name=self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_error("Frames must be JSON text.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("Frames must be JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if await self.close_if_token_expired():
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "typing":
            await self.relay_typing(content.get("thread"))
        elif kind == "view":
            await self.record_view(content.get("thread", "missing"))
        else:
            await self.send_error(
                'Unknown frame; send {"type": "typing", "thread": <id>}, '
                '{"type": "view", "thread": <id> | null} or {"type": "ping"}.'
            )

    async def relay_typing(self, thread_id) -> None:
        if type(thread_id) is not int or thread_id < 1:
            await self.send_error("typing needs a thread id, a positive integer.")
            return
        try:
            thread = await database_sync_to_async(selectors.thread_for_participant)(
                user=self.user, thread_id=thread_id
            )
        except Http404:
            await self.send_error("No thread found.")
            return
        now = time.monotonic()
        if now - self.last_typing.get(thread_id, float("-inf")) < TYPING_INTERVAL_SECONDS:
            return
        self.last_typing[thread_id] = now
        other_id = thread.other_participant_id(self.user.pk)
        if await database_sync_to_async(blocked)(user_id=self.user.pk, other_id=other_id):
            return  # not relayed, and not said: sending would tell them in the same words
        event = {"type": "typing", "thread": thread.pk, "user": self.user.pk}
        await self.channel_layer.group_send(
            user_group(other_id), {"type": EVENT_HANDLER, "event": event}
        )

    async def record_view(self, thread_id) -> None:
        if thread_id is not None:  # None: nothing in view, said explicitly
            if type(thread_id) is not int or thread_id < 1:
                await self.send_error("view needs a thread id, a positive integer, or null.")
                return
            try:
                await database_sync_to_async(selectors.thread_for_participant)(
                    user=self.user, thread_id=thread_id
                )
            except Http404:
                await self.send_error("No thread found.")
                return
        await database_sync_to_async(presence.socket_view)(
            channel_name=self.channel_name, thread_id=thread_id
        )

    async def chat_close(self, message):
        """The account was deactivated (`chat.events.sockets_closed`): end the session here too."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def chat_event(self, message):
        if await self.close_if_token_expired():
            return
        await self.send_json(message["event"])

    async def close_if_token_expired(self) -> bool:
        """An access token authorises a socket only as long as it would authorise a request."""
        if time.time() < self.token_expires_at:
            return False
        await self.close(code=CLOSE_UNAUTHENTICATED)
        return True

    async def send_error(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})
