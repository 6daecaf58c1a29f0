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


_URL_KEYS = ("photo", "photo_url", "image", "image_url", "url")
_FILE_TYPES = {"image", "gif", "file", "photo"}


def file_urls(message: Any) -> list[tuple[str, str]]:
    """The files a message carries, as (URL, file name): a Zalo Bot photo message gives its
    URL in ``photo`` (or ``photo_url``/``image_url``: accounts differ), an OA event in
    ``attachments[].payload.url`` (with ``name`` for a file). Anything else is no file."""
    if not isinstance(message, dict):
        return []
    found: list[tuple[str, str]] = []

    def add(url: Any, name: Any = "") -> None:
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            found.append((url, name if isinstance(name, str) else ""))

    for key in _URL_KEYS:
        value = message.get(key)
        if isinstance(value, list):
            for item in value:
                add(item.get("url") if isinstance(item, dict) else item)
        elif isinstance(value, dict):
            add(value.get("url"))
        else:
            add(value)
    attachments = message.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, dict) or attachment.get("type") not in _FILE_TYPES:
            continue
        payload = attachment.get("payload")
        if isinstance(payload, dict):
            add(payload.get("url"), payload.get("name", ""))
    return list(dict.fromkeys(found))
