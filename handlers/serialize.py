"""Replies as JSON, for the outbox (a reply written before it is sent survives a crash)."""

from __future__ import annotations

import base64
from typing import Any

from handlers.richtext import Doc, Span
from handlers.types import Attachment, Choice, Reply


def replies_to_payload(
    replies: list[Reply], context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The replies to one update, with the channel's context (e.g. the message to edit)."""
    return {"replies": [reply_to_payload(r) for r in replies], "context": context or {}}


def replies_from_payload(payload: dict[str, Any]) -> tuple[list[Reply], dict[str, Any]]:
    replies = [reply_from_payload(p)[0] for p in payload.get("replies", [])]
    return replies, dict(payload.get("context") or {})


def reply_to_payload(reply: Reply, context: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        # A plain span is its text; a formatted one is [text, 1 bold | 2 italic].
        "lines": [
            [s.text if not (s.bold or s.italic) else [s.text, s.bold | s.italic << 1] for s in line]
            for line in reply.doc.lines
        ],
        "choices": [
            [[c.label, c.action, *([c.full] if c.full else [])] for c in row]
            for row in reply.choices
        ],
        "edit": reply.edit,
    }
    if not reply.preview:
        payload["preview"] = False
    if reply.listed:
        payload["listed"] = True
    if reply.wants_files:
        payload["wants_files"] = True
    for name in ("photo", "document"):
        attachment: Attachment | None = getattr(reply, name)
        if attachment is not None:
            payload[name] = {
                "filename": attachment.filename,
                "mime": attachment.mime,
                "caption": attachment.caption,
                "data": base64.b64encode(attachment.data).decode("ascii"),
            }
    if context:
        payload["context"] = context
    return payload


def _span(part: str | list[Any]) -> Span:
    if isinstance(part, str):
        return Span(part)
    text, flags = part
    return Span(text, bool(flags & 1), bool(flags & 2))


def reply_from_payload(payload: dict[str, Any]) -> tuple[Reply, dict[str, Any]]:
    doc = Doc([tuple(_span(part) for part in line) for line in payload["lines"]])
    choices = [[Choice(*item) for item in row] for row in payload["choices"]]
    attachments: dict[str, Attachment] = {}
    for name in ("photo", "document"):
        item = payload.get(name)
        if item:
            attachments[name] = Attachment(
                item["filename"], base64.b64decode(item["data"]), item["mime"], item.get("caption")
            )
    reply = Reply(
        doc,
        choices,
        photo=attachments.get("photo"),
        document=attachments.get("document"),
        edit=bool(payload.get("edit")),
        preview=bool(payload.get("preview", True)),
        listed=bool(payload.get("listed", False)),
        wants_files=bool(payload.get("wants_files", False)),
    )
    return reply, dict(payload.get("context") or {})
