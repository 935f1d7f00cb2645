"""Errors that services raise and the API answers with their own status codes."""


class Conflict(Exception):
    """The request conflicts with the present state of what it names (HTTP 409), for example an
    edit of a message deleted for everyone."""
