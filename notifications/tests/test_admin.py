"""The operators' side: webhook endpoints (add, turn back on, ping), the delivery log (read only,
send again), and push subscriptions (who, on which push service; never the secret endpoint)."""

import json

import pytest

from chat import services
from chat.tests.factories import UserFactory
from notifications import services as notification_services
from notifications.models import PushSubscription, WebhookDelivery, WebhookEndpoint

ENDPOINTS = "/admin/notifications/webhookendpoint/"
DELIVERIES = "/admin/notifications/webhookdelivery/"
SUBSCRIPTIONS = "/admin/notifications/pushsubscription/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_an_operator_adds_an_endpoint_with_a_generated_secret(admin_client):
    form = admin_client.get(f"{ENDPOINTS}add/").content.decode()
    secret = form.split('name="secret"')[1].split('value="')[1].split('"')[0]
    assert len(secret) >= 40
    response = admin_client.post(
        f"{ENDPOINTS}add/",
        {
            "url": "https://hooks.example.com/chat",
            "description": "CRM",
            "secret": secret,
            "active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.secret, endpoint.active) == (
        "https://hooks.example.com/chat",
        secret,
        True,
    )


def test_turning_an_endpoint_back_on_clears_its_failures(admin_client):
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/chat",
        active=False,
        failures_in_a_row=7,
        disabled_reason="Turned off after 7 failed deliveries in a row.",
    )
    page = admin_client.get(f"{ENDPOINTS}{endpoint.pk}/change/").content.decode()
    assert "Turned off after 7 failed deliveries in a row." in page
    admin_client.post(
        f"{ENDPOINTS}{endpoint.pk}/change/",
        {"url": endpoint.url, "secret": endpoint.secret, "description": "", "active": "on"},
    )
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.failures_in_a_row, endpoint.disabled_reason) == (True, 0, "")


def test_the_ping_action_queues_a_test_event(admin_client):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/chat")
    response = admin_client.post(
        ENDPOINTS, {"action": "send_test_event", "_selected_action": [endpoint.pk]}, follow=True
    )
    assert "A ping is on its way to 1 endpoint(s)" in response.content.decode()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event_type, json.loads(delivery.body)["type"]) == (
        endpoint,
        "ping",
        "ping",
    )


@pytest.fixture
def logged(alice, bob, thread):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/chat")
    services.message_send(thread=thread, sender=alice, text="<b>hi</b>")
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state="failed", attempts=9, last_status=500, last_error="HTTP 500"
    )
    return endpoint, delivery


def test_the_delivery_log_lists_and_shows_each_delivery_escaped(admin_client, logged):
    _, delivery = logged
    row = '<td class="field-event_type">message.created</td>'
    page = admin_client.get(DELIVERIES).content.decode()
    assert row in page
    assert "HTTP 500" in page
    detail = admin_client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
    assert "&lt;b&gt;hi&lt;/b&gt;" in detail  # the event as sent, never as markup
    assert "<b>hi</b>" not in detail
    filtered = admin_client.get(f"{DELIVERIES}?state=delivered").content.decode()
    assert row not in filtered


def test_the_log_is_read_only_but_a_delivery_can_be_sent_again(admin_client, logged):
    _, delivery = logged
    assert admin_client.get(f"{DELIVERIES}add/").status_code == 403
    admin_client.post(
        f"{DELIVERIES}{delivery.pk}/change/", {"state": "delivered", "event_type": "x"}
    )
    delivery.refresh_from_db()
    assert delivery.state == "failed"
    admin_client.post(DELIVERIES, {"action": "retry_now", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.finished) == ("pending", 0, None)


def test_subscriptions_show_the_push_service_not_the_secret_endpoint(admin_client, alice):
    endpoint = "https://fcm.googleapis.com/fcm/send/secret-capability-token"
    PushSubscription.objects.create(user=alice, endpoint=endpoint, p256dh="x", auth="y")
    page = admin_client.get(SUBSCRIPTIONS).content.decode()
    assert "fcm.googleapis.com" in page
    assert "secret-capability-token" not in page
    subscription = PushSubscription.objects.get()
    detail = admin_client.get(f"{SUBSCRIPTIONS}{subscription.pk}/change/").content.decode()
    assert "secret-capability-token" not in detail
    assert admin_client.get(f"{SUBSCRIPTIONS}add/").status_code == 403
    searched = admin_client.get(f"{SUBSCRIPTIONS}?q=ali").content.decode()
    assert "fcm.googleapis.com" in searched


def test_an_operator_can_drop_a_subscription(admin_client, alice):
    subscription = PushSubscription.objects.create(
        user=alice, endpoint="https://fcm.googleapis.com/x", p256dh="x", auth="y"
    )
    admin_client.post(f"{SUBSCRIPTIONS}{subscription.pk}/delete/", {"post": "yes"})
    assert not PushSubscription.objects.exists()


def test_non_staff_see_none_of_it(client, alice):
    client.force_login(alice)
    for page in (ENDPOINTS, DELIVERIES, SUBSCRIPTIONS):
        assert client.get(page).status_code == 302


def test_pinging_records_one_delivery_per_endpoint(db):
    WebhookEndpoint.objects.create(url="https://a.example.com/")
    WebhookEndpoint.objects.create(url="https://b.example.com/", active=False)
    assert notification_services.webhook_ping(endpoints=WebhookEndpoint.objects.all()) == 2
    assert WebhookDelivery.objects.values("event_id").distinct().count() == 1


def test_editing_an_endpoint_that_is_on_keeps_its_failures(admin_client):
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/", failures_in_a_row=2)
    admin_client.post(
        f"{ENDPOINTS}{endpoint.pk}/change/",
        {"url": endpoint.url, "secret": endpoint.secret, "description": "CRM", "active": "on"},
    )
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.failures_in_a_row) == ("CRM", 2)
