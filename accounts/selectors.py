"""Reads of users, of their own settings, and of who blocks whom."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from accounts.models import Block, Profile

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


@dataclass(slots=True, frozen=True)
class OwnProfile:
    """A user as they see themselves: who they are, and their settings."""

    id: int
    username: str
    show_presence: bool


def own_profile(*, user, profile: Profile | None = None) -> OwnProfile:
    """The user's own view of themselves; reads their `Profile` unless given (no row: the
    defaults)."""
    if profile is None:
        profile = Profile.objects.filter(user_id=user.pk).only("show_presence").first()
    show_presence = True if profile is None else profile.show_presence
    return OwnProfile(id=user.pk, username=user.username, show_presence=show_presence)
