"""Test settings: the real settings with the few overrides tests need, all in one place."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY_DJANGO_SETTINGS", "test-only-secret-key-not-for-production")
# Web Push on, with a key of the tests' own (not a secret: it signs pushes to local stand-ins).
os.environ.setdefault("VAPID_PRIVATE_KEY", "JnuyQWD-TDW7z7JX32xdUnQsXvZws_aTEqKdM-7GDus")

from config.settings import *  # noqa: F403

# Hashing with the production hasher would dominate the run time of the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Nothing is collected for tests; WhiteNoise serves app static files through the finders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True

# A connection pool would keep sessions open on the test database and stop its teardown.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405

# Attachments written by tests go to a folder of the process's own (removed when it exits), never
# to the project's media/; a server started by a test may be given one (MEDIA_ROOT).
if "MEDIA_ROOT" not in os.environ:
    MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="chat-test-media-"))
    atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
