"""factory-boy factories for users, threads and messages (threads and messages via services)."""

import factory
from django.contrib.auth import get_user_model

from chat import services

TEST_PASSWORD = "test-pass-1234"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_thread(first, second):
    thread, _ = services.thread_get_or_create(user=first, other=second)
    return thread


def make_message(thread, sender, text="hello"):
    message, _ = services.message_send(thread=thread, sender=sender, text=text)
    return message
