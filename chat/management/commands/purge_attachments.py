"""`manage.py purge_attachments`: remove uploads never sent, and stored files nothing names."""

import logging
import time
from datetime import timedelta

from django import db
from django.core.management import BaseCommand

from chat import services

logger = logging.getLogger(__name__)

UNSENT_KEPT = timedelta(hours=24)
# Files younger than this are left alone by the orphan check: their upload may still be writing
# its row.
ORPHAN_GRACE = timedelta(hours=1)


class Command(BaseCommand):
    help = (
        "Delete uploads not sent within 24 hours, and stored files that no attachment names "
        "(left by a crash between a commit and deleting its files). `make serve` runs it hourly."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=int,
            metavar="SECONDS",
            help="Keep running, purging every SECONDS (as `make serve` runs it).",
        )

    def handle(self, *args, every=None, **options):
        if not every:
            self.purge()
            return
        while True:
            try:
                self.purge()
            except Exception:
                # Kept running: a database or storage that fails now (a lock, a network blip)
                # is tried again at the next run, and the service it runs beside stays up.
                logger.exception("Purging attachments failed; trying again in %s s.", every)
            finally:
                db.close_old_connections()
            time.sleep(every)

    def purge(self) -> None:
        unsent = services.attachments_purge_unsent(older_than=UNSENT_KEPT)
        orphans = services.attachments_purge_orphans(older_than=ORPHAN_GRACE)
        self.stdout.write(
            f"Purged {unsent} upload(s) never sent and {orphans} stored file(s) "
            "that no attachment names."
        )
        self.stdout.flush()
