"""Settings for the chat service, read from the environment (python-dotenv loads `.env`).

Production differs from local development by environment variables only; `.env.example`
documents each one. Variables already set in the process environment win over `.env`.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders import defaults as corsheaders_defaults
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)


def env_str(name: str, default: str = "") -> str:
    """The variable's value; unset and empty alike mean `default` (as `.env.example` leaves
    what it does not set empty)."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    return int(env_str(name, str(default)))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = env_str("SECRET_KEY_DJANGO_SETTINGS")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY_DJANGO_SETTINGS is not set and DEBUG is off. Set it in .env "
            "(`make run` writes one for you) or in the environment; generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Only for DEBUG sessions without a .env: never used with DEBUG off.
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and WebSocket on one port.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    # Swagger UI as static files of our own: /api/docs/ loads nothing from a CDN.
    "drf_spectacular_sidecar",
    "accounts",
    "chat",
    "notifications",
    "web",
]

MIDDLEWARE = [
    # First, so that it times the whole chain and logs the status the client gets (one line per
    # request, with the request id nginx passes on; config/metrics.py).
    "config.metrics.RequestLogMiddleware",
    # Next, so that its headers are on every response, the JSON error pages included.
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.JsonApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
# A missing trailing slash is a plain 404: redirecting would drop a POST body (and with DEBUG on,
# Django raises instead of redirecting a POST).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# SQLite by default. WAL lets readers run beside the writer; IMMEDIATE transactions take the
# write lock at BEGIN, so concurrent writers queue on the busy timeout instead of failing with
# "database is locked" when a read transaction tries to upgrade to a write.
# Connections persist (CONN_MAX_AGE): opening one costs more than a typical request's queries
# (connect, pragmas, function registration, schema parse and a cold page cache). mmap lets every
# connection of every worker read pages straight from the OS page cache (bench/RESULTS.md).
# DATABASE_URL (for example postgres://postgres@127.0.0.1:5432/chat) switches to PostgreSQL,
# with a connection pool per worker process.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 8}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-32000; "
                    "PRAGMA temp_store=MEMORY;"
                ),
            },
        }
    }

# REDIS_URL (for example redis://127.0.0.1:6379/0) switches the channel layer to Redis, which
# every worker process shares; without it, events reach only sockets of the same process.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's pub/sub layer, which publishes in one round trip from any
            # process (config/channel_layer.py says why).
            "BACKEND": "config.channel_layer.PubSubChannelLayer",
            # A prefix of its own lets several deployments (or test runs) share one Redis.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNEL_LAYER_PREFIX", "chat")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the files that WhiteNoise (one process) or nginx (`make serve` with
# REDIS_URL) serve.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Attachments (chat/attachments.py) are stored through Django's storage API: a private folder,
# served only through the access check or a signed link, never as static or media files; or an
# S3-compatible bucket (django-storages) when AWS_STORAGE_BUCKET_NAME is set.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
if MEDIA_ROOT.is_relative_to(STATIC_ROOT.resolve()) or STATIC_ROOT.resolve().is_relative_to(
    MEDIA_ROOT
):
    raise ImproperlyConfigured(
        "MEDIA_ROOT holds private attachments: keep it apart from STATIC_ROOT, which is public."
    )
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    ATTACHMENT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty: Amazon S3 itself; otherwise any S3-compatible server (MinIO, Ceph, R2, ...).
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            # Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment (or
            # the machine's role), read by boto3 itself.
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
else:
    ATTACHMENT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No location of its own: MEDIA_ROOT, read when first used (tests change it).
    }
STORAGES = {
    "default": ATTACHMENT_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The largest file accepted (bytes; a file of exactly this size is), how much one user may keep
# stored in all, and how long a signed link to a file works (seconds).
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_QUOTA_BYTES = env_int("ATTACHMENT_QUOTA_BYTES", 1024 * 1024 * 1024)
ATTACHMENT_URL_TTL = env_int("ATTACHMENT_URL_TTL", 3600)
# Images larger than this many pixels (a frame; 4 times as many over all frames of an animation)
# are refused before they are decoded: a small file can unpack into gigabytes (a decompression
# bomb). 40 million: a 40 MP photo, about 160 MB decoded.
ATTACHMENT_MAX_PIXELS = env_int("ATTACHMENT_MAX_PIXELS", 40_000_000)
if min(ATTACHMENT_MAX_BYTES, ATTACHMENT_QUOTA_BYTES, ATTACHMENT_URL_TTL) < 1:
    raise ImproperlyConfigured(
        "ATTACHMENT_MAX_BYTES, ATTACHMENT_QUOTA_BYTES and ATTACHMENT_URL_TTL are 1 or more."
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.JWTAuthentication",  # Simple JWT's, with a cheaper user query
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.StrictLimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login": env_str("THROTTLE_LOGIN", "20/min"),
        "register": env_str("THROTTLE_REGISTER", "20/hour"),
        "refresh": env_str("THROTTLE_REFRESH", "60/min"),
        "send": env_str("THROTTLE_SEND", "120/min"),
        "upload": env_str("THROTTLE_UPLOAD", "30/min"),
    },
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    # Per-IP limits count by REMOTE_ADDR unless this many proxies in front of the service append
    # to X-Forwarded-For; trusting the header by default would let a client pick its own "IP".
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

# Seconds after sending during which the sender may edit a message or delete it for everyone;
# 0 means no limit (never "never": a sender can always at least hide a message for themselves).
MESSAGE_EDIT_WINDOW = env_int("MESSAGE_EDIT_WINDOW", 2 * 24 * 3600)
if MESSAGE_EDIT_WINDOW < 0:
    raise ImproperlyConfigured("MESSAGE_EDIT_WINDOW is in seconds, 0 or more (0: no limit).")

# Presence (chat/presence.py). A user stays online for PRESENCE_GRACE seconds after their last
# socket closes, so a reload or a brief network drop announces nothing. Each worker process
# refreshes its sockets' rows every PRESENCE_REFRESH seconds; a row not refreshed for
# PRESENCE_TTL seconds (its worker died) expires, and another worker announces its user offline.
PRESENCE_GRACE = env_int("PRESENCE_GRACE", 30)
PRESENCE_REFRESH = env_int("PRESENCE_REFRESH", 15)
PRESENCE_TTL = env_int("PRESENCE_TTL", 3 * PRESENCE_REFRESH)
if PRESENCE_GRACE < 0 or PRESENCE_REFRESH < 1:
    raise ImproperlyConfigured("PRESENCE_GRACE is 0 or more seconds, PRESENCE_REFRESH 1 or more.")
if PRESENCE_TTL <= PRESENCE_REFRESH:
    # A row must outlive the refresh that keeps it, with room for a late one.
    raise ImproperlyConfigured(
        "PRESENCE_TTL must be longer than PRESENCE_REFRESH (a few refresh periods)."
    )

# Notifications for people who are not looking (notifications/). A message is pushed
# NOTIFY_DELAY seconds after it was sent unless by then it was read, deleted or seen.
NOTIFY_DELAY = float(env_str("NOTIFY_DELAY", "10"))
if NOTIFY_DELAY < 0:
    raise ImproperlyConfigured("NOTIFY_DELAY is in seconds, 0 or more.")
# Web Push's VAPID key pair (RFC 8292): the private key, base64url of the 32 bytes of a P-256
# private key (`make run` writes one into .env), and a contact for the push services, a mailto:
# or https: URL. Empty key: push is off (GET /api/push/key/ answers 503).
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "mailto:admin@localhost")
# Push subscriptions and deliveries go only to https URLs on public addresses, so that a user
# cannot make the server send requests into its own network. On for development and tests only.
PUSH_ALLOW_PRIVATE_ENDPOINTS = env_bool("PUSH_ALLOW_PRIVATE_ENDPOINTS")
# Seconds to wait for a push service or a webhook receiver to answer.
PUSH_TIMEOUT = float(env_str("PUSH_TIMEOUT", "10"))
WEBHOOK_TIMEOUT = float(env_str("WEBHOOK_TIMEOUT", "10"))
# A webhook endpoint that has failed every delivery for this many seconds is turned off (the
# admin says so; turning it on sends what waited). Finished deliveries stay in the admin's log
# for WEBHOOK_LOG_DAYS days.
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 24 * 3600)
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 7)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Chat service API",
    "DESCRIPTION": "One-to-one threads and messages over REST, with live events over WebSocket.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # A PATCH body has the fields its endpoint requires (an edit needs its text), not an
    # all-optional copy.
    "COMPONENT_SPLIT_PATCH": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    # The docs page loads only this service's own static files, so it works offline and tells no
    # third party who reads it: Swagger UI comes from drf-spectacular-sidecar, and its validator
    # badge (an image from validator.swagger.io naming the schema URL; the layout used here does
    # not show it) stays off whatever the layout. ReDoc is not served: its sidebar always loads
    # a logo from redoc.ly.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# The cache holds the rate-limit counters: Redis when `REDIS_URL` is set, so that a limit holds
# across worker processes; otherwise each process counts in its own memory.
if REDIS_URL:
    CACHES = {
        # Django's, keeping its Redis clients (config/cache.py says why).
        "default": {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# HTTPS hardening, driven by the environment so that `make run` keeps serving plain HTTP on
# 127.0.0.1. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=true (it then trusts
# X-Forwarded-Proto: https) and turn the others on; `manage.py check --deploy` is then clean.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD")
if env_bool("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Front ends served from other origins (a web app elsewhere, a mobile app's web view): allowed on
# the REST API, preflight answered, and by the WebSocket's origin check (config/asgi.py). Default
# none. Credentials are bearer tokens in a header, never cookies, so none are allowed.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOW_HEADERS = (*corsheaders_defaults.default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID"]

# Who may read /metrics (config/metrics.py): addresses or networks, comma-separated. Default none:
# a 403 for every client, and nginx refuses it on the public port with the same list.
try:
    METRICS_ALLOWED = tuple(
        ipaddress.ip_network(item, strict=False) for item in env_list("METRICS_ALLOWED")
    )
except ValueError as error:
    raise ImproperlyConfigured(
        f"METRICS_ALLOWED takes addresses or networks (10.0.0.0/8, ::1): {error}"
    ) from None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
