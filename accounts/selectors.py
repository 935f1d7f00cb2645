"""Reads of users, and of who blocks whom."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from accounts.models import Block

User = get_user_model()


def users_search(*, search: str = "") -> QuerySet:
    """Active users, by username, whose name contains `search` (ignoring case)."""
    users = User.objects.filter(is_active=True).order_by("username", "id")
    if search:
        users = users.filter(username__icontains=search)
    return users


def blocked(*, user_id: int, other_id: int) -> bool:
    """Whether either of the two users blocks the other: the one check every write between two
    people asks (thread creation, sending, typing, presence)."""
    return Block.objects.filter(
        Q(blocker_id=user_id, blocked_id=other_id) | Q(blocker_id=other_id, blocked_id=user_id)
    ).exists()
