"""Scoped rate limits: 429 with Retry-After once a scope's rate is spent."""

import pytest

from chat.tests.factories import TEST_PASSWORD


@pytest.fixture
def rates(settings):
    """`rates(scope="N/period", ...)`: override some scoped rates for this test."""

    def override(**scoped):
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **scoped}
        settings.REST_FRAMEWORK = rest

    return override


def test_sending_is_limited_per_user(client_for, alice, bob, thread, rates):
    rates(send="2/min")
    url = f"/api/threads/{thread.pk}/messages/"
    alice_client = client_for(alice)

    statuses = [alice_client.post(url, {"text": "hi"}, format="json").status_code for _ in range(3)]
    limited = alice_client.post(url, {"text": "hi"}, format="json")

    assert statuses == [201, 201, 429]
    assert int(limited["Retry-After"]) > 0
    assert "detail" in limited.json()
    assert client_for(bob).post(url, {"text": "hi"}, format="json").status_code == 201


def test_reading_is_not_limited_by_the_send_rate(client_for, alice, thread, rates):
    rates(send="1/min")
    client = client_for(alice)
    client.post(f"/api/threads/{thread.pk}/messages/", {"text": "hi"}, format="json")

    assert client.get(f"/api/threads/{thread.pk}/messages/").status_code == 200


def test_login_attempts_are_limited_per_client(anon_client, alice, rates):
    rates(login="2/min")
    body = {"username": "alice", "password": "wrong"}

    statuses = [
        anon_client.post("/api/auth/token/", body, format="json").status_code for _ in range(2)
    ]
    limited = anon_client.post(
        "/api/auth/token/", {"username": "alice", "password": TEST_PASSWORD}, format="json"
    )

    assert statuses == [401, 401]
    assert limited.status_code == 429
    assert "Retry-After" in limited


def test_registration_is_limited_per_client(anon_client, db, rates):
    rates(register="1/hour")
    body = {"username": "first", "password": "correct-horse-battery"}
    anon_client.post("/api/auth/register/", body, format="json")

    response = anon_client.post(
        "/api/auth/register/", {**body, "username": "second"}, format="json"
    )

    assert response.status_code == 429
    assert "Retry-After" in response


def test_refresh_is_limited_per_client(anon_client, db, rates):
    rates(refresh="1/min")
    anon_client.post("/api/auth/token/refresh/", {"refresh": "x"}, format="json")

    response = anon_client.post("/api/auth/token/refresh/", {"refresh": "x"}, format="json")

    assert response.status_code == 429
