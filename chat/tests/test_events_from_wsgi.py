"""Events published from a WSGI worker (config/wsgi.py, no event loop): a blocking PUBLISH per
user in one round trip (config/channel_layer.py), in order, to the sockets' channels."""

import json
import uuid

import pytest

from tests.servers import redis_answers, run_python

PUBLISH_THREE_TIMES = """
import json
import config.wsgi
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from chat import events

layer = get_channel_layer()


async def subscribe_publish_receive():
    channel = await layer.new_channel()
    await layer.group_add(events.user_group(7), channel)
    for n in range(3):
        # From a thread without an event loop, as in a WSGI worker.
        await sync_to_async(events.send_to_users, thread_sensitive=False)(
            [(7, {"type": "ping", "n": n}), (8, {"type": "ping", "n": -1})]
        )
    return [(await layer.receive(channel))["event"]["n"] for _ in range(3)]


received = async_to_sync(subscribe_publish_receive)()
print(json.dumps({"received": received, "layer": type(layer).__name__}))
"""


def test_a_wsgi_process_publishes_to_the_sockets_of_each_user():
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    result = run_python(
        PUBLISH_THREE_TIMES,
        REDIS_URL="redis://127.0.0.1:6379/0",
        CHANNEL_LAYER_PREFIX=f"events-wsgi-{uuid.uuid4().hex[:12]}",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "received": [0, 1, 2],  # user 7's events only, in order
        "layer": "PubSubChannelLayer",
    }
