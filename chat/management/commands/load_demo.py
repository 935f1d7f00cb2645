"""`manage.py load_demo`: load the demo users and threads once (the fixture `demo.json`), and
the files its attachments name (`chat/fixtures/demo-files/`) into the attachments' storage."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import BaseCommand, call_command

from chat.models import Attachment

DEMO_FILES = Path(__file__).resolve().parents[2] / "fixtures" / "demo-files"

DEMO_USERNAMES = ["admin", "alice", "bob", "carol", "dave"]


class Command(BaseCommand):
    help = "Load the demo data (chat/fixtures/demo.json) unless its users are already there."

    def handle(self, *args, **options):
        existing = get_user_model().objects.filter(username__in=DEMO_USERNAMES).count()
        if existing:
            self.stdout.write("Demo data already loaded; leaving the database as it is.")
            return
        call_command("loaddata", "demo", verbosity=options["verbosity"])
        for attachment in Attachment.objects.all():
            for name in attachment.stored_names:
                if not default_storage.exists(name):
                    with (DEMO_FILES / name).open("rb") as demo_file:
                        default_storage.save(name, File(demo_file))
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data loaded: alice, bob, carol, dave (password chat-demo-pass) and the "
                "superuser admin (password admin-demo-pass). For local use only."
            )
        )
