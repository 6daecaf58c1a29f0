"""Telegram channel on aiogram 3: polling or webhook, same conversation core.

:data:`KIND` is what the runtime sees; aiogram is imported only when the channel opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import Channel, ChannelEnv, SharedClients
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.sender import Transport

CHANNEL = "telegram"


class TelegramKind:
    name = CHANNEL
    configured_by = "TELEGRAM_BOT_TOKEN"

    def enabled(self, settings: Settings) -> bool:
        return settings.telegram_enabled

    def admins(self, settings: Settings) -> set[tuple[str, str]]:
        return {(CHANNEL, str(i)) for i in settings.admin_ids}

    async def open(self, env: ChannelEnv) -> Channel:
        from bot.channels.telegram.runtime import TelegramRuntime

        runtime = TelegramRuntime(env.settings, env.processor)
        await runtime.open(env)
        return runtime

    async def transport(self, settings: Settings, clients: SharedClients) -> Transport:
        from bot.channels.telegram.runtime import create_bot
        from bot.channels.telegram.transport import TelegramTransport

        bot = create_bot(settings)
        clients.on_close(bot.session.close)
        return TelegramTransport(bot)


KIND = TelegramKind()
