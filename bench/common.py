"""What the benchmark scripts share: the bot's environment and percentiles."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import bot_env


def use_fake_telegram(fake: FakeTelegram, tmp: Path, **extra: str) -> dict[str, str]:
    """Point this process's settings at the fake server and a scratch database."""
    env = bot_env(fake, tmp, NTM_LOG_LEVEL="WARNING", **extra)
    os.environ.update(env)
    return env


def percentile_ms(sorted_seconds: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted measurements (seconds), in milliseconds."""
    if not sorted_seconds:
        return 0.0
    index = max(0, math.ceil(len(sorted_seconds) * fraction) - 1)
    return sorted_seconds[index] * 1000


@asynccontextmanager
async def echo_bot() -> AsyncIterator[FakeTelegram]:
    """A bare aiogram echo bot (``start_polling``, one handler) on a fresh fake Bot API: the
    baseline the benchmarks measure ours against, in the same run on the same machine."""
    fake = await FakeTelegram().start()
    bot = Bot(fake.token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    polling = asyncio.ensure_future(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    await asyncio.sleep(0.3)
    try:
        yield fake
    finally:
        await dp.stop_polling()
        await polling
        await bot.session.close()
        await fake.stop()
