"""WSGI entry point (HTTP only): the REST API and pages on gunicorn's workers behind nginx in
`make serve` (the ASGI one in `asgi.py` serves the WebSockets)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from chat.events import publish_from_lasting_loop  # noqa: E402

# A WSGI worker has no event loop: events go out through one lasting loop per process.
publish_from_lasting_loop()

# As in asgi.py: what is loaded now lives as long as the process, out of the collector's reach.
gc.collect()
gc.freeze()
