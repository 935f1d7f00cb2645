"""The REST exception handler: DRF's, plus what DRF would let become a 500: Django's
`ValidationError` from services as a 400, `common.errors.Conflict` as a 409, `TooLarge` and a
request body over `DATA_UPLOAD_MAX_MEMORY_SIZE` as a 413, `UnsupportedType` as a 415."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler

from common.errors import Conflict, TooLarge, UnsupportedType


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class TooLargeError(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def api_exception_handler(exc, context):
    if isinstance(exc, Conflict):
        exc = ConflictError(str(exc))
    if isinstance(exc, TooLarge):
        exc = TooLargeError(str(exc))
    if isinstance(exc, UnsupportedType):
        exc = exceptions.UnsupportedMediaType("", detail=str(exc))
    if isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    return exception_handler(exc, context)
