"""Reading updates defensively: an authenticated payload may still have any shape."""

from __future__ import annotations

from typing import Any


class MalformedUpdate(ValueError):
    """An authenticated update whose shape the bot cannot read."""


def obj(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else :class:`MalformedUpdate` naming ``what``."""
    if not isinstance(value, dict):
        raise MalformedUpdate(f"{what} is a {type(value).__name__}, not an object")
    return value
