"""Output serializers whose declared fields are both the OpenAPI schema and the output.

DRF's generic `to_representation` copies and binds every field of every object it writes, which
cost more than all the queries of a page (bench/RESULTS.md). An `OutputSerializer` compiles its
declared fields once per class into plain writers, so a resource's shape is stated once: the
fields that drf-spectacular reads are the fields that write the response.
common/tests/test_representation.py holds the output equal to DRF's generic path.
"""

from collections.abc import Callable
from datetime import datetime, tzinfo
from operator import attrgetter

from django.db.models.manager import BaseManager
from django.utils import timezone
from rest_framework import serializers

Writer = Callable[[object, tzinfo], object]


def datetime_representation(value: datetime, zone: tzinfo) -> str:
    """What DRF's `DateTimeField` writes: ISO 8601 in the current time zone (`zone`, looked up
    once per response by the caller: the lookup costs more than the formatting), UTC as `Z`."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _writer(field: serializers.Field) -> Writer | None:
    """How a field's value is written, or None when it is written as the object holds it: ids,
    texts, flags and lists of them already are ints, strings and bools in models and read models
    alike."""
    if isinstance(field, serializers.ListSerializer):
        represent = type(field.child).represent
        return lambda items, zone: [represent(item, zone) for item in items]
    if isinstance(field, OutputSerializer):
        return type(field).represent
    if isinstance(field, serializers.DateTimeField):
        return datetime_representation
    if isinstance(
        field,
        serializers.BooleanField
        | serializers.IntegerField
        | serializers.CharField
        | serializers.ListField,
    ):
        return None
    raise TypeError(f"OutputSerializer cannot write a {type(field).__name__}; add a writer.")


class OneZoneListSerializer(serializers.ListSerializer):
    """A list of objects: the current time zone is looked up once for the whole list."""

    def to_representation(self, data):
        zone = timezone.get_current_timezone()
        items = data.all() if isinstance(data, BaseManager) else data
        represent = type(self.child).represent
        return [represent(item, zone) for item in items]


class OutputSerializer(serializers.Serializer):
    """Writes objects (model instances or read-model dataclasses alike: only attributes are read)
    from its declared fields. Every field is read-only; a field's `source` names the attribute.
    """

    class Meta:
        list_serializer_class = OneZoneListSerializer

    @classmethod
    def writers(cls) -> list[tuple[str, Callable, Writer | None]]:
        if "_writers" not in cls.__dict__:
            cls._writers = [
                (name, attrgetter(field.source or name), _writer(field))
                for name, field in cls._declared_fields.items()
            ]
        return cls._writers

    @classmethod
    def represent(cls, instance, zone: tzinfo) -> dict:
        written = {}
        for name, read, write in cls.writers():
            value = read(instance)
            written[name] = value if write is None or value is None else write(value, zone)
        return written

    def to_representation(self, instance) -> dict:
        return self.represent(instance, timezone.get_current_timezone())

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.read_only = True
        return fields
