from django.apps import AppConfig
from django.core import checks


def vapid_key_is_a_key(app_configs, **kwargs):
    """A VAPID key that is no key is said at startup (`migrate`, `runserver`, `serve`), not at
    the first push."""
    from django.core.exceptions import ImproperlyConfigured

    from notifications import push

    if not push.configured():
        return []
    try:
        push.vapid()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="notifications.E001")]
    return []


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        checks.register(vapid_key_is_a_key)
