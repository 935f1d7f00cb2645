"""Pushes from the outbox to browsers, through the worker's rounds, to a push service stand-in
that decrypts each message with the subscription's keys (tests/push_service.py): what is sent,
when, to whom, and what is not."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import user_block, user_deactivate
from chat import services
from chat.models import PresenceSocket
from chat.tests.factories import make_thread
from notifications import delivery, outbox
from notifications.models import PendingNotification, PushDelivery, PushSubscription
from tests.push_service import HANG, Answer

DELAY = 0.2  # NOTIFY_DELAY in these tests, in seconds


@pytest.fixture(autouse=True)
def _short_delay(settings):
    settings.NOTIFY_DELAY = DELAY


def send(thread, sender, text="hello"):
    return services.message_send(thread=thread, sender=sender, text=text)[0]


def after_the_delay(worker_round):
    time.sleep(DELAY + 0.05)
    return worker_round()


def test_a_message_is_pushed_encrypted_for_the_recipients_browser_after_the_delay(
    thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    message = send(thread, alice, "Lunch at one? " + "x" * 200)
    assert worker_round() == (0, 0, 0)  # not due yet
    assert after_the_delay(worker_round) == (1, 1, 0)
    [push] = push_service.received(endpoint)
    assert push.payload == {
        "thread": thread.pk,
        "sender": {"id": alice.pk, "username": "alice"},
        "count": 1,
        "preview": message.text[:100],
    }
    # One topic per thread: a push service holding an older one for an offline browser replaces it.
    assert push.topic == f"thread-{thread.pk}"
    assert push.ttl > 0
    assert push.vapid_claims["aud"] == push_service.origin
    assert push.vapid_claims["sub"].startswith("mailto:")
    assert not PendingNotification.objects.exists()
    assert not PushDelivery.objects.exists()
    assert PushSubscription.objects.get().last_delivered is not None


def test_messages_waiting_together_make_one_notification(
    thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    for text in ("one", "two", "three"):
        send(thread, alice, text)
    after_the_delay(worker_round)
    [push] = push_service.received(endpoint)
    assert (push.payload["count"], push.payload["preview"]) == (3, "three")


def test_each_browser_of_the_recipient_gets_it_and_nobody_else_does(
    thread, alice, bob, outsider, browser_of, push_service, worker_round
):
    phone, laptop = browser_of(bob), browser_of(bob)
    alices, outsiders = browser_of(alice), browser_of(outsider)
    send(thread, alice)
    after_the_delay(worker_round)
    assert len(push_service.received(phone)) == len(push_service.received(laptop)) == 1
    # Nobody is notified of their own messages; an outsider never hears of the thread.
    assert push_service.received(alices) == push_service.received(outsiders) == []


def test_nothing_is_queued_for_a_recipient_without_a_browser(thread, alice, browser_of):
    browser_of(alice)  # the sender's browser does not matter
    send(thread, alice)
    assert not PendingNotification.objects.exists()


def test_threads_are_notified_separately(
    alice, bob, outsider, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    send(make_thread(alice, bob), alice, "from alice")
    send(make_thread(outsider, bob), outsider, "from mallory")
    assert after_the_delay(worker_round)[0] == 2
    previews = sorted(push.payload["preview"] for push in push_service.received(endpoint))
    assert previews == ["from alice", "from mallory"]


@pytest.mark.parametrize(
    "before_delivery",
    [
        pytest.param(lambda m, t, r: services.message_mark_read(message=m, user=r), id="read"),
        pytest.param(lambda m, t, r: services.thread_mark_read(thread=t, user=r), id="thread-read"),
        pytest.param(
            lambda m, t, r: services.message_delete_for_everyone(message=m, user=m.sender),
            id="deleted-for-everyone",
        ),
        pytest.param(lambda m, t, r: services.message_hide(message=m, user=r), id="hidden"),
        pytest.param(lambda m, t, r: services.thread_clear(thread=t, user=r), id="cleared"),
        pytest.param(lambda m, t, r: services.thread_mute(thread=t, user=r), id="muted"),
        pytest.param(
            lambda m, t, r: services.thread_mute(
                thread=t, user=r, until=timezone.now() + timedelta(hours=1)
            ),
            id="muted-for-an-hour",
        ),
        pytest.param(lambda m, t, r: user_block(user=r, other=m.sender), id="recipient-blocks"),
        pytest.param(lambda m, t, r: user_block(user=m.sender, other=r), id="sender-blocks"),
        pytest.param(lambda m, t, r: services.thread_delete(thread=t), id="thread-deleted"),
    ],
)
def test_nothing_is_pushed_when_by_then(
    before_delivery, thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    message = send(thread, alice)
    before_delivery(message, thread, bob)
    after_the_delay(worker_round)
    assert push_service.received(endpoint) == []
    assert not PendingNotification.objects.exists()
    assert not PushDelivery.objects.exists()


def test_only_what_is_still_unseen_is_counted(
    thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    first = send(thread, alice, "first")
    second = send(thread, alice, "second")
    send(thread, alice, "third")
    services.message_hide(message=first, user=bob)
    services.message_mark_read(message=second, user=bob)
    after_the_delay(worker_round)
    [push] = push_service.received(endpoint)
    assert (push.payload["count"], push.payload["preview"]) == (1, "third")


def test_a_mute_that_has_ended_silences_nothing(
    thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    services.thread_mute(thread=thread, user=bob, until=timezone.now() + timedelta(seconds=0.1))
    send(thread, alice)
    after_the_delay(worker_round)
    assert len(push_service.received(endpoint)) == 1


def socket_of(user, *, viewing, open_=True):
    now = timezone.now()
    return PresenceSocket.objects.create(
        channel_name=f"test!{user.pk}-{viewing}-{open_}",
        user=user,
        worker="worker-1" if open_ else "",
        seen=now,
        expires=now + timedelta(seconds=60),
        viewing_thread=viewing,
    )


def test_a_thread_in_view_on_an_open_socket_is_not_pushed(
    thread, alice, bob, outsider, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    socket_of(bob, viewing=thread.pk)
    other = make_thread(outsider, bob)
    send(thread, alice)
    send(other, outsider, "elsewhere")
    after_the_delay(worker_round)
    # The thread on screen is not pushed; another thread is.
    assert [push.payload["thread"] for push in push_service.received(endpoint)] == [other.pk]


@pytest.mark.parametrize(
    "socket",
    [
        pytest.param(
            lambda bob, thread: socket_of(bob, viewing=thread.pk, open_=False), id="closed"
        ),
        pytest.param(lambda bob, thread: socket_of(bob, viewing=None), id="viewing-nothing"),
        pytest.param(
            lambda bob, thread: socket_of(thread.user_low, viewing=thread.pk), id="sender"
        ),
    ],
)
def test_a_socket_that_does_not_show_it_to_the_recipient_does_not_silence(
    socket, thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    socket(bob, thread)
    send(thread, alice)
    after_the_delay(worker_round)
    assert len(push_service.received(endpoint)) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_no_longer_knows_is_dropped(
    status, thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint, other = browser_of(bob), browser_of(bob)
    push_service.respond(endpoint, [status])
    send(thread, alice)
    after_the_delay(worker_round)
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [other]
    assert not PushDelivery.objects.exists()


@pytest.fixture
def instant_retries(monkeypatch):
    monkeypatch.setattr(delivery, "PUSH_RETRIES", [0, 0, 0])


def test_server_errors_are_retried_until_delivered(
    thread, alice, bob, browser_of, push_service, worker_round, instant_retries
):
    endpoint = browser_of(bob)
    push_service.respond(endpoint, [500, Answer(503, retry_after=0)])
    send(thread, alice)
    after_the_delay(worker_round)
    assert PushDelivery.objects.get().attempts == 1
    worker_round()
    worker_round()
    statuses = [push.status for push in push_service.received(endpoint)]
    assert statuses == [500, 503, 201]
    assert not PushDelivery.objects.exists()
    assert PushSubscription.objects.exists()


def test_a_retry_waits_its_backoff(thread, alice, bob, browser_of, push_service, worker_round):
    endpoint = browser_of(bob)
    push_service.respond(endpoint, [502])
    send(thread, alice)
    before = timezone.now()
    after_the_delay(worker_round)
    waiting = PushDelivery.objects.get()
    assert waiting.next_attempt >= before + timedelta(seconds=delivery.PUSH_RETRIES[0])
    assert worker_round() == (0, 0, 0)
    assert len(push_service.received(endpoint)) == 1


def test_a_push_service_that_does_not_answer_in_time_is_retried(
    thread, alice, bob, browser_of, push_service, worker_round, instant_retries, settings
):
    settings.PUSH_TIMEOUT = 0.3
    endpoint = browser_of(bob)
    push_service.respond(endpoint, [HANG])
    send(thread, alice)
    after_the_delay(worker_round)
    assert PushDelivery.objects.get().attempts == 1
    worker_round()
    assert [push.status for push in push_service.received(endpoint)] == [201, 201]
    assert not PushDelivery.objects.exists()


def test_retries_end(thread, alice, bob, browser_of, push_service, worker_round, instant_retries):
    endpoint = browser_of(bob)
    push_service.respond(endpoint, [500] * 10)
    send(thread, alice)
    after_the_delay(worker_round)
    for _ in range(5):
        worker_round()
    assert len(push_service.received(endpoint)) == 1 + len(delivery.PUSH_RETRIES)
    assert not PushDelivery.objects.exists()
    assert PushSubscription.objects.exists()  # a failing push service is not a gone browser


def test_a_retry_of_a_message_read_since_is_dropped(
    thread, alice, bob, browser_of, push_service, worker_round, instant_retries
):
    endpoint = browser_of(bob)
    push_service.respond(endpoint, [500])
    message = send(thread, alice)
    after_the_delay(worker_round)
    services.message_mark_read(message=message, user=bob)
    worker_round()
    assert len(push_service.received(endpoint)) == 1
    assert not PushDelivery.objects.exists()


def test_a_request_we_built_wrong_is_not_repeated(
    thread, alice, bob, browser_of, push_service, worker_round, instant_retries
):
    endpoint = browser_of(bob)
    push_service.respond(endpoint, [413])
    send(thread, alice)
    after_the_delay(worker_round)
    worker_round()
    assert len(push_service.received(endpoint)) == 1
    assert not PushDelivery.objects.exists()
    assert PushSubscription.objects.exists()


def test_an_endpoint_no_longer_allowed_is_dropped_before_any_request(
    thread, alice, bob, browser_of, push_service, worker_round, settings
):
    endpoint = browser_of(bob)  # allowed when it subscribed (development)
    send(thread, alice)
    settings.PUSH_ALLOW_PRIVATE_ENDPOINTS = False
    after_the_delay(worker_round)
    assert push_service.received(endpoint) == []
    assert not PushSubscription.objects.exists()


def test_turning_due_messages_into_pushes_runs_a_fixed_number_of_queries(
    alice, bob, outsider, browser_of, django_assert_num_queries
):
    browser_of(bob)
    browser_of(alice)
    for sender, recipient in ((alice, bob), (outsider, bob), (bob, alice)):
        thread = make_thread(sender, recipient)
        for n in range(3):
            send(thread, sender, str(n))
    time.sleep(DELAY + 0.05)
    # 1 SAVEPOINT, 2 the due pairs, 3 their rows, 4 the messages still unseen (with senders),
    # 5 mutes, 6 screens showing the threads, 7 blocks, 8 the recipients' browsers, 9 INSERT the
    # pushes, 10 DELETE the rows taken, 11 RELEASE: the same for three threads as for one.
    with django_assert_num_queries(11):
        assert outbox.take_due() == 3
    assert PushDelivery.objects.count() == 3


def test_a_deactivated_account_is_pushed_nothing_more(
    thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    send(thread, alice)
    user_deactivate(user=bob)
    after_the_delay(worker_round)
    assert push_service.received(endpoint) == []
    assert not PushSubscription.objects.exists()


def test_a_host_that_does_not_resolve_now_is_retried_not_dropped(
    thread, alice, bob, worker_round, settings
):
    PushSubscription.objects.create(
        user=bob, endpoint="https://push.example.invalid/send/x", p256dh="x", auth="y"
    )
    settings.NOTIFY_DELAY = 0
    send(thread, alice)
    worker_round()
    waiting = PushDelivery.objects.get()
    assert waiting.attempts == 1
    assert waiting.next_attempt > timezone.now()
    assert PushSubscription.objects.exists()


def test_a_host_that_now_resolves_to_our_own_network_is_dropped_unsent(
    thread, alice, bob, worker_round, settings
):
    PushSubscription.objects.create(
        user=bob, endpoint="https://10.0.0.8/send/x", p256dh="x", auth="y"
    )
    settings.NOTIFY_DELAY = 0
    send(thread, alice)
    worker_round()
    assert not PushSubscription.objects.exists()
    assert not PushDelivery.objects.exists()


def test_a_subscription_whose_keys_became_unusable_is_dropped(
    thread, alice, bob, browser_of, push_service, worker_round
):
    endpoint = browser_of(bob)
    PushSubscription.objects.update(p256dh="not-a-key")  # a row changed by hand
    send(thread, alice)
    after_the_delay(worker_round)
    assert push_service.received(endpoint) == []
    assert not PushSubscription.objects.exists()
