"""The channel layer with Redis: channels_redis's pub/sub layer, plus a blocking send for code
that has no event loop (WSGI workers, management commands, the threads of `sync_to_async`).

Why pub/sub rather than channels_redis's default layer: a live event is for the sockets open now
(a client that was away catches up through REST), so the default layer's queues in Redis buy
nothing, and its `group_send` costs two to four round trips per user (expire, look up the
group's channels, then a script to queue for each). Here a group is a Redis channel that the
worker holding a socket of that user subscribes to, and publishing an event is one PUBLISH.

Why a blocking send: an asyncio publish from a WSGI worker needs an event loop, either a new one
per call (a new Redis connection each time) or one on a thread of its own, and handing the
coroutine to it and back cost more than the PUBLISH itself (bench/TOPOLOGY.md: 1.05 ms of CPU
for a message's two users through the default layer on a lasting loop, 0.19 ms here).
"""

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.core.exceptions import ImproperlyConfigured

# How long a publish may wait for Redis before the event is given up (and logged): a request
# must not hang on a Redis that stopped answering.
SEND_TIMEOUT_SECONDS = 5


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, hosts, prefix: str = "asgi", **kwargs):
        if len(hosts) != 1 or not isinstance(hosts[0], str):
            raise ImproperlyConfigured("PubSubChannelLayer takes one Redis URL in `hosts`.")
        super().__init__(hosts=hosts, prefix=prefix, **kwargs)
        self.group_prefix = f"{prefix}__group__"  # how channels_redis names a group's channel
        # Thread-safe, and reconnects after a fork (redis-py checks the process id).
        self.client = redis.Redis.from_url(
            hosts[0],
            socket_timeout=SEND_TIMEOUT_SECONDS,
            socket_connect_timeout=SEND_TIMEOUT_SECONDS,
        )

    def group_send_blocking(self, messages: list[tuple[str, dict]]) -> None:
        """Send each (group, message), all in one round trip; raises redis's errors."""
        pipeline = self.client.pipeline(transaction=False)
        for group, message in messages:
            pipeline.publish(self.group_prefix + group, self.serialize(message))
        pipeline.execute()
