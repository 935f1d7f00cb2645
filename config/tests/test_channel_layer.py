"""config.channel_layer: an event reaches the sockets of each user it is for, published from a
thread without an event loop; and a worker whose connection to Redis drops subscribes again.

Each test runs its own Redis server (the system's `redis-server`), so that cutting connections
cannot touch anything else using the shared one."""

import asyncio
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from config.channel_layer import PubSubChannelLayer


@pytest.fixture
def private_redis(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    path = tmp_path / "redis.sock"
    process = subprocess.Popen(  # noqa: S603 - the system's Redis, for this test alone
        [server, "--port", "0", "--unixsocket", str(path), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.02)
    yield path
    process.terminate()
    process.wait(timeout=10)


def command(path, *words: str) -> bytes:
    request = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(str(path))
        conn.sendall(request.encode())
        return conn.recv(4096)


async def test_events_reach_the_subscribed_users_only_and_in_order(private_redis):
    layer = PubSubChannelLayer(hosts=[f"unix://{private_redis}"], prefix=uuid.uuid4().hex)
    seven, eight = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("user.7", seven)
    await layer.group_add("user.8", eight)
    messages = [("user.7", {"type": "e", "n": n}) for n in range(3)] + [("user.8", {"type": "e"})]
    await asyncio.to_thread(layer.group_send_blocking, messages)
    assert [(await layer.receive(seven))["n"] for _ in range(3)] == [0, 1, 2]
    assert await layer.receive(eight) == {"type": "e"}
    with pytest.raises(TimeoutError):  # user 8's event went to user 8 alone
        await asyncio.wait_for(layer.receive(seven), 0.3)
    await layer.flush()


async def test_a_worker_subscribes_again_after_its_connection_drops(private_redis):
    layer = PubSubChannelLayer(hosts=[f"unix://{private_redis}"], prefix=uuid.uuid4().hex)
    channel = await layer.new_channel()
    await layer.group_add("user.7", channel)
    assert b":1\r\n" in command(private_redis, "CLIENT", "KILL", "TYPE", "pubsub")
    # Events published before the worker is back are lost (its clients catch up through REST
    # when they reconnect); once it has subscribed again, they arrive.
    deadline = time.monotonic() + 10
    while True:
        await asyncio.to_thread(layer.group_send_blocking, [("user.7", {"type": "e"})])
        try:
            assert await asyncio.wait_for(layer.receive(channel), 0.5) == {"type": "e"}
            break
        except TimeoutError:
            assert time.monotonic() < deadline, "the worker did not subscribe again"
    await layer.flush()
