"""Reads of users, and of who blocks whom."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Block
from common.fields import MAX_ID

User = get_user_model()


def users_search(*, search: str = "") -> QuerySet:
    """Active users, by username, whose name contains `search` (ignoring case)."""
    users = User.objects.filter(is_active=True).order_by("username", "id")
    if search:
        users = users.filter(username__icontains=search)
    return users


def user_by_id(user_id: int):
    """The user, active or not, or Http404."""
    user = User.objects.filter(pk=user_id).first() if 0 < user_id <= MAX_ID else None
    if user is None:
        raise Http404("No user found.")
    return user


def blocked_users(*, user) -> QuerySet:
    """The users `user` blocks, most recently blocked first."""
    return User.objects.filter(blocked_by__blocker=user).order_by("-blocked_by__created", "-id")


# Two probes of the unique (blocker, blocked) index. Written out: every send asks it, and building
# the same query with the ORM cost ten times what running it does.
BLOCKED_SQL = (
    f"SELECT 1 FROM {Block._meta.db_table} "  # noqa: S608 - the table name from the model
    "WHERE (blocker_id = %s AND blocked_id = %s) OR (blocker_id = %s AND blocked_id = %s) LIMIT 1"
)


def blocked(*, user_id: int, other_id: int) -> bool:
    """Whether either of the two users blocks the other: the one check every write between two
    people asks (thread creation, sending, editing, typing, presence)."""
    with connection.cursor() as cursor:
        cursor.execute(BLOCKED_SQL, [user_id, other_id, other_id, user_id])
        return cursor.fetchone() is not None
