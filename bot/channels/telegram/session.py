"""aiogram's HTTP session, keeping the parsed-response models it builds alive.

aiogram validates every answer with ``Response[method.__returning__]``. pydantic keeps such
parametrised models in a *weak* cache, and nothing else holds them, so every garbage
collection drops them and the next call builds ``Response[Message]`` (a new model class and
its validator, ~4 ms on the event loop) again: under 100 reporting officers that happened
dozens of times a minute (bench/reports.py, py-spy). One strong reference per return type,
a handful in all, keeps them built.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class PinnedResponseSession(AiohttpSession):
    _pinned: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
