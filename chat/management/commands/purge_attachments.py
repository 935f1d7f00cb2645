"""`manage.py purge_attachments`: remove uploads never sent, and stored files nothing names."""

import time
from datetime import timedelta

from django.core.management import BaseCommand

from chat import services

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
        while True:
            unsent = services.attachments_purge_unsent(older_than=UNSENT_KEPT)
            orphans = services.attachments_purge_orphans(older_than=ORPHAN_GRACE)
            self.stdout.write(
                f"Purged {unsent} upload(s) never sent and {orphans} stored file(s) "
                "that no attachment names."
            )
            if not every:
                return
            time.sleep(every)
