"""Dispatcher middlewares: language from the database, per-user throttling, redeliveries."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from handlers.core import Deps

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
            account = await self.deps.users.get(CHANNEL, str(user.id))
            if account is not None and account.lang:
                return account.lang
        return self.deps.default_lang


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: float = 0.0


class ThrottlingMiddleware(BaseMiddleware):
    """At most ``burst`` messages at once, then one per ``interval`` seconds per user.

    A message over the limit is dropped with a polite notice (at most one notice per
    ``notice_every`` seconds), so a stuck key or a script cannot flood the bot.
    """

    def __init__(
        self, i18n: I18n, interval: float, burst: int = 5, notice_every: float = 10.0
    ) -> None:
        self.i18n = i18n
        self.interval = interval
        self.burst = burst
        self.notice_every = notice_every
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, user_id: int, now: float | None = None) -> tuple[bool, bool]:
        """(allowed, should_warn)."""
        if self.interval <= 0:
            return True, False
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) / self.interval)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True, False
        warn = now - bucket.warned >= self.notice_every
        if warn:
            bucket.warned = now
        if len(self._buckets) > 50_000:  # forget idle users
            self._buckets = {k: v for k, v in self._buckets.items() if now - v.updated < 60}
        return False, warn

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        allowed, warn = self.allow(user.id)
        if allowed:
            return await handler(event, data)
        log.info("throttled user %s", user.id)
        notice = self.i18n.gettext(
            "Bạn gửi tin nhắn hơi nhanh. Xin chờ vài giây rồi gửi lại; tin vừa rồi chưa được xử lý."
        )
        if isinstance(event, CallbackQuery):
            await event.answer(notice)
        elif warn and isinstance(event, Message):
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
