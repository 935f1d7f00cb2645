"""Writes for accounts: registration, and the presence setting of a profile."""

from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Profile
from accounts.signals import presence_visibility_changed

User = get_user_model()


@transaction.atomic
def user_register(*, username: str, password: str):
    """Create an active user; names are unique ignoring case, so "Alice" cannot shadow "alice"."""
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ["A user with that username already exists."]})
    user = User(username=username)
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:
        raise ValidationError({"username": ["A user with that username already exists."]}) from None
    return user


@transaction.atomic
def profile_set_show_presence(*, user, show_presence: bool) -> Profile:
    """Whether `user` shares their presence. A change sends `presence_visibility_changed` once
    it has committed (accounts.signals), so that the user's partners hear of it; setting the
    value the profile already has sends nothing."""
    profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
    if profile.show_presence == show_presence:
        return profile
    profile.show_presence = show_presence
    profile.save(update_fields=["show_presence"])
    transaction.on_commit(
        partial(
            presence_visibility_changed.send,
            sender=Profile,
            user_id=user.pk,
            show_presence=show_presence,
        )
    )
    return profile
