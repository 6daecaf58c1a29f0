"""Zalo Bot API: a thin client, update parsing, and the transport that sends replies.

``https://<base>/bot<TOKEN>/<method>``; answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": 4xx, "description": ...}``. The token is part of every URL, so
no error raised here carries a URL, and none chains the aiohttp exception that would.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.zalo.names import BOT_CHANNEL
from bot.channels.zalo.shape import obj
from bot.channels.zalo.text import NO_FILES, TEXT_LIMIT, text_with_numbered_choices
from bot.files import FileLinks
from bot.sender import Rejected, RetryLater, Unreachable
from handlers.types import Attachment, Incoming, Reply

CHANNEL = BOT_CHANNEL
log = logging.getLogger(__name__)

_KINDS = {
    "message.text.received": "text",
    "message.image.received": "photo",
    "message.sticker.received": "sticker",
}


class ZaloBotError(Exception):
    """The API answered ``ok: false`` (or not JSON at all)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"Zalo Bot API {code}: {description}")
        self.code = code
        self.description = description


class ZaloNetworkError(Exception):
    """No answer from the API (connection refused, reset, timed out)."""


class ZaloBotClient:
    def __init__(self, token: str, base: str, session: aiohttp.ClientSession) -> None:
        self._url = f"{base.rstrip('/')}/bot{token}/"
        self.session = session

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, seconds: float = 30.0
    ) -> Any:
        """The method's ``result``; raises :class:`ZaloBotError` or :class:`ZaloNetworkError`."""
        try:
            async with self.session.post(
                self._url + method,
                json=params or {},
                timeout=aiohttp.ClientTimeout(total=seconds),
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError:
            raise ZaloNetworkError(f"{method}: no answer within {seconds:g} s") from None
        except aiohttp.ClientError as exc:  # its text may hold the URL, hence the token
            raise ZaloNetworkError(f"{method}: {type(exc).__name__}") from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        if isinstance(body, dict):
            code = body.get("error_code", status)
            description = str(body.get("description") or "")
        else:
            code, description = status, "answer is not JSON"
        raise ZaloBotError(int(code) if str(code).lstrip("-").isdigit() else status, description)

    async def get_updates(self, poll_seconds: int) -> list[dict[str, Any]]:
        """What arrived (one update per call); ``[]`` when the long poll ends with 408."""
        try:
            result = await self.call(
                "getUpdates", {"timeout": poll_seconds}, seconds=poll_seconds + 15
            )
        except ZaloBotError as exc:
            if exc.code == 408:  # "nothing new"
                return []
            raise
        if isinstance(result, list):
            return [u for u in result if isinstance(u, dict)]
        return [result] if isinstance(result, dict) else []

    async def send_message(self, chat_id: str, text: str) -> None:
        await self.call("sendMessage", {"chat_id": chat_id, "text": text})

    async def send_photo(self, chat_id: str, url: str, caption: str | None) -> None:
        params = {"chat_id": chat_id, "photo": url}
        if caption:
            params["caption"] = caption[:TEXT_LIMIT]
        await self.call("sendPhoto", params)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> None:
        await self.call("deleteWebhook")


def unwrap(body: Any) -> dict[str, Any] | None:
    """The update in either documented shape: wrapped in ``{"ok", "result"}`` or bare."""
    if not isinstance(body, dict):
        return None
    inner = body.get("result")
    if isinstance(inner, dict) and "event_name" in inner:
        return inner
    return body if "event_name" in body else None


def update_key(update: dict[str, Any]) -> str:
    """``message_id``; a hash of the update if it has none (still the same on redelivery)."""
    message = update.get("message") or {}
    key = message.get("message_id") if isinstance(message, dict) else None
    if key:
        return str(key)
    return "h:" + hashlib.sha256(json.dumps(update, sort_keys=True).encode()).hexdigest()[:32]


def incoming_of(update: dict[str, Any]) -> Incoming | None:
    """The core's view of an update; ``None`` for what the bot does not answer. Raises
    :class:`MalformedUpdate` for a message of an unexpected shape (it is set aside)."""
    message = update.get("message")
    if message is None:
        return None
    message = obj(message, "message")
    sender = obj(message.get("from") or {}, "message.from")
    chat = obj(message.get("chat") or {}, "message.chat")
    user_id = str(sender.get("id") or chat.get("id") or "")
    chat_id = str(chat.get("id") or user_id)
    if not user_id or sender.get("is_bot"):
        return None
    kind = _KINDS.get(str(update.get("event_name")), "other")
    text = message.get("text") if kind == "text" else None
    return Incoming(
        channel=CHANNEL,
        user_id=user_id,
        chat_id=chat_id,
        text=text if isinstance(text, str) else None,
        update_key=update_key(update),
        display_name=sender.get("display_name"),
        is_group=str(chat.get("chat_type", "PRIVATE")).upper() != "PRIVATE",
        kind=kind,
    )


@dataclass(frozen=True)
class Part:
    kind: str  # text | photo | file
    text: str = ""
    file: Attachment | None = None


class ZaloBotTransport:
    """Replies as Zalo Bot messages; errors as the sender's outcomes."""

    channel = CHANNEL
    max_rate = 20.0  # not published; stay well below anything plausible

    def __init__(self, client: ZaloBotClient, links: FileLinks | None) -> None:
        self.client = client
        self.links = links
        self.quota_wait = 30.0  # after a 429: the quota may be gone for the month

    def parts(self, reply: Reply) -> list[Any]:
        parts: list[Any] = [Part("text", piece) for piece in text_with_numbered_choices(reply)]
        if reply.photo is not None:
            parts.append(Part("photo", file=reply.photo))
        if reply.document is not None:
            parts.append(Part("file", file=reply.document))
        return parts

    async def send_part(self, chat_id: str, part: Any) -> None:
        assert isinstance(part, Part)
        try:
            await self._send(chat_id, part)
        except ZaloBotError as exc:
            raise _outcome(exc, self.quota_wait) from None
        except ZaloNetworkError as exc:
            raise RetryLater(2.0, str(exc)) from None

    async def _send(self, chat_id: str, part: Part) -> None:
        if part.kind == "text":
            await self.client.send_message(chat_id, part.text)
            return
        assert part.file is not None
        if self.links is None:
            await self.client.send_message(chat_id, NO_FILES.format(name=part.file.filename))
            return
        url = await self.links.url_for(part.file)
        if part.kind == "photo":
            await self.client.send_photo(chat_id, url, part.file.caption)
        else:
            label = part.file.caption or part.file.filename
            await self.client.send_message(chat_id, f"{label}\n{url}")


def _outcome(exc: ZaloBotError, quota_wait: float) -> Exception:
    if exc.code == 429:  # quota: back off; recorded as failed if it lasts
        return RetryLater(quota_wait, f"429 {exc.description or 'quota exceeded'}")
    if exc.code == 403:
        return Unreachable(f"403 {exc.description}")
    if exc.code >= 500:
        return RetryLater(5.0, f"{exc.code} {exc.description}")
    return Rejected(f"{exc.code} {exc.description}")
