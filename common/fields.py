"""Input field types stricter than DRF's, for ids, text and flags that arrive as JSON or query
strings."""

import re

from rest_framework import serializers

# The largest id a BigAutoField holds (SQLite's INTEGER, PostgreSQL's bigint): a larger one in a
# URL or a query is refused before it reaches the database driver, which would overflow.
MAX_ID = 2**63 - 1

PLAIN_INTEGER = re.compile(r"-?[0-9]+")


class PlainIntegerField(serializers.IntegerField):
    """An integer written plainly: a JSON number, or ASCII digits (in a query string). DRF's own
    field also reads "1.0", " 7", "1_0" (as 10) and other scripts' digits as integers, so that
    one id could be spelt many ways; here those are a 400."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            if not PLAIN_INTEGER.fullmatch(data):
                self.fail("invalid")
        elif isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(serializers.CharField):
    """Text that must arrive as a JSON string: DRF's own field turns `3.9e-217` into the message
    "3.9e-217", so a client's bug would become a message no one wrote."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON `true` or `false`: DRF's own field also reads "yes", "on", 1, "0" and others, so a
    client sending the string "false" by mistake would be understood either way."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
