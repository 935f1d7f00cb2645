"""Front ends on other origins (CORS_ALLOWED_ORIGINS): allowed on /api/, preflight answered with
Authorization allowed, and accepted by the WebSocket's origin check; every other origin is not."""

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import WebsocketCommunicator

from config.asgi import origin_validator

FRONT_END = "https://app.example.com"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONT_END]
    return settings


def test_preflight_from_an_allowed_origin_allows_authorization(cors, anon_client):
    response = anon_client.options(
        "/api/threads/",
        HTTP_ORIGIN=FRONT_END,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    allowed_headers = response["Access-Control-Allow-Headers"].split(", ")
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed_headers)
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_responses_and_errors_carry_the_header(cors, client_for, alice, anon_client):
    response = client_for(alice).get("/api/users/me/", HTTP_ORIGIN=FRONT_END)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    # A 401 must be readable by the front end too, or it cannot tell "log in again".
    response = anon_client.get("/api/users/me/", HTTP_ORIGIN=FRONT_END)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_other_origins_and_other_paths_get_no_header(cors, anon_client, db):
    response = anon_client.options(
        "/api/threads/",
        HTTP_ORIGIN="https://evil.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in response
    response = anon_client.get("/healthz", HTTP_ORIGIN=FRONT_END)
    assert "Access-Control-Allow-Origin" not in response


def test_by_default_no_origin_is_allowed(anon_client, db):
    response = anon_client.get("/api/schema/", HTTP_ORIGIN=FRONT_END)
    assert "Access-Control-Allow-Origin" not in response


class Accepting(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()


async def origin_accepted(origin: str) -> bool:
    communicator = WebsocketCommunicator(
        origin_validator(Accepting.as_asgi()), "/ws/chat/", headers=[(b"origin", origin.encode())]
    )
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


# Channels' consumers close stale database connections on each event, which needs the database.
@pytest.mark.django_db(transaction=True)
async def test_websocket_accepts_allowed_hosts_and_cors_origins_only(cors):
    assert await origin_accepted(FRONT_END)
    assert await origin_accepted("http://127.0.0.1:8000")  # ALLOWED_HOSTS, any port
    assert not await origin_accepted("http://app.example.com")  # another scheme
    assert not await origin_accepted("https://app.example.com:8443")  # another port
    assert not await origin_accepted("https://evil.example.com")


@pytest.mark.django_db(transaction=True)
async def test_websocket_refuses_a_cors_origin_that_is_not_configured():
    assert not await origin_accepted(FRONT_END)
