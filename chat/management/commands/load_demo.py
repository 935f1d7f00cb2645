"""`manage.py load_demo`: load the demo users and threads once (the fixture `demo.json`)."""

from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command

DEMO_USERNAMES = ["admin", "alice", "bob", "carol", "dave"]


class Command(BaseCommand):
    help = "Load the demo data (chat/fixtures/demo.json) unless its users are already there."

    def handle(self, *args, **options):
        existing = get_user_model().objects.filter(username__in=DEMO_USERNAMES).count()
        if existing:
            self.stdout.write("Demo data already loaded; leaving the database as it is.")
            return
        call_command("loaddata", "demo", verbosity=options["verbosity"])
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data loaded: alice, bob, carol, dave (password chat-demo-pass) and the "
                "superuser admin (password admin-demo-pass). For local use only."
            )
        )
