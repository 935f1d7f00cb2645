from django.apps import AppConfig
from django.conf import settings
from django.db import connections
from django.db.models.signals import post_migrate, post_save, pre_migrate


def drop_triggers(sender, using, **kwargs):
    from chat import triggers

    triggers.drop(connections[using])


def install_triggers(sender, using, **kwargs):
    from chat import triggers

    triggers.install(connections[using])


def close_sockets_of_deactivated(sender, instance, **kwargs):
    """However an account is deactivated (the reports queue, the user admin, a shell), its open
    sockets close once that is committed."""
    if not instance.is_active:
        from chat import events, services

        services.publish(events.sockets_closed, user_id=instance.pk)


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self):
        # Around every `migrate` (chat/triggers.py says why).
        pre_migrate.connect(drop_triggers, sender=self)
        post_migrate.connect(install_triggers, sender=self)
        post_save.connect(close_sockets_of_deactivated, sender=settings.AUTH_USER_MODEL)
