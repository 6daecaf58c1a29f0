"""Zalo channels: the Zalo Bot API (Telegram-like, no buttons) and the Zalo Official Account API.

Thin aiohttp clients on the bot's own event loop (no Zalo SDK is a sound dependency), the same
conversation core as every other channel, and transports for the common sender.
:data:`BOT_KIND` and :data:`OA_KIND` are what the runtime sees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.base import Channel, ChannelEnv, SharedClients
from bot.channels.zalo.names import BOT_CHANNEL, OA_CHANNEL
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.sender import Transport


def _admins_of(channel: str, settings: Settings) -> set[tuple[str, str]]:
    return {(c, user) for c, user in settings.zalo_admins if c == channel}


class ZaloBotKind:
    name = BOT_CHANNEL
    configured_by = "ZALO_BOT_TOKEN"

    def enabled(self, settings: Settings) -> bool:
        return settings.zalo_bot_enabled

    def admins(self, settings: Settings) -> set[tuple[str, str]]:
        return _admins_of(BOT_CHANNEL, settings)

    async def open(self, env: ChannelEnv) -> Channel:
        from bot.channels.zalo.runtime import ZaloBotRuntime, bot_transport

        transport = bot_transport(env.settings, env.clients.http(), env.clients.links())
        runtime = ZaloBotRuntime(env.settings, env.processor, transport)
        runtime.open(env)
        return runtime

    async def transport(self, settings: Settings, clients: SharedClients) -> Transport:
        from bot.channels.zalo.runtime import bot_transport

        return bot_transport(settings, clients.http(), clients.links())


class ZaloOAKind:
    name = OA_CHANNEL
    configured_by = "ZALO_OA_APP_ID + ZALO_OA_ACCESS_TOKEN"

    def enabled(self, settings: Settings) -> bool:
        return settings.zalo_oa_enabled

    def admins(self, settings: Settings) -> set[tuple[str, str]]:
        return _admins_of(OA_CHANNEL, settings)

    async def open(self, env: ChannelEnv) -> Channel:
        from bot.channels.zalo.runtime import ZaloOARuntime, oa_transport

        transport = await oa_transport(
            env.settings, env.db, env.clients.http(), env.clients.links(), env.clients.now
        )
        runtime = ZaloOARuntime(env.settings, env.processor, transport)
        runtime.register_webhook(env.web)
        return runtime

    async def transport(self, settings: Settings, clients: SharedClients) -> Transport:
        from bot.channels.zalo.runtime import oa_transport

        return await oa_transport(
            settings, clients.db, clients.http(), clients.links(), clients.now
        )


BOT_KIND = ZaloBotKind()
OA_KIND = ZaloOAKind()
