"""Telegram messages, for replies and send-outs alike: a reply becomes text pieces and files;
the Bot API's errors become the sender's outcomes."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, LinkPreviewOptions

from bot.channels.telegram.render import CAPTION_LIMIT, html_chunks, keyboard
from bot.channels.telegram.session import PinnedResponseSession
from bot.sender import Rejected, RetryLater, Unreachable
from handlers.types import Attachment, Reply

CHANNEL = "telegram"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    kind: str  # text | photo | document
    text: str = ""
    markup: InlineKeyboardMarkup | None = None
    file: Attachment | None = None
    preview: bool = True


class TelegramTransport:
    channel = CHANNEL

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def parts(self, reply: Reply) -> list[Any]:
        chunks = html_chunks(reply)
        markup = keyboard(reply.choices)
        parts: list[Any] = [
            Part("text", chunk, markup if i == len(chunks) - 1 else None, preview=reply.preview)
            for i, chunk in enumerate(chunks)
        ]
        if reply.photo is not None:
            parts.append(Part("photo", file=reply.photo))
        if reply.document is not None:
            parts.append(Part("document", file=reply.document))
        return parts

    async def send_part(self, chat_id: str, part: Any) -> None:
        assert isinstance(part, Part)
        try:
            if part.kind == "text":
                await self._send_text(int(chat_id), part)
                return
            assert part.file is not None
            upload = BufferedInputFile(part.file.data, filename=part.file.filename)
            caption = (part.file.caption or "")[:CAPTION_LIMIT] or None
            if part.kind == "photo":
                await self.bot.send_photo(int(chat_id), upload, caption=caption, parse_mode=None)
            else:
                await self.bot.send_document(int(chat_id), upload, caption=caption, parse_mode=None)
        except TelegramRetryAfter as exc:
            raise RetryLater(float(exc.retry_after), f"429 retry_after={exc.retry_after}") from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(exc.message) from exc
        except TelegramBadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise Unreachable(exc.message) from exc
            raise Rejected(exc.message) from exc
        except (TelegramServerError, TelegramNetworkError, OSError) as exc:
            raise RetryLater(2.0, f"{type(exc).__name__}: {exc}") from exc

    async def _send_text(self, chat_id: int, part: Part) -> None:
        preview = None if part.preview else LinkPreviewOptions(is_disabled=True)
        method = SendMessage(
            chat_id=chat_id, text=part.text, reply_markup=part.markup, link_preview_options=preview
        )
        try:
            session = self.bot.session
            if isinstance(session, PinnedResponseSession):
                await session.send_unread(self.bot, method)  # the message echoed is not read
            else:
                await self.bot(method)
        except TelegramBadRequest as exc:
            if "parse entities" not in exc.message:
                raise
            # Never expected (every value is escaped); send it readable rather than not at all.
            log.error("Telegram rejected our HTML (%s); sending as plain text", exc.message)
            plain = html.unescape(re.sub(r"<[^>]+>", "", part.text))
            await self.bot.send_message(
                chat_id,
                plain,
                parse_mode=None,
                reply_markup=part.markup,
                link_preview_options=preview,
            )
