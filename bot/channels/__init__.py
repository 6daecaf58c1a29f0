"""Channels render the conversation core's replies for one messaging platform each.

Every platform the bot runs on is one :class:`~bot.channels.base.ChannelKind` in
:data:`BUILTIN_CHANNELS`; adding a channel is one package and one line here (see the README,
"Adding a channel"). The terminal channel is not among them: it is the conversation itself,
run in the foreground (``ntm-bot chat``).
"""

from __future__ import annotations

from bot.channels.base import ChannelKind
from bot.channels.telegram import KIND as TELEGRAM
from bot.channels.zalo import BOT_KIND as ZALO_BOT
from bot.channels.zalo import OA_KIND as ZALO_OA
from bot.settings import Settings

BUILTIN_CHANNELS: tuple[ChannelKind, ...] = (TELEGRAM, ZALO_BOT, ZALO_OA)


def enabled_channels(settings: Settings) -> list[ChannelKind]:
    """The channels the settings configure, in the registry's order."""
    return [kind for kind in BUILTIN_CHANNELS if kind.enabled(settings)]


def admin_identities(settings: Settings) -> set[tuple[str, str]]:
    """(channel, user id) of every administrator the settings name, on any platform."""
    return {admin for kind in BUILTIN_CHANNELS for admin in kind.admins(settings)}


def how_to_configure() -> str:
    """The variables that turn each channel on: "A, B hoặc C"."""
    hints = [kind.configured_by for kind in BUILTIN_CHANNELS]
    return ", ".join(hints[:-1]) + " hoặc " + hints[-1] if len(hints) > 1 else hints[0]
