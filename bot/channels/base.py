"""What a chat channel is to the runtime, and what the runtime lends it.

Modelled on Rasa's ``InputChannel`` (``name()``, ``from_credentials()``, ``blueprint()``): each
platform package provides one :class:`ChannelKind` (its name, whether the settings turn it on,
its administrators, how to open it, and a transport alone for ``digest --send``), listed once
in :data:`bot.channels.BUILTIN_CHANNELS`. The runtime, the sender and ``digest --send`` loop
over the enabled kinds; none of them names a platform.

A kind's module imports nothing heavy: the platform's client library is imported when the
channel is opened, so a deployment without Telegram never imports aiogram.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.settings import Settings

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import web

    from bot.files import FileLinks
    from bot.sender import Transport
    from handlers.core import Processor
    from storage.db import Store

Poll = Callable[[asyncio.Event], Awaitable[None]]
Closer = Callable[[], Awaitable[None]]


class SharedClients:
    """What channels share and the runtime closes once: one HTTP client session, and the
    signed links to files for platforms that fetch pictures by URL. Made on first use."""

    def __init__(self, settings: Settings, db: Store, now: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.db = db
        self.now = now
        self._http: aiohttp.ClientSession | None = None
        self._links: FileLinks | None = None
        self._closers: list[Closer] = []

    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            import aiohttp

            self._http = aiohttp.ClientSession()
        return self._http

    def links(self) -> FileLinks | None:
        """Links served by this bot's HTTP server; ``None`` without a public address."""
        if self._links is None and self.settings.public_url:
            from bot.files import FileLinks

            self._links = FileLinks(self.db, self.settings.public_url, self.now)
        return self._links

    @property
    def made_links(self) -> FileLinks | None:
        """The links if a channel asked for them (their route is then served)."""
        return self._links

    def on_close(self, closer: Closer) -> None:
        """Something a channel opened (a client session of its own) to close at the end."""
        self._closers.append(closer)

    async def close(self) -> None:
        closers, self._closers = self._closers, []
        for closer in closers:
            await closer()
        if self._http is not None:
            await self._http.close()
            self._http = None


@dataclass
class ChannelEnv:
    """What the runtime lends a channel it opens."""

    settings: Settings
    processor: Processor
    web: web.Application  # add webhook routes here before the server starts
    clients: SharedClients
    stop: asyncio.Event
    poll: Callable[[str, Poll], None]  # run a poller, by one instance at a time

    @property
    def db(self) -> Store:
        return self.processor.deps.db


class Channel(Protocol):
    """One platform, opened: the conversation's replies go out through ``transport``."""

    name: str

    @property
    def transport(self) -> Transport: ...

    async def start(self) -> None:
        """After the HTTP server is up: register the webhook, or start polling."""

    async def send_pending(self, *, failed_only: bool = False) -> int:
        """Send replies written but not confirmed sent; returns how many."""

    async def adopt_abandoned(self) -> int:
        """Take over updates an instance that died acknowledged but never handled."""

    async def drain(self) -> None:
        """Finish the updates in hand (stopping)."""

    async def close(self) -> None:
        """Close what the channel opened of its own."""


class ChannelKind(Protocol):
    """A platform the bot can run on: one object per channel package."""

    name: str
    configured_by: str  # the variables that turn it on, for "no channel is configured"

    def enabled(self, settings: Settings) -> bool:
        """Whether the settings configure this channel."""

    def admins(self, settings: Settings) -> set[tuple[str, str]]:
        """(channel, user id) of the administrators the settings name on this platform."""

    async def open(self, env: ChannelEnv) -> Channel:
        """Build the channel, meet the platform, add its webhook routes to ``env.web``."""

    async def transport(self, settings: Settings, clients: SharedClients) -> Transport:
        """The transport alone, for sending without running (``ntm-bot digest --send``)."""
