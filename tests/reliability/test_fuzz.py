"""Schemathesis fuzzing of the whole API from its own OpenAPI schema, logged in as a user who has
threads with messages, so generated requests reach real objects as well as made-up ids.

Checks: no 5xx, every response matches its documented schema and status code, invalid input is
refused, valid input is accepted. Each example runs in a savepoint that is rolled back, so a
generated DELETE cannot take the thread away from the examples after it.
`FUZZ_EXAMPLES` sets the examples per operation (`make fuzz` runs many more).
"""

import os
import zlib
from collections import Counter, defaultdict

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from schemathesis.generation import GenerationMode

from chat import services
from chat.tests import attachment_files as made
from chat.tests.factories import TEST_PASSWORD, UserFactory, make_message, make_thread

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
UNLIMITED_RATES = {"login": None, "register": None, "refresh": None, "send": None, "upload": None}
LINK = ("GET", "/api/attachments/{attachment_id}/{kind}/")


@pytest.fixture
def keep_connection_across_requests():
    # The WSGI handler closes the connection when a request ends; the test database connection
    # holds the test's transaction and the per-example savepoint, so keep it open, as Django's
    # own test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, settings, keep_connection_across_requests):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": UNLIMITED_RATES}
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    carol = UserFactory(username="carol")
    with_bob = make_thread(alice, bob)
    with_carol = make_thread(carol, alice)
    messages = [make_message(with_bob, alice, "hello bob"), make_message(with_bob, bob, "hi")]
    messages.append(make_message(with_carol, carol, "unread by alice"))
    photo = services.attachment_upload(
        user=bob, upload=made.upload(made.image_bytes(made.gradient(), "PNG"), "photo.png")
    )
    services.message_send(thread=with_bob, sender=bob, text="", attachment_ids=[photo.pk])
    photo.refresh_from_db()
    # And one of alice's own, not sent yet: hers to take back.
    draft = services.attachment_upload(user=alice, upload=made.upload(b"a draft", "draft.txt"))
    refresh = str(RefreshToken.for_user(alice))
    world.update(
        token=str(AccessToken.for_user(alice)),
        # Request bodies that a fuzzer could not guess: a real user, password and tokens.
        bodies={
            ("POST", "/api/threads/"): {"participants": [bob.pk]},
            ("POST", "/api/auth/token/"): {"username": "alice", "password": TEST_PASSWORD},
            ("POST", "/api/auth/token/refresh/"): {"refresh": refresh},
            ("POST", "/api/auth/token/verify/"): {"token": refresh},
            ("POST", "/api/auth/logout/"): {"refresh": refresh},
            ("PATCH", "/api/messages/{message_id}/"): {"text": "edited by the fuzzer"},
            ("PATCH", "/api/users/me/"): {"show_presence": False},
            # A browser's keys, which a fuzzer could not make up (a point on the curve).
            ("POST", "/api/push/subscriptions/"): {
                "endpoint": "https://8.8.8.8/push/fuzz",
                "keys": {
                    "p256dh": "BD7Xoo7GSO3OXVt-JS9rKq-7RINRFKJLPKqPcQ9kmTvC"
                    "VxGjTNySKQgLY58Jl3_rfKkezOFkm_6orYXHKyBq3n4",
                    "auth": "MDEyMzQ1Njc4OWFiY2RlZg",
                },
            },
        },
        # A signed link (`url`), whose signature a fuzzer could not guess.
        links={"file": photo.url, "thumbnail": photo.thumbnail_url},
        thread_id=[with_bob.pk, with_carol.pk],
        message_id=[message.pk for message in messages],
        # People alice shares a thread with, and herself: the presence she may read.
        user_id=[bob.pk, carol.pk, alice.pk],
        attachment_id=[photo.pk, draft.pk],
    )
    yield world
    world.clear()


CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # Valid by the schema is not always valid: a weak password, an unknown user id,
            # `before` with `after`, a made-up refresh token are refused with a 400 naming why.
            # An upload valid by the schema may be a type of file not taken, or too large.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "413", "415"]
            }
        },
        # Unknown query parameters are ignored, as HTTP APIs do; they are not invalid input.
        "generation": {"allow-extra-parameters": False},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
# The current test's token and real ids, for the hooks below; `fuzz_world` fills it in.
world: dict = {}


@schema.auth(refresh_interval=None)
class AliceToken:
    def get(self, case, ctx):
        return world.get("token")

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    # Half the time, point the generated ids at the caller's real threads and messages.
    real = {
        name: st.sampled_from(world[name])
        for name, value in (path_parameters or {}).items()
        if name in world and isinstance(value, int)
    }
    if not real:
        return st.just(path_parameters)
    with_real_ids = st.fixed_dictionaries(real).map(lambda ids: {**path_parameters, **ids})
    return st.one_of(st.just(path_parameters), with_real_ids)


@schemathesis.hook
def before_call(context, case, kwargs):
    # Every other generated body is swapped for one that names real objects. Schemathesis sees
    # the edit and re-validates the case, so the checks judge the body actually sent.
    operation = (case.method.upper(), case.operation.path)
    real = world.get("bodies", {}).get(operation)
    if real is not None and zlib.crc32(repr(case.body).encode()) % 2:
        case.body = dict(real)
    # A query is not re-validated like a JSON body: swapped in valid cases only, or a negative
    # case would be judged by what it no longer sends. (Uploads need no help: schemathesis
    # draws real files, PNG and PDF among them, for a binary field.)
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if operation == LINK and positive and zlib.crc32(repr(case.query).encode()) % 2:
        path, query = world["links"][case.path_parameters["kind"]].split("?")
        case.path_parameters = {**case.path_parameters, "attachment_id": int(path.split("/")[3])}
        case.query = dict(part.split("=") for part in query.split("&"))


# Status codes seen per operation in this session, to prove the fuzzer got past the front door.
statuses_seen = defaultdict(Counter)


@schema.hook
def after_call(context, case, response):
    statuses_seen[(case.method.upper(), case.path)][response.status_code] += 1


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case, fuzz_world):
    with transaction.atomic():
        case.call_and_validate()
        transaction.set_rollback(True)


class ApiWorkflow(schema.as_state_machine()):
    """Sequences of calls chained by the schema's links: create a thread, then read, post to,
    mark and delete it; send a message, then mark it read. Each sequence is rolled back."""

    def setup(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)


ApiWorkflow.TestCase.settings = hypothesis.settings(
    max_examples=max(MAX_EXAMPLES // 2, 5),
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)


def test_api_workflows_follow_the_schema_links(fuzz_world):
    ApiWorkflow.TestCase().runTest()


def test_fuzzer_reached_every_operation_with_success():
    # Runs after the fuzz test above (file order): a fuzzer locked out by a broken token, or
    # never reaching a real thread, would pass every check while testing nothing.
    if not statuses_seen:
        pytest.skip("the fuzz test did not run in this session")
    operations = {
        (method.upper(), path)
        for path, methods in schema.raw_schema["paths"].items()
        for method in methods
    }
    missed = sorted(
        operation
        for operation in operations
        if not any(200 <= code < 300 for code in statuses_seen.get(operation, ()))
    )
    assert missed == []
    totals = sum(statuses_seen.values(), Counter())
    print(f"fuzz: {totals.total()} requests, by status {dict(sorted(totals.items()))}")
