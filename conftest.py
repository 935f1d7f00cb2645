"""Fixtures shared by every test: the file-backed test database, users in their roles, and API
clients logged in as them."""

from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from chat.tests.factories import UserFactory, make_thread


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """The test database is a SQLite file, as in production (WAL, busy timeout), not SQLite's
    in-memory database: the concurrency tests need real connections from several threads."""
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    test_settings["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def counted(django_assert_num_queries, django_capture_on_commit_callbacks):
    """`with counted(n):` asserts that the block runs n queries, counting the work its writes
    do after their transactions commit (live events), which tests would otherwise never run."""

    @contextmanager
    def block(queries: int):
        with (
            django_assert_num_queries(queries),
            django_capture_on_commit_callbacks(execute=True),
        ):
            yield

    return block


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def outsider(db):
    """A logged-in user who takes part in none of the threads under test."""
    return UserFactory(username="mallory")


@pytest.fixture
def staff(db):
    return UserFactory(username="operator", is_staff=True)


@pytest.fixture
def thread(alice, bob):
    return make_thread(alice, bob)


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def client_for():
    """`client_for(user)`: an APIClient sending that user's access token."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        return client

    return make


@pytest.fixture
def tokens(alice):
    """alice's access and refresh tokens, as `POST /api/auth/token/` gives them."""
    refresh = RefreshToken.for_user(alice)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}
