"""WebSocket fan-out: latency from POST to the event on the other participant's socket, and
how many idle sockets one worker holds, with its memory per socket.

    .venv/bin/python bench/ws_fanout.py [--pairs 20] [--messages 30] [--idle 2000]

Starts its own production-like servers (uvicorn, DEBUG off) on a throwaway SQLite database:
one with 2 workers and the Redis channel layer when Redis answers on 127.0.0.1:6379 (else one
worker, in-memory layer) for the latency run, and one single-worker server for the idle-socket
count. Prints a Markdown section, and with `--output` writes it to a file (`make bench-ws` writes
bench/WEBSOCKET.md, which `make bench` includes in bench/RESULTS.md).
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from websockets.asyncio.client import connect as ws_connect

from tests.servers import Server, descendants, manage, redis_answers, server_env
from tests.stats import percentile

PASSWORD = "bench-ws-pass-42"


def rss_kib(pid: int) -> int:
    total = 0
    for child in [pid, *descendants(pid)]:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def make_users(server: Server, count: int, prefix: str) -> list[tuple[int, str]]:
    users = []
    for n in range(count):
        name = f"{prefix}_{n}"
        status, body = server.call(
            "POST", "/api/auth/register/", {"username": name, "password": PASSWORD}
        )
        assert status == 201, body
        users.append((body["id"], server.login(name, PASSWORD)))
        if n % 20 == 19:
            print(f"  users: {n + 1}/{count}", file=sys.stderr)
    return users


async def latency_run(server: Server, pairs: int, messages: int) -> list[float]:
    users = make_users(server, 2 * pairs, f"ws_{pairs}_pairs")
    threads = []
    for i in range(pairs):
        (_, sender_token), (receiver_id, receiver_token) = users[2 * i], users[2 * i + 1]
        status, thread = server.call(
            "POST", "/api/threads/", {"participants": [receiver_id]}, token=sender_token
        )
        assert status == 201, thread
        threads.append((thread["id"], sender_token, receiver_token))

    latencies: list[float] = []

    async def pair(thread_id: int, sender_token: str, receiver_token: str) -> None:
        url = f"ws://127.0.0.1:{server.port}/ws/chat/?token={receiver_token}"
        async with ws_connect(url, origin=f"http://127.0.0.1:{server.port}") as ws:
            for n in range(messages):
                started = time.perf_counter()
                status, body = await asyncio.to_thread(
                    server.call,
                    "POST",
                    f"/api/threads/{thread_id}/messages/",
                    {"text": f"m{n}"},
                    sender_token,
                )
                assert status == 201, body
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    if frame["type"] == "message.created" and frame["message"]["id"] == body["id"]:
                        break
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(pair(*t) for t in threads))
    return latencies


async def idle_run(server: Server, count: int) -> tuple[int, float]:
    ((_, token),) = make_users(server, 1, "ws_idle")
    url = f"ws://127.0.0.1:{server.port}/ws/chat/?token={token}"
    before = rss_kib(server.process.pid)
    sockets = []
    for n in range(count):
        sockets.append(await ws_connect(url, origin=f"http://127.0.0.1:{server.port}"))
        if n % 500 == 499:
            print(f"  idle sockets: {n + 1}/{count}", file=sys.stderr)
    await sockets[0].send(json.dumps({"type": "ping"}))
    assert json.loads(await sockets[0].recv()) == {"type": "pong"}
    after = rss_kib(server.process.pid)
    for ws in sockets:
        await ws.close()
    return len(sockets), (after - before) / len(sockets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--output", type=Path, help="also write the section to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        redis = redis_answers()
        env = server_env(SQLITE_PATH=os.path.join(tmp, "ws.sqlite3"))
        if redis:
            env.update(
                REDIS_URL="redis://127.0.0.1:6379/2", CHANNEL_LAYER_PREFIX=f"bench-{os.getpid()}"
            )
        manage("migrate", "--noinput", env=env)
        workers = 2 if redis else 1
        print(f"Latency: 1 pair, then {args.pairs} pairs; {workers} worker(s)", file=sys.stderr)
        server = Server(env, workers=workers)
        try:
            alone = asyncio.run(latency_run(server, 1, max(args.messages, 100)))
            loaded = asyncio.run(latency_run(server, args.pairs, args.messages))
        finally:
            server.stop()

        idle_env = server_env(SQLITE_PATH=os.path.join(tmp, "ws.sqlite3"))
        print(f"Idle run: {args.idle} sockets on one worker", file=sys.stderr)
        server = Server(idle_env, workers=1)
        try:
            held, kib_per_socket = asyncio.run(idle_run(server, args.idle))
        finally:
            server.stop()

    layer = "Redis" if redis else "in-memory"
    command = (
        f".venv/bin/python bench/ws_fanout.py --pairs {args.pairs} "
        f"--messages {args.messages} --idle {args.idle}"
    )
    section = (
        "## WebSocket fan-out\n\n"
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; uvicorn, "
        f"{workers} worker(s), {layer} channel layer, SQLite; the clients (HTTP senders and "
        f"WebSocket receivers) run in one Python process on the same cores. Command: "
        f"`{command}` (`make bench-ws`).\n\n"
        "| measure | value |\n|---|---|\n"
        f"| POST → `message.created` on the other participant's socket, one pair alone "
        f"({len(alone)} messages) | {latency_summary(alone)} |\n"
        f"| the same with {args.pairs} pairs sending at once ({len(loaded)} messages) "
        f"| {latency_summary(loaded)} |\n"
        f"| idle authenticated sockets held by one worker (all answered a ping) | {held} |\n"
        f"| worker memory per idle socket | {kib_per_socket:.1f} KiB |\n"
    )
    print(section)
    if args.output:
        args.output.write_text(section)


def latency_summary(seconds: list[float]) -> str:
    ms = [1000 * x for x in seconds]
    return (
        f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms"
    )


if __name__ == "__main__":
    main()
