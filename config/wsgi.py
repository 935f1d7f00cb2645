"""WSGI entry point (HTTP only): the REST API and pages on gunicorn's workers behind nginx in
`make serve` (the ASGI one in `asgi.py` serves the WebSockets)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# As in asgi.py: what is loaded now lives as long as the process, out of the collector's reach.
gc.collect()
gc.freeze()
