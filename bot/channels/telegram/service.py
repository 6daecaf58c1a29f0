"""Telegram glue: updates → core → replies sent through the Bot API, durably.

Each update is handled by :class:`~handlers.core.Processor` in one unit of work that also
records its replies (``processed_updates``); they are then sent and marked sent. Replies that
could not be sent because the process died are sent by :meth:`TelegramChannel.send_pending`
at the next start.
"""

from __future__ import annotations

import asyncio
import html as html_module
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile

from bot.channels.telegram.render import CAPTION_LIMIT, html_chunks, keyboard
from handlers.core import Delivery, Processor
from handlers.serialize import replies_from_payload
from handlers.types import Incoming, Reply
from storage.db import StorageUnavailable

CHANNEL = "telegram"
log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ATTEMPTS = 5


def _caption(text: str | None) -> str | None:
    return (text or "")[:CAPTION_LIMIT] or None


class Undeliverable(Exception):
    """Telegram refused the message for good (blocked, chat gone, bad request)."""


async def call_with_retry(call: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Retry flood waits (``retry_after``), 5xx and network errors with backoff; raise the rest."""
    delay = 0.5
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except TelegramRetryAfter as exc:
            log.warning("%s: flood control, waiting %s s", what, exc.retry_after)
            await asyncio.sleep(exc.retry_after)
        except (TelegramServerError, TelegramNetworkError) as exc:
            if attempt == MAX_ATTEMPTS:
                raise
            log.warning("%s failed (%s), retrying in %.1f s", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
    return await call()


class TelegramChannel:
    def __init__(self, bot: Bot, processor: Processor) -> None:
        self.bot = bot
        self.processor = processor
        self.deps = processor.deps

    async def handle(self, incoming: Incoming, context: dict[str, Any] | None = None) -> None:
        try:
            delivery = await self.processor.process(incoming, context)
        except StorageUnavailable:
            log.warning("database unavailable while handling update %s", incoming.update_key)
            lang = await self._lang_of(incoming.user_id)
            reply = self.processor.unavailable_reply(lang)
            await self._send_reply(int(incoming.chat_id), reply, None)
            return
        if delivery is not None:
            await self.deliver(delivery)

    async def _lang_of(self, user_id: str) -> str | None:
        try:
            user = await self.deps.users.get(CHANNEL, user_id)
        except Exception:  # the database is what failed
            return None
        return user.lang if user else None

    async def deliver(self, delivery: Delivery) -> None:
        """Send the replies to one update and record the outcome."""
        edit = delivery.context.get("edit_message_id")
        try:
            for reply in delivery.replies:
                await self._send_reply(int(delivery.chat_id), reply, edit)
        except TelegramForbiddenError as exc:
            await self._unreachable(delivery, f"forbidden: {exc.message}")
            return
        except (Undeliverable, TelegramBadRequest) as exc:
            log.error("message to chat %s refused: %s", delivery.chat_id, exc)
            await self.deps.updates.mark_failed(
                delivery.channel, delivery.update_key, str(exc), final=True
            )
            return
        except (TelegramAPIError, OSError) as exc:
            log.error("message to chat %s not sent yet: %s", delivery.chat_id, exc)
            await self.deps.updates.mark_failed(
                delivery.channel, delivery.update_key, str(exc), final=False
            )
            return
        self.deps.updates.mark_sent(delivery.channel, delivery.update_key)

    async def _unreachable(self, delivery: Delivery, reason: str) -> None:
        log.info("chat %s cannot be reached: %s", delivery.chat_id, reason)
        user = await self.deps.users.get(CHANNEL, delivery.chat_id)
        if user is not None:
            await self.deps.users.mark_unreachable(user.id)
        await self.deps.updates.mark_failed(
            delivery.channel, delivery.update_key, reason, final=True
        )

    async def _send_reply(self, chat_id: int, reply: Reply, edit_message_id: int | None) -> None:
        chunks = html_chunks(reply)
        markup = keyboard(reply.choices)
        if reply.edit and edit_message_id and len(chunks) == 1:
            try:
                await call_with_retry(
                    lambda: self.bot.edit_message_text(
                        text=chunks[0],
                        chat_id=chat_id,
                        message_id=edit_message_id,
                        reply_markup=markup,
                    ),
                    what="editMessageText",
                )
                chunks = []
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    chunks = []
                else:  # too old to edit, deleted...: send it as a new message instead
                    log.info("could not edit message %s: %s", edit_message_id, exc.message)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self._send_text(chat_id, chunk, markup if last else None)
        if reply.photo is not None:
            photo = reply.photo
            await call_with_retry(
                lambda: self.bot.send_photo(
                    chat_id,
                    BufferedInputFile(photo.data, filename=photo.filename),
                    caption=_caption(photo.caption),
                    parse_mode=None,
                ),
                what="sendPhoto",
            )
        if reply.document is not None:
            document = reply.document
            await call_with_retry(
                lambda: self.bot.send_document(
                    chat_id,
                    BufferedInputFile(document.data, filename=document.filename),
                    caption=_caption(document.caption),
                    parse_mode=None,
                ),
                what="sendDocument",
            )

    async def _send_text(self, chat_id: int, html: str, markup: Any) -> None:
        try:
            await call_with_retry(
                lambda: self.bot.send_message(chat_id, html, reply_markup=markup),
                what="sendMessage",
            )
        except TelegramBadRequest as exc:
            if "parse entities" not in exc.message:
                raise
            # Never expected (every value is escaped); send it readable rather than not at all.
            log.error("Telegram rejected our HTML (%s); sending as plain text", exc.message)
            plain = html_module.unescape(re.sub(r"<[^>]+>", "", html))
            await call_with_retry(
                lambda: self.bot.send_message(chat_id, plain, parse_mode=None, reply_markup=markup),
                what="sendMessage",
            )

    async def send_pending(self, *, failed_only: bool = False) -> int:
        """Send replies that were written but not confirmed sent (e.g. before a crash);
        ``failed_only``: those whose sending failed before (the periodic retry)."""
        sent = 0
        for item in await self.deps.updates.pending(CHANNEL, failed_only=failed_only):
            replies, context = replies_from_payload(item.replies)
            await self.deliver(Delivery(CHANNEL, item.update_key, item.chat_id, replies, context))
            sent += 1
        if sent:
            log.info("sent %d replies left over from before the restart", sent)
        return sent
