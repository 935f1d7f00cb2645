"""What users' sockets would receive: a channel of the real channel layer in each user's group."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.events import user_group


class Inbox:
    """The events published to a user's group since it was opened."""

    def __init__(self, user):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(user_group(user.pk), self.channel)

    def events(self) -> list[dict]:
        """Every event waiting, oldest first; empties the inbox."""

        async def drain():
            received = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), 0.05)
                except TimeoutError:
                    return received
                received.append(message["event"])

        return async_to_sync(drain)()

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]
