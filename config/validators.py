"""Input checks shared by the API's serializers."""

from django.core.exceptions import ValidationError


def validate_encodable(value: str) -> None:
    """Refuse lone UTF-16 surrogates (valid in JSON escapes, not storable by any database)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Text must be valid Unicode (no lone surrogate characters)."
        ) from None
