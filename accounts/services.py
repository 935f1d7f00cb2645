"""Writes for accounts: registration."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

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
