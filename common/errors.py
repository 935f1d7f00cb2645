"""Errors that services raise and the API answers with their own status codes."""


class Conflict(Exception):
    """The request conflicts with the present state of what it names (HTTP 409), for example an
    edit of a message deleted for everyone."""


class TooLarge(Exception):
    """Over a size limit: a file's, an uploader's quota, an image's pixels (HTTP 413)."""


class UnsupportedType(Exception):
    """Content of a type the service does not take (HTTP 415)."""
