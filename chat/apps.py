from functools import partial

from django.apps import AppConfig
from django.conf import settings
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_migrate, post_save, pre_migrate


def drop_triggers(sender, using, **kwargs):
    from chat import triggers

    triggers.drop(connections[using])


def install_triggers(sender, using, **kwargs):
    from chat import triggers

    triggers.install(connections[using])


def delete_attachment_files(sender, instance, using, **kwargs):
    """An attachment's files go once the deletion of its row commits, however the row went
    (deleted for everyone, with its thread or its uploader, from the admin, by the purge), and
    stay if the deletion rolls back. A crash in between leaves files that no row names, which
    `manage.py purge_attachments` finds."""
    from chat import files

    transaction.on_commit(partial(files.delete_stored, instance.stored_names), using=using)


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
        from accounts.signals import block_changed, presence_visibility_changed
        from chat import presence

        # Around every `migrate` (chat/triggers.py says why).
        pre_migrate.connect(drop_triggers, sender=self)
        post_migrate.connect(install_triggers, sender=self)
        post_save.connect(close_sockets_of_deactivated, sender=settings.AUTH_USER_MODEL)
        post_delete.connect(delete_attachment_files, sender="chat.Attachment")
        # accounts knows nothing of chat: it says when a user hides or shows their presence, and
        # chat tells that user's partners.
        presence_visibility_changed.connect(
            presence.visibility_changed, dispatch_uid="chat.presence.visibility_changed"
        )
        block_changed.connect(presence.block_changed, dispatch_uid="chat.presence.block_changed")
