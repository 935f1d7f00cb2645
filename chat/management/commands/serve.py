"""`manage.py serve`: the production server (uvicorn, several worker processes, ASGI).

Checks the configuration first, because the mistakes it catches fail silently at run time:
with the in-memory channel layer, a message posted through one worker never reaches a socket
held by another.
"""

import os
import shutil
import sys

from django.conf import settings
from django.core.management import BaseCommand, CommandError

IN_MEMORY_LAYER = "channels.layers.InMemoryChannelLayer"


class Command(BaseCommand):
    help = "Run the production ASGI server (HTTP + WebSocket) with several worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Worker processes (default: one per core with REDIS_URL set, else 1).",
        )

    def handle(self, *args, host, port, workers, **options):
        in_memory = settings.CHANNEL_LAYERS["default"]["BACKEND"] == IN_MEMORY_LAYER
        if workers is None:
            workers = 1 if in_memory else (os.cpu_count() or 1)
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        if workers > 1 and in_memory:
            raise CommandError(
                f"Refusing to start {workers} workers on the in-memory channel layer: live "
                "events would only reach sockets of the worker that sent them. Set REDIS_URL "
                "(for example redis://127.0.0.1:6379/0) or run one worker (WORKERS=1)."
            )
        if settings.DEBUG:
            raise CommandError("DEBUG is on; the production server runs with DEBUG=False.")
        uvicorn = shutil.which("uvicorn", path=os.path.dirname(sys.executable)) or "uvicorn"
        command = [
            uvicorn,
            "config.asgi:application",
            f"--host={host}",
            f"--port={port}",
            f"--workers={workers}",
            "--no-access-log",
            "--proxy-headers",
        ]
        self.stdout.write(
            f"Serving on http://{host}:{port}/ with {workers} worker(s), "
            f"{'in-memory' if in_memory else 'Redis'} channel layer, "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} database."
        )
        self.stdout.flush()
        os.execv(command[0], command)  # noqa: S606 - replaces this process with the server
