"""WebSocket URL routes; any other path is refused at the handshake (403), not an error."""

from channels.security.websocket import WebsocketDenier
from django.urls import path, re_path

from chat.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/", ChatConsumer.as_asgi()),
    re_path(r"", WebsocketDenier.as_asgi()),
]
