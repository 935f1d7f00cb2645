"""Pieces shared by every app of the service (field types, pagination, output serializers).

It sits below `accounts` and `chat`: both import from here, and it imports from neither.
"""
