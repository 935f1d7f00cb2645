"""What notifications cost: the worker's throughput, and what they add to a send.

    .venv/bin/python bench/notify.py [--messages 2000] [--output bench/NOTIFY.md]
    make bench-notify              # the same; about a minute, not part of `make test`

1. The worker: `manage.py notify`, the real command, on a fresh SQLite file where `--messages`
   people each have one browser subscribed and have been sent one message, in as many threads,
   all due at once. The push service is a local sink on 127.0.0.1 that reads each
   request and answers 201 without decrypting it (the tests' stand-in decrypts; here only the
   worker's own cost should count). Measured: notifications per second from the worker's start
   to the last push taken, and the worker's CPU per push (encryption, VAPID signature, HTTP,
   the database).
2. A send, in process (`chat.services.message_send` on the same file, no HTTP): microseconds per
   message with no browser subscribed and no webhook (what every send pays: two statements),
   with the recipient's browser subscribed (the outbox row), and with one webhook endpoint as
   well (the event serialised and its delivery row, in the transaction).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import TEST_VAPID_PRIVATE_KEY, manage, server_env

# A browser's keys (any point on the curve will do: the sink does not decrypt).
P256DH = "BD7Xoo7GSO3OXVt-JS9rKq-7RINRFKJLPKqPcQ9kmTvCVxGjTNySKQgLY58Jl3_rfKkezOFkm_6orYXHKyBq3n4"
AUTH = "MDEyMzQ1Njc4OWFiY2RlZg"


class Sink:
    """A push service that takes everything: 201, nothing decrypted."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as push services do

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with sink.lock:
                    sink.count += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setup_django(database: Path) -> None:
    os.environ.update(
        server_env(SQLITE_PATH=str(database), PUSH_ALLOW_PRIVATE_ENDPOINTS="1", NOTIFY_DELAY="0")
    )
    import django

    django.setup()


def seed(sink: Sink, messages: int):
    """`messages` people with a browser each at the sink, and one message to each, in a thread
    of its own (so that none coalesce: each is one notification)."""
    from django.contrib.auth import get_user_model

    from chat import services
    from chat.tests.factories import make_thread
    from notifications.models import PushSubscription

    users = get_user_model().objects
    sender = users.create_user(username="sender")  # no password: none is hashed
    recipients = users.bulk_create(
        get_user_model()(username=f"recipient{n}", password="!")  # noqa: S106 - unusable
        for n in range(messages)
    )
    PushSubscription.objects.bulk_create(
        PushSubscription(user=recipient, endpoint=f"{sink.url}/push/{n}", p256dh=P256DH, auth=AUTH)
        for n, recipient in enumerate(recipients)
    )
    threads = [make_thread(sender, recipient) for recipient in recipients]
    for thread in threads:
        services.message_send(thread=thread, sender=sender, text="Lunch at one?")
    return sender, threads


def measure_worker(database: Path, sink: Sink, expected: int) -> dict:
    env = server_env(
        SQLITE_PATH=str(database),
        PUSH_ALLOW_PRIVATE_ENDPOINTS="1",
        NOTIFY_DELAY="0",
        VAPID_PRIVATE_KEY=TEST_VAPID_PRIVATE_KEY,
    )
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "notify", "--poll=0.05"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while sink.count < expected and time.monotonic() - started < 300:
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    return {"pushes": sink.count, "seconds": elapsed, "cpu": cpu}


def measure_sends(threads, sender, repeats: int) -> dict:
    from django.db import connection

    from chat import services
    from notifications.models import PushSubscription, WebhookEndpoint

    thread = threads[0]
    recipient = thread.user_high if thread.user_low_id == sender.pk else thread.user_low

    def timed() -> float:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            services.message_send(thread=thread, sender=sender, text="how much does this cost?")
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1e6

    kept = list(PushSubscription.objects.filter(user=recipient).values())
    PushSubscription.objects.filter(user=recipient).delete()
    results = {"no browser, no webhook": timed()}
    PushSubscription.objects.bulk_create(PushSubscription(**row) for row in kept)
    results["the recipient's browser subscribed"] = timed()
    WebhookEndpoint.objects.create(url="https://hooks.example.com/")
    results["and one webhook endpoint"] = timed()
    results["_database"] = connection.vendor
    return results


def report(worker: dict, sends: dict, messages: int) -> str:
    rate = worker["pushes"] / worker["seconds"]
    lines = [
        "# Notifications: the worker's throughput and the cost of a send",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `bench/notify.py` "
        f"on this machine ({os.cpu_count()} cores, load {Path('/proc/loadavg').read_text()[:14]}),"
        f" {sends.pop('_database')} file.",
        "",
        "## The worker (`manage.py notify`, one process)",
        "",
        f"{messages:,} messages to as many people, one browser each, all due at once, pushed "
        "to a local sink that answers 201 without decrypting:",
        "",
        "| pushes | seconds (start to last push) | pushes/s | worker CPU per push |",
        "|---:|---:|---:|---:|",
        f"| {worker['pushes']:,} | {worker['seconds']:.1f} | {rate:,.0f} | "
        f"{worker['cpu'] / max(worker['pushes'], 1) * 1000:.2f} ms |",
        "",
        "## A send, in process (median of repeated `message_send`)",
        "",
        "| case | µs per send |",
        "|---|---:|",
        *(f"| {case} | {micros:,.0f} |" for case, micros in sends.items()),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    database = Path(tempfile.mkdtemp(prefix="bench-notify-")) / "db.sqlite3"
    env = server_env(SQLITE_PATH=str(database))
    print("migrating a fresh database ...", flush=True)
    manage("migrate", "--noinput", env=env)
    setup_django(database)
    sink = Sink()
    print(f"seeding {args.messages:,} messages to as many subscribed people ...", flush=True)
    sender, threads = seed(sink, args.messages)
    print("running the worker until the sink has every push ...", flush=True)
    worker = measure_worker(database, sink, expected=args.messages)
    print("timing sends in process ...", flush=True)
    sends = measure_sends(threads, sender, args.repeats)
    text = report(worker, sends, args.messages)
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
