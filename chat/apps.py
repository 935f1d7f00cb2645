from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate, pre_migrate


def drop_triggers(sender, using, **kwargs):
    from chat import triggers

    triggers.drop(connections[using])


def install_triggers(sender, using, **kwargs):
    from chat import triggers

    triggers.install(connections[using])


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self):
        from accounts.signals import presence_visibility_changed
        from chat import presence

        # Around every `migrate` (chat/triggers.py says why).
        pre_migrate.connect(drop_triggers, sender=self)
        post_migrate.connect(install_triggers, sender=self)
        # accounts knows nothing of chat: it says when a user hides or shows their presence, and
        # chat tells that user's partners.
        presence_visibility_changed.connect(
            presence.visibility_changed, dispatch_uid="chat.presence.visibility_changed"
        )
