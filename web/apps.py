"""The web chat client app: a page, its static files and its browser tests; no models."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Web chat client"
