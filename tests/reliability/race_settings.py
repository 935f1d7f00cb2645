"""Settings for the race and crash runs (`race.py`, the kill test): the test settings on a real
database file, or on PostgreSQL when `RACE_DB=postgres` (`RACE_PG_NAME` names the database)."""

import os

from config.settings_test import *  # noqa: F403

if os.environ.get("RACE_DB") == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("RACE_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("RACE_PG_PORT", "5432"),
            "USER": os.environ.get("RACE_PG_USER", "postgres"),
            "NAME": os.environ["RACE_PG_NAME"],
        }
    }
