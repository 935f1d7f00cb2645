"""`manage.py develop [ADDRPORT]`: `make run`'s development server, with the notification worker
beside it, under the supervisor of `make serve` (config/supervisor.py): Ctrl-C stops both, and a
worker that dies is restarted and named."""

import os
import sys

from django.core.management import BaseCommand

from config.supervisor import Program, Supervisor


class Command(BaseCommand):
    help = "runserver (HTTP and WebSocket, reloading on changes) and manage.py notify, together."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        # Lines as they are written, not when a pipe's buffer fills.
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        manage = [sys.executable, "manage.py"]
        programs = [
            Program("web", [*manage, "runserver", addrport], env=env),
            Program("notify", [*manage, "notify"], env=env),
        ]
        sys.exit(Supervisor(programs, name="run").run())
