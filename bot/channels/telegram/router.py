"""aiogram handlers: every message and button tap becomes an ``Incoming`` for the core."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, Message, Update
from aiogram.utils.i18n import I18n

from bot.channels.attempts import set_aside
from bot.channels.telegram.callbacks import Act
from bot.channels.telegram.service import CHANNEL, TelegramChannel
from bot.uploads import Fetch, Offered, TooBig
from handlers.types import Incoming

log = logging.getLogger(__name__)


def offered_files(message: Message, bot: Bot) -> list[Offered]:
    """The photo (its largest size) or the document in a message, to be fetched."""
    if message.photo:
        largest = message.photo[-1]
        return [Offered(_downloader(bot, largest.file_id), largest.file_size)]
    if message.document is not None:
        document = message.document
        name = document.file_name or ""
        return [Offered(_downloader(bot, document.file_id), document.file_size, name)]
    return []


def _downloader(bot: Bot, file_id: str) -> Fetch:
    async def fetch(limit: int) -> bytes:
        buffer = await bot.download(file_id)
        data = buffer.read() if buffer is not None else b""
        if len(data) > limit:
            raise TooBig(f"{len(data)} bytes")
        return data

    return fetch


def _kind(message: Message) -> str:
    if message.text is not None:
        return "text"
    if message.sticker is not None:
        return "sticker"
    if message.photo:
        return "photo"
    return "other"


async def _answer(query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner. A tap Telegram delivered twice (its first delivery already
    answered, perhaps by another instance) or answered late cannot be answered again: that
    is no failure of the update, whose replies went out as messages."""
    try:
        await query.answer(text)
    except TelegramAPIError as exc:
        log.info("button tap %s not answered: %s", query.id, exc)


def build_router(channel: TelegramChannel, i18n: I18n) -> Router:
    router = Router(name="ntm")

    @router.message()
    async def on_message(message: Message, bot: Bot, event_update: Update) -> None:
        user = message.from_user
        if user is None or user.is_bot:
            return  # channel posts, anonymous admins, other bots
        text = message.text
        if text and text.startswith("/") and "@" in text.split()[0]:
            mention = text.split()[0].split("@", 1)[1]
            me = await bot.me()
            if me.username and mention.lower() != me.username.lower():
                return  # a command for another bot in a group
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(user.id),
            chat_id=str(message.chat.id),
            text=text,
            update_key=str(event_update.update_id),
            display_name=user.full_name,
            is_group=message.chat.type != "private",
            kind=_kind(message),
        )
        await channel.handle(incoming, offered=offered_files(message, bot))

    @router.callback_query(Act.filter())
    async def on_action(query: CallbackQuery, callback_data: Act, event_update: Update) -> None:
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        context: dict[str, Any] = {}
        if message is not None:
            context["edit_message_id"] = message.message_id
        incoming = Incoming(
            channel=CHANNEL,
            user_id=str(query.from_user.id),
            chat_id=str(chat_id),
            action=callback_data.v,
            update_key=str(event_update.update_id),
            display_name=query.from_user.full_name,
            is_group=message is not None and message.chat.type != "private",
            kind="action",
        )
        try:
            await channel.handle(incoming, context)
        finally:
            await _answer(query)

    @router.callback_query(F.data)
    async def on_stale_button(query: CallbackQuery) -> None:
        await _answer(query, i18n.gettext("Nút này đã cũ. Gõ /help để bắt đầu lại."))

    @router.errors()
    async def on_error(event: ErrorEvent, bot: Bot) -> bool:
        update = event.update
        log.error(
            "update %s failed: %s", update.update_id, event.exception, exc_info=event.exception
        )
        await set_aside(
            channel.deps.db,
            CHANNEL,
            str(update.update_id),
            f"{type(event.exception).__name__}: {event.exception}",
            update.model_dump_json(exclude_unset=True),
        )
        chat_id = None
        if update.message is not None:
            chat_id = update.message.chat.id
        elif update.callback_query is not None and update.callback_query.message is not None:
            chat_id = update.callback_query.message.chat.id
        if chat_id is not None:
            try:
                await bot.send_message(
                    chat_id,
                    i18n.gettext(
                        "Xin lỗi, đã có lỗi khi xử lý tin nhắn này. Lỗi đã được ghi lại để khắc "
                        "phục; bạn vui lòng thử lại sau ít phút."
                    ),
                    parse_mode=None,
                )
            except Exception:  # the apology itself failed: nothing more to do
                log.warning("could not tell chat %s about the error", chat_id)
        return True

    return router
