"""The dispatcher's one middleware: a redelivery dropped, the person's language, their flood
limit — in one pass per message or button tap (each extra aiogram middleware layer is paid on
every update, bench/telegram.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n

from bot.channels.throttle import Throttle
from handlers.core import THROTTLED, Deps
from storage.db import StorageError

log = logging.getLogger(__name__)
CHANNEL = "telegram"
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class PersonMiddleware(BaseMiddleware):
    """For each message or tap: drop an update this process already handled (Telegram
    delivers at least once), speak the language the person chose with /lang, and hold back a
    flood (:class:`~bot.channels.throttle.Throttle`: a dropped message gets the notice, a
    button tap always gets it, as the answer to the tap).

    The redelivery check here is the cheap early exit, from memory; the claim in
    ``Processor``'s transaction (the ``processed_updates`` row) is what guarantees that an
    update is handled once, across restarts and concurrent deliveries. With ``throttle``
    ``None`` (the error handler) only the language is set.
    """

    def __init__(self, i18n: I18n, deps: Deps, throttle: Throttle | None) -> None:
        self.i18n = i18n
        self.deps = deps
        self.throttle = throttle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update: Update | None = data.get("event_update")
        if (
            self.throttle is not None
            and update is not None
            and self.deps.updates.recently_claimed(CHANNEL, str(update.update_id))
        ):
            log.info("update %s was already handled; skipped", update.update_id)
            return None
        user: User | None = data.get("event_from_user")
        if user is not None and self.throttle is not None:
            verdict = await self.throttle.check(user.id)
            if not verdict.allowed:  # (the language is looked up only for a notice)
                if isinstance(event, CallbackQuery) or verdict.notify:
                    with self.i18n.use_locale(await self.locale(user)):
                        notice = self.i18n.gettext(THROTTLED)
                    if isinstance(event, CallbackQuery):
                        await event.answer(notice)
                    elif isinstance(event, Message):
                        await event.answer(notice, parse_mode=None)
                return None
        with self.i18n.use_locale(await self.locale(user)):
            return await handler(event, data)

    async def locale(self, user: User | None) -> str:
        """The language chosen with /lang (stored in the database), else the default."""
        if user is not None:
            try:
                account = await self.deps.users.get(CHANNEL, str(user.id))
            except StorageError:  # the database is away: the default language will do
                return self.deps.default_lang
            if account is not None and account.lang:
                return account.lang
        return self.deps.default_lang
