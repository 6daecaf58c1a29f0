"""Builds the aiogram Bot and Dispatcher for the Telegram channel and runs it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.channels.attempts import set_aside
from bot.channels.base import ChannelEnv
from bot.channels.telegram.middlewares import PersonMiddleware
from bot.channels.telegram.polling import Poller
from bot.channels.telegram.router import build_router
from bot.channels.telegram.service import TelegramChannel
from bot.channels.telegram.session import PinnedResponseSession
from bot.channels.telegram.transport import CHANNEL, TelegramTransport
from bot.channels.throttle import Throttle, shared_buckets
from bot.settings import ConfigError, Settings
from bot.startup import StartupStopped
from handlers.core import ADMIN, GUEST, OFFICER, Processor
from handlers.i18n import locales_dir
from storage.db import Store
from storage.inbox import Inbox

log = logging.getLogger(__name__)
T = TypeVar("T")


class CarefulRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, except that a body that is not JSON gets 400 (not 500) and
    an update of an unexpected shape is set aside as a dead letter and acknowledged, so that
    Telegram does not deliver it again and again."""

    def __init__(self, db: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.db = db

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            data = json.loads(raw)
        except ValueError:
            return web.json_response({"ok": False, "description": "bad JSON"}, status=400)
        try:
            update = Update.model_validate(data, context={"bot": bot})
        except ValueError as exc:
            key = str(data.get("update_id")) if isinstance(data, dict) else None
            log.error("telegram webhook update %s has an unexpected shape; set aside", key)
            await set_aside(
                self.db,
                "telegram",
                key,
                f"{type(exc).__name__}: {exc}",
                raw.decode(errors="replace"),
            )
            return web.json_response({})
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, **self.data
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


async def until_reachable(
    what: str, call: Callable[[], Awaitable[T]], stop: asyncio.Event, *, max_delay: float = 60.0
) -> T:
    """``call()``, tried again with backoff while the network or the server is down."""
    backoff = Backoff(BackoffConfig(min_delay=1.0, max_delay=max_delay, factor=2.0, jitter=0.1))
    while True:
        try:
            return await call()
        except TelegramUnauthorizedError:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN bị Telegram từ chối (401 Unauthorized): kiểm tra lại token"
            ) from None
        except TelegramRetryAfter as exc:
            delay = float(exc.retry_after)
            reason = f"flood control, retry after {exc.retry_after} s"
        except (TelegramNetworkError, TelegramServerError) as exc:
            delay = next(backoff)
            reason = f"{type(exc).__name__}: {exc.message}"
        log.warning("%s is not reachable yet (%s); trying again in %.0f s", what, reason, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            raise StartupStopped(f"stopped while waiting for {what}")


def create_bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token is not None
    session = PinnedResponseSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(
        token=settings.telegram_bot_token.get_secret_value(),
        session=session,
        # Only parse_mode: every extra default (e.g. link preview options) is serialised into
        # every request, which measurably slows sending (bench/telegram.py).
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


class TelegramRuntime:
    """The Telegram channel, opened (:class:`bot.channels.base.Channel`)."""

    name = CHANNEL

    def __init__(self, settings: Settings, processor: Processor, bot: Bot | None = None) -> None:
        self.settings = settings
        self.conversation = processor.conversation
        # aiogram's I18n, for the channel's own texts (flood notices, a stale button, the
        # apology for an error) in the person's language (PersonMiddleware sets it); the core
        # translates with the app's catalogues.
        self.i18n = I18n(path=locales_dir(), default_locale=settings.lang, domain="messages")
        i18n = self.i18n
        self.bot = bot or create_bot(settings)
        self.channel = TelegramChannel(self.bot, processor)
        deps = processor.deps
        # No event isolation of aiogram's own: the poller already runs one chat's updates one
        # after another (bot/channels/ordering.py) and the Processor's unit of work keeps
        # them in order across instances; a lock per update more would only cost time.
        # Nor aiogram's FSM: a dialog's state is the core's, in the database, the same on
        # every channel (handlers/dialog_state.py); resolving an unused FSM context per update
        # would only cost time.
        self.dp = Dispatcher(disable_fsm=True)
        buckets = shared_buckets(deps.db)
        limit = Throttle(settings.throttle_rate, channel="telegram", shared=buckets)
        person = PersonMiddleware(i18n, deps, limit)
        self.dp.message.outer_middleware(person)
        self.dp.callback_query.outer_middleware(person)
        self.dp.errors.outer_middleware(PersonMiddleware(i18n, deps, None))
        self.dp.include_router(build_router(self.channel, i18n))
        self.poller: Poller | None = None
        self._env: ChannelEnv | None = None

    @property
    def transport(self) -> TelegramTransport:
        return self.channel.transport

    async def open(self, env: ChannelEnv) -> None:
        """Meet Telegram (waiting while it cannot be reached) and add the webhook route."""
        self._env = env
        await self.setup(env.stop)
        if self.webhook_mode:
            self.register_webhook(env.web)

    async def start(self) -> None:
        assert self._env is not None, "open() first"
        if self.webhook_mode:
            await self.start_webhook(self._env.stop)
        else:
            self._env.poll(CHANNEL, self.run_polling)

    async def send_pending(self, *, failed_only: bool = False) -> int:
        return await self.channel.send_pending(failed_only=failed_only)

    async def adopt_abandoned(self) -> int:
        """Nothing to adopt: Telegram's webhook is answered only once handled, and polling
        confirms an update to Telegram only once it is stored."""
        return 0

    async def drain(self) -> None:
        if self.poller is not None:
            await self.poller.drain()

    @property
    def webhook_mode(self) -> bool:
        return self.settings.telegram_webhook_url is not None

    @property
    def webhook_path(self) -> str:
        url = self.settings.telegram_webhook_url or ""
        return urlparse(url).path or "/telegram"

    async def setup(self, stop: asyncio.Event | None = None) -> None:
        """Meet Telegram: who the bot is, its command menus, replies a crash left unsent.

        Started during a network outage (a district server after a power cut), it waits and
        tries again with backoff, saying so in the log, until Telegram answers or ``stop`` is
        set; a token Telegram refuses is a configuration error and stops at once.
        """
        await until_reachable("Telegram", self._meet, stop or asyncio.Event())

    async def _meet(self) -> None:
        me = await self.bot.me()
        log.info("Telegram bot @%s (id %s) ready", me.username, me.id)
        username = me.username
        self.conversation.deps.invite_link = lambda code: (
            "Telegram",
            f"https://t.me/{username}?start={code}",
        )
        await self.set_commands()
        await self.channel.send_pending()

    async def set_commands(self) -> None:
        """Command menus in Vietnamese (default) and English; admins also see office commands."""
        public = [
            c
            for c in self.conversation.command_list(OFFICER)
            if GUEST in c.roles or OFFICER in c.roles
        ]
        office = self.conversation.command_list(ADMIN)
        for lang in ("vi", "en"):
            language_code = None if lang == "vi" else "en"
            commands = [
                BotCommand(
                    command=c.name, description=self.i18n.gettext(c.description, locale=lang)[:256]
                )
                for c in public
            ]
            await self.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=language_code
            )
            admin_commands = [
                BotCommand(
                    command=c.name, description=self.i18n.gettext(c.description, locale=lang)[:256]
                )
                for c in office
            ]
            for admin in self.settings.admin_ids:
                try:
                    await self.bot.set_my_commands(
                        admin_commands,
                        scope=BotCommandScopeChat(chat_id=admin),
                        language_code=language_code,
                    )
                except TelegramAPIError as exc:  # the admin has not opened a chat with the bot yet
                    log.info("no command menu for admin %s yet: %s", admin, exc)

    async def run_polling(self, stop: asyncio.Event) -> None:
        await until_reachable(
            "Telegram", lambda: self.bot.delete_webhook(drop_pending_updates=False), stop
        )
        self.poller = Poller(self.bot, self.dp, Inbox(self.conversation.deps.db))
        log.info("Telegram: polling %s", self.settings.telegram_api_base)
        await self.poller.run(stop)

    def register_webhook(self, app: web.Application) -> None:
        secret = self.settings.telegram_webhook_secret
        handler = CarefulRequestHandler(
            self.conversation.deps.db,
            dispatcher=self.dp,
            bot=self.bot,
            secret_token=secret.get_secret_value() if secret else None,
            handle_in_background=False,  # answer 200 only once handled: Telegram retries otherwise
        )
        handler.register(app, path=self.webhook_path)

    async def start_webhook(self, stop: asyncio.Event | None = None) -> None:
        secret = self.settings.telegram_webhook_secret
        url = self.settings.telegram_webhook_url
        assert url is not None
        await until_reachable(
            "Telegram",
            lambda: self.bot.set_webhook(
                url,
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=self.dp.resolve_used_update_types(),
                drop_pending_updates=False,
            ),
            stop or asyncio.Event(),
        )
        log.info("Telegram: webhook at %s", self.webhook_path)

    async def close(self) -> None:
        await self.bot.session.close()
