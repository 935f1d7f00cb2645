"""Events published from a WSGI worker (config/wsgi.py): through one lasting event loop per
process, so its Redis connections last too, and the events reach a socket's channel."""

import json
import uuid

import pytest

from tests.servers import redis_answers, run_python

PUBLISH_THREE_TIMES = """
import json, os, threading
import config.wsgi
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from chat import events

layer = get_channel_layer()
channel = async_to_sync(layer.new_channel)()
async_to_sync(layer.group_add)(events.user_group(7), channel)
loops = set()
for n in range(3):
    events.send_to_users([(7, {"type": "ping", "n": n})])
    loops.add(id(events._LastingLoop.loop))


async def receive_three():
    return [(await layer.receive(channel))["event"]["n"] for _ in range(3)]


received = async_to_sync(receive_three)()
publishers = [t for t in threading.enumerate() if t.name == "channel-layer-publisher"]
print(json.dumps({"received": received, "loops": len(loops), "threads": len(publishers)}))
"""


def test_a_wsgi_process_publishes_on_one_lasting_loop():
    if not redis_answers():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    result = run_python(
        PUBLISH_THREE_TIMES,
        REDIS_URL="redis://127.0.0.1:6379/0",
        CHANNEL_LAYER_PREFIX=f"events-wsgi-{uuid.uuid4().hex[:12]}",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "received": [0, 1, 2],
        "loops": 1,
        "threads": 1,
    }
