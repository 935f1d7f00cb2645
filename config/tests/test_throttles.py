"""config.throttles: 429 with `Retry-After` for login, registration, refresh (per client address)
and sending (per user); the counters live in the cache, which is Redis (shared by every worker
process) when configured."""

import os

import pytest
import redis
from rest_framework_simplejwt.tokens import RefreshToken

from chat.models import Message
from chat.tests.factories import TEST_PASSWORD
from tests.servers import run_python

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def rates(settings):
    """`rates(login="2/min", ...)`: set throttle rates for this test."""

    def set_rates(**changed):
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **changed},
        }

    return set_rates


def assert_throttled(response):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0
    assert set(response.json()) == {"detail"}


def login(client, password=None, **extra):
    return client.post(
        "/api/auth/token/",
        {"username": "alice", "password": password or "wrong-password"},
        format="json",
        **extra,
    )


def test_login_is_limited_per_client_address(anon_client, alice, rates):
    rates(login="3/min")
    assert [login(anon_client).status_code for _ in range(3)] == [401, 401, 401]
    assert_throttled(login(anon_client))
    # Even the right password waits: guessing cannot continue by getting one right.
    assert_throttled(login(anon_client, password=TEST_PASSWORD))
    # Another address has its own allowance.
    assert login(anon_client, REMOTE_ADDR="10.0.0.2").status_code == 401


def test_forged_forwarded_for_does_not_reset_the_login_limit(anon_client, alice, rates):
    # X-Forwarded-For is only trusted behind the number of proxies configured (none here), so
    # a guesser cannot present a fresh "address" with every request.
    rates(login="3/min")
    statuses = [
        login(anon_client, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(6)
    ]
    assert statuses == [401, 401, 401, 429, 429, 429]


def test_registration_is_limited(anon_client, rates, django_user_model):
    rates(register="2/hour")
    for n in range(2):
        response = anon_client.post(
            "/api/auth/register/",
            {"username": f"newcomer{n}", "password": "a-long-passphrase-42"},
            format="json",
        )
        assert response.status_code == 201
    response = anon_client.post(
        "/api/auth/register/",
        {"username": "newcomer9", "password": "a-long-passphrase-42"},
        format="json",
    )
    assert_throttled(response)
    assert not django_user_model.objects.filter(username="newcomer9").exists()


def test_refresh_is_limited_counting_failed_attempts_too(anon_client, alice, rates):
    rates(refresh="2/min")
    refresh = str(RefreshToken.for_user(alice))
    garbage = anon_client.post("/api/auth/token/refresh/", {"refresh": "x"}, format="json")
    assert garbage.status_code == 401
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200
    refresh = response.json()["refresh"]
    response = anon_client.post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert_throttled(response)


def test_sending_is_limited_per_user(client_for, alice, bob, thread, rates):
    rates(send="3/min")
    url = f"/api/threads/{thread.pk}/messages/"
    as_alice, as_bob = client_for(alice), client_for(bob)
    for n in range(3):
        assert as_alice.post(url, {"text": f"m{n}"}, format="json").status_code == 201
    assert_throttled(as_alice.post(url, {"text": "one too many"}, format="json"))
    assert not Message.objects.filter(text="one too many").exists()
    # Bob counts separately, even from the same address.
    assert as_bob.post(url, {"text": "bob's turn"}, format="json").status_code == 201
    # Reading is not limited by the send rate.
    assert as_alice.get(url).status_code == 200


def test_every_scope_has_a_rate(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rates) == {"login", "register", "refresh", "send", "upload"}


@pytest.fixture
def redis_cache(settings):
    """The default cache on a real Redis server (TEST_REDIS_URL); the test is skipped without one,
    as the sharing it proves is Redis's."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


def test_the_redis_cache_keeps_one_client_and_works_after_a_fork(redis_cache):
    redis_cache.set("before-fork", [1.5], 60)
    client = redis_cache._cache.get_client()
    assert redis_cache.get("before-fork") == [1.5]
    assert redis_cache._cache.get_client(write=True) is client  # not one built per operation
    child = os.fork()
    if child == 0:  # the forked worker: the inherited client reconnects on its own socket
        try:
            redis_cache.set("after-fork", [*redis_cache.get("before-fork"), 2.5], 60)
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    assert redis_cache.get("after-fork") == [1.5, 2.5]


LOGIN_IN_ANOTHER_PROCESS = """
import django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="localhost").post(
    "/api/auth/token/", {"username": "alice", "password": "x"}, content_type="application/json"
)
print(response.status_code, response.get("Retry-After"))
"""


def test_limits_hold_across_processes_with_redis(anon_client, alice, rates, redis_cache):
    rates(login="2/min")
    assert [login(anon_client).status_code for _ in range(2)] == [401, 401]
    # A second process, as another worker would be, configured by REDIS_URL alone: it sees the
    # same counters and refuses at once (before it would need a database).
    result = run_python(LOGIN_IN_ANOTHER_PROCESS, REDIS_URL=REDIS_URL, THROTTLE_LOGIN="2/min")
    assert result.returncode == 0, result.stderr
    status, retry_after = result.stdout.split()
    assert status == "429"
    assert int(retry_after) > 0
