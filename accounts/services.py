"""Writes for accounts: registration, blocks, deactivation."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import Block

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


def user_block(*, user, other) -> None:
    """`user` blocks `other`; blocking again changes nothing."""
    if user.pk == other.pk:
        raise ValidationError({"user": ["You cannot block yourself."]})
    Block.objects.bulk_create([Block(blocker=user, blocked=other)], ignore_conflicts=True)


def user_unblock(*, user, other) -> None:
    """`user` no longer blocks `other`; unblocking someone not blocked changes nothing."""
    if user.pk == other.pk:
        raise ValidationError({"user": ["You cannot block yourself."]})
    Block.objects.filter(blocker=user, blocked=other).delete()


@transaction.atomic
def user_deactivate(*, user) -> None:
    """Take the account out of service: it can no longer log in, its access tokens stop working
    at their next use (Simple JWT refuses inactive users) and every refresh token it holds is
    blacklisted. Open sockets are closed by chat, which watches for deactivations."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
