"""Dispatcher middlewares: language from the database, per-user throttling, redeliveries."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.channels.throttle import Throttle
from handlers.core import THROTTLED, Deps
from storage.db import StorageError

log = logging.getLogger(__name__)
CHANNEL = "telegram"
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserLanguageMiddleware(I18nMiddleware):
    """The user's language is the one chosen with /lang (stored in the database)."""

    def __init__(self, i18n: I18n, deps: Deps) -> None:
        super().__init__(i18n)
        self.deps = deps

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is not None:
            try:
                account = await self.deps.users.get(CHANNEL, str(user.id))
            except StorageError:  # the database is away: the default language will do
                return self.deps.default_lang
            if account is not None and account.lang:
                return account.lang
        return self.deps.default_lang


class ThrottlingMiddleware(BaseMiddleware):
    """Telegram's side of :class:`~bot.channels.throttle.Throttle`: a dropped message gets
    the notice (a button tap always gets it, as the answer to the tap)."""

    def __init__(self, i18n: I18n, throttle: Throttle) -> None:
        self.i18n = i18n
        self.throttle = throttle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = await self.throttle.check(user.id)
        if verdict.allowed:
            return await handler(event, data)
        notice = self.i18n.gettext(THROTTLED)
        if isinstance(event, CallbackQuery):
            await event.answer(notice)
        elif verdict.notify and isinstance(event, Message):
            await event.answer(notice, parse_mode=None)
        return None


class SkipRedeliveredMiddleware(BaseMiddleware):
    """Drop an update this process already handled (Telegram delivers at least once).

    This is the cheap early exit, from memory; the claim in ``Processor``'s transaction (the
    ``processed_updates`` row) is what guarantees that an update is handled once, across
    restarts and concurrent deliveries.
    """

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and self.deps.updates.recently_claimed(
            CHANNEL, str(event.update_id)
        ):
            log.info("update %s was already handled; skipped", event.update_id)
            return None
        return await handler(event, data)
