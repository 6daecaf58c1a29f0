"""Telegram glue: updates → core → replies sent through the Bot API, durably.

Each update is handled by :class:`~handlers.core.Processor` in one unit of work that also
records its replies (``processed_updates``); they are then sent by the shared
:class:`~bot.channels.replies.ReplySender` through :class:`TelegramTransport` (the transport the
digests use too) and marked sent. The one thing only Telegram does: a reply to a button may
replace the message the button was on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.channels.replies import ReplySender
from bot.channels.telegram.transport import CHANNEL, Part, TelegramTransport
from bot.uploads import Offered
from handlers.core import Delivery, Processor
from handlers.types import Incoming, Reply

log = logging.getLogger(__name__)
__all__ = ["CHANNEL", "TelegramChannel"]


class TelegramChannel:
    def __init__(self, bot: Bot, processor: Processor) -> None:
        self.bot = bot
        self.processor = processor
        self.deps = processor.deps
        self.transport = TelegramTransport(bot)
        self.replies = ReplySender(CHANNEL, self.transport, processor, edit=self._edit_instead)

    async def handle(
        self,
        incoming: Incoming,
        context: dict[str, Any] | None = None,
        offered: Sequence[Offered] = (),
    ) -> None:
        await self.replies.handle(incoming, context, offered)

    async def send_pending(self, *, failed_only: bool = False) -> int:
        """Send replies that were written but not confirmed sent (e.g. before a crash);
        ``failed_only``: those whose sending failed before (the periodic retry)."""
        return await self.replies.send_pending(failed_only=failed_only)

    async def _edit_instead(self, delivery: Delivery, reply: Reply, parts: list[Any]) -> list[Any]:
        """Replace the message the button was on with a one-message reply; the parts left."""
        message_id = delivery.context.get("edit_message_id")
        texts = [p for p in parts if isinstance(p, Part) and p.kind == "text"]
        if not message_id or len(texts) != 1:
            return parts
        text = texts[0]
        try:
            await self.bot.edit_message_text(
                text=text.text,
                chat_id=int(delivery.chat_id),
                message_id=message_id,
                reply_markup=text.markup,
            )
        except TelegramBadRequest as exc:
            if "not modified" not in exc.message:  # too old to edit, deleted...: send anew
                log.info("could not edit message %s: %s", message_id, exc.message)
                return parts
        except TelegramAPIError as exc:
            log.info("could not edit message %s (%s); sending it anew", message_id, exc)
            return parts
        return [p for p in parts if p is not text]
