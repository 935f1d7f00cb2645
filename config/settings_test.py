"""Test settings: the real settings with the few overrides tests need, all in one place."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

os.environ.setdefault("SECRET_KEY_DJANGO_SETTINGS", "test-only-secret-key-not-for-production")
# Web Push on, with a key of the tests' own (not a secret: it signs pushes to local stand-ins).
os.environ.setdefault("VAPID_PRIVATE_KEY", "JnuyQWD-TDW7z7JX32xdUnQsXvZws_aTEqKdM-7GDus")

from config.settings import *  # noqa: F403

# Hashing with the production hasher would dominate the run time of the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Nothing is collected for tests; WhiteNoise serves app static files through the finders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# Under pytest-xdist (`make test`), each worker process its own Redis database and channel names:
# the tests empty the cache between tests (FLUSHDB), and equal user ids in the workers' databases
# would otherwise share rate limits and live events.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1, ...
if REDIS_URL and XDIST_WORKER:  # noqa: F405
    url = urlsplit(REDIS_URL)  # noqa: F405
    database = int(url.path.strip("/") or 0) + int(XDIST_WORKER.removeprefix("gw"))
    REDIS_URL = url._replace(path=f"/{database}").geturl()
    CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"] |= {  # noqa: F405
        "hosts": [REDIS_URL],
        "prefix": f"{CHANNEL_LAYERS['default']['CONFIG']['prefix']}-{XDIST_WORKER}",  # noqa: F405
    }

# A connection pool would keep sessions open on the test database and stop its teardown.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405

# Attachments written by tests go to a folder of the process's own (removed when it exits), never
# to the project's media/; a server started by a test may be given one (MEDIA_ROOT).
if "MEDIA_ROOT" not in os.environ:
    MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="chat-test-media-"))
    atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
