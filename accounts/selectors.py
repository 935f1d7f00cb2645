"""Reads of users."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

User = get_user_model()


def users_search(*, search: str = "") -> QuerySet:
    """Active users, by username, whose name contains `search` (ignoring case)."""
    users = User.objects.filter(is_active=True).order_by("username", "id")
    if search:
        users = users.filter(username__icontains=search)
    return users
