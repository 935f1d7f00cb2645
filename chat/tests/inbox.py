"""What users' sockets would receive: a subscriber to each user's group in the real layer."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.events import user_group
from config.channel_layer import PubSubChannelLayer


class Inbox:
    """The events published to a user's group since it was opened."""

    def __init__(self, user):
        self.layer = get_channel_layer()
        group = user_group(user.pk)
        if isinstance(self.layer, PubSubChannelLayer):
            # Redis: the group's channel, subscribed to as a worker would, with the blocking
            # client (the layer's own subscriptions belong to an event loop, and the test has
            # none that lasts).
            self.subscription = self.layer.client.pubsub()
            self.subscription.subscribe(self.layer.group_prefix + group)
            self.subscription.get_message(timeout=5)  # subscribed: nothing published is missed
        else:
            self.subscription = None
            self.channel = async_to_sync(self.layer.new_channel)()
            async_to_sync(self.layer.group_add)(group, self.channel)

    def events(self) -> list[dict]:
        """Every event waiting, oldest first; empties the inbox."""
        if self.subscription is not None:
            received = []
            while (message := self.subscription.get_message(timeout=0.05)) is not None:
                received.append(self.layer.deserialize(message["data"])["event"])
            return received

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
