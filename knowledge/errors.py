"""Errors raised while loading the plan data."""


class KnowledgeError(Exception):
    """The plan data is missing or malformed; the message names the file and the field."""
