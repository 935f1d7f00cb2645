from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.db.models.signals import post_save


def vapid_key_is_a_key(app_configs, **kwargs):
    """A VAPID key that is no key, or a subject that is no contact, is said at startup
    (`migrate`, `runserver`, `serve`), not at the first push."""
    from django.core.exceptions import ImproperlyConfigured

    from notifications import push

    if not push.configured():
        return []
    try:
        push.vapid()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="notifications.E001")]
    if not settings.VAPID_SUBJECT.startswith(("mailto:", "https:")):
        return [
            checks.Error(
                f"VAPID_SUBJECT is {settings.VAPID_SUBJECT!r}: push services want a contact, "
                "mailto:you@example.com or an https: URL.",
                id="notifications.E002",
            )
        ]
    return []


def forget_browsers_of_deactivated(sender, instance, **kwargs):
    """However an account is deactivated (the reports queue, the user admin, a shell), its
    browsers get nothing more, not even what was on its way."""
    if not instance.is_active:
        from notifications.models import PushSubscription

        PushSubscription.objects.filter(user=instance).delete()


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        checks.register(vapid_key_is_a_key)
        post_save.connect(forget_browsers_of_deactivated, sender=settings.AUTH_USER_MODEL)
