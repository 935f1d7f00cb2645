"""`manage.py notify`: the notification worker (`make run` and `make serve` start it).

Each round it turns due messages of the outbox into pushes (notifications/outbox.py), then sends
due pushes and webhook deliveries (notifications/delivery.py), and once an hour prunes the
webhooks' delivery log. While there is work it goes straight on; with none it waits `--poll`
seconds. SIGTERM or Ctrl-C ends it after the round in progress: nothing is half-sent, and what a
killed worker had claimed is sent again when its lease runs out.
"""

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django import db
from django.core.management import BaseCommand

from notifications import delivery, outbox, push

logger = logging.getLogger(__name__)

PRUNE_EVERY = 3600  # seconds


class Command(BaseCommand):
    help = "Deliver push notifications and webhooks from the outbox until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--poll",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="How long to wait when there is nothing to do (default 1).",
        )

    def handle(self, *args, poll, **options):
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if not push.configured():
            logger.warning(
                "VAPID_PRIVATE_KEY is not set: no push notifications (webhooks still go). "
                "`make run` writes one into .env."
            )
        self.stdout.write(f"Notification worker started; waiting {poll} s when idle.")
        self.stdout.flush()
        pruned_at = 0.0
        # Each round's requests at once: push services and receivers answer in tens to hundreds
        # of milliseconds, and the worker waits on them, not on the CPU.
        with ThreadPoolExecutor(delivery.BATCH, thread_name_prefix="notify") as pool:
            while not stop.is_set():
                try:
                    busy = self.round(pool)
                    if time.monotonic() - pruned_at > PRUNE_EVERY:
                        delivery.prune_webhook_log()
                        pruned_at = time.monotonic()
                except Exception:
                    # Kept running: a database that is away for a moment is tried again, and
                    # whatever was claimed falls due again when its lease runs out.
                    logger.exception("Notification round failed; trying again in %s s.", poll)
                    busy = False
                finally:
                    db.close_old_connections()
                if not busy:
                    stop.wait(poll)
        self.stdout.write("Notification worker stopped.")

    def round(self, pool) -> bool:
        """One round; whether there was anything to do."""
        checked = outbox.take_due() if push.configured() else 0
        pushed = delivery.send_pushes(pool) if push.configured() else 0
        called = delivery.send_webhooks(pool)
        if checked or pushed or called:
            logger.info(
                "%s conversation(s) checked for notifications, %s push(es) and %s webhook "
                "call(s) attempted.",
                checked,
                pushed,
                called,
            )
        return bool(checked or pushed or called)
