"""Reliability and security tests: fuzzing, access, tokens, limits, races and crashes."""
