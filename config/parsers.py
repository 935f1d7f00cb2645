"""The JSON parser of the API: DRF's, with JSON too deeply nested to decode a 400 like any other
malformed JSON (Python's decoder raises `RecursionError`, which DRF would let become a 500)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
