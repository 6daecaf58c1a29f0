"""``ntm-bot run`` with chat channels: one process serves every configured channel."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.app import App, open_app
from bot.clock import Clock
from bot.settings import Settings
from bot.startup import StartupStopped
from bot.web import WebServer
from handlers.i18n import Catalogs, locales_dir
from storage.db import StorageUnavailable
from storage.timeutil import utc_iso

log = logging.getLogger(__name__)
HEALTH_CACHE_SECONDS = 5.0  # /healthz is asked every few seconds: one write per this


class Runtime:
    """Starts the channels, the HTTP server and background jobs; stops them gracefully."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[Any]] = []
        self.app: App | None = None
        self.telegram: Any = None
        self.zalo_bot: Any = None
        self.zalo_oa: Any = None
        self.http: Any = None  # the aiohttp client session of the Zalo channels
        self.links: Any = None
        self.web = WebServer(settings.webhook_host, settings.webhook_port)
        self._app_context: Any = None
        self.sender: Any = None
        self.scheduler: Any = None
        # seconds between looks for replies not sent (failed, or left by an instance that died)
        self.retry_every = settings.reply_retry_seconds
        self._db_health: tuple[float, tuple[bool, str]] | None = None

    async def __aenter__(self) -> Runtime:
        settings = self.settings
        # aiogram's I18n (its middleware needs it) only when Telegram is on: a deployment
        # without Telegram does not import aiogram at all.
        i18n: Any
        if settings.telegram_enabled:
            from aiogram.utils.i18n import I18n

            i18n = I18n(path=locales_dir(), default_locale=settings.lang, domain="messages")
        else:
            i18n = Catalogs(locales_dir(), default_locale=settings.lang)
        self.app = await self._open_app(i18n)
        try:
            if settings.instance_id:  # one process per name: refuse to start a second one
                from bot.instance import InstanceGuard

                guard = InstanceGuard(self.app.db, settings.instance_id)
                await guard.claim()
                self._spawn("instance-name", guard.keep(self.stop_event))
            self.web.add_check("database", self._database_ok)
            if settings.telegram_enabled:
                from bot.channels.telegram.runtime import TelegramRuntime

                self.telegram = TelegramRuntime(
                    settings, self.app.conversation, self.app.processor, i18n
                )
                await self.telegram.setup(self.stop_event)
                if self.telegram.webhook_mode:
                    self.telegram.register_webhook(self.web.app)
                else:
                    self._spawn(
                        "telegram-polling", self._poll("telegram", self.telegram.run_polling)
                    )
            await self._setup_zalo()
            if settings.web_view_enabled:
                from bot.webview import setup_web_view

                setup_web_view(self.web.app, self.app.deps, self.app.conversation, settings)
            else:
                self.app.deps.web_off = "no_public_url" if settings.web_enabled else "disabled"
            await self.web.start()
            if self.telegram is not None and self.telegram.webhook_mode:
                await self.telegram.start_webhook(self.stop_event)
            await self._start_zalo()
            self._start_sending()
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._shutdown()

    async def _open_app(self, i18n: Any) -> App:
        """Open the app; a PostgreSQL server that cannot be reached yet (started after the bot,
        a power cut) is waited for with backoff (1 s doubling to 60 s), stoppable meanwhile."""
        delay = 1.0
        while True:
            self._app_context = open_app(self.settings, translator=i18n, clock=self.clock)
            try:
                app: App = await self._app_context.__aenter__()
                return app
            except StorageUnavailable as exc:
                self._app_context = None
                if self.settings.postgresql_url is None:
                    raise  # SQLite: a file that cannot be opened will not open by waiting
                log.warning("%s; trying again in %.0f s", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=delay)
            if self.stop_event.is_set():
                raise StartupStopped()
            delay = min(delay * 2, 60.0)

    async def _setup_zalo(self) -> None:
        """Zalo clients, and their webhook routes (added before the server starts)."""
        settings = self.settings
        if not (settings.zalo_bot_enabled or settings.zalo_oa_enabled):
            return
        import aiohttp

        from bot.channels.zalo.runtime import (
            ZaloBotRuntime,
            ZaloOARuntime,
            bot_transport,
            oa_transport,
        )
        from bot.files import FileLinks

        assert self.app is not None
        self.http = aiohttp.ClientSession()
        if settings.public_url:
            self.links = FileLinks(self.app.db, settings.public_url, self.app.clock.now)
            self.links.register(self.web.app)
        if settings.zalo_bot_enabled:
            transport = bot_transport(settings, self.http, self.links)
            self.zalo_bot = ZaloBotRuntime(settings, self.app.processor, transport)
            if self.zalo_bot.webhook_mode:
                self.zalo_bot.register_webhook(self.web.app)
        if settings.zalo_oa_enabled:
            oa = await oa_transport(
                settings, self.app.db, self.http, self.links, self.app.clock.now
            )
            self.zalo_oa = ZaloOARuntime(settings, self.app.processor, oa)
            self.zalo_oa.register_webhook(self.web.app)

    async def _start_zalo(self) -> None:
        if self.zalo_bot is not None:
            if self.zalo_bot.webhook_mode:
                await self.zalo_bot.start_webhook()
            else:
                self._spawn("zalo-bot-polling", self._poll("zalo_bot", self.zalo_bot.run_polling))
        if self.zalo_oa is not None:
            await self.zalo_oa.start()

    def _start_sending(self) -> None:
        """The sender for digests, reminders and announcements, and the scheduler."""
        from bot.scheduler import Scheduler
        from bot.sender import Sender, Transport

        assert self.app is not None
        transports: dict[str, Transport] = {}
        if self.telegram is not None:
            from bot.channels.telegram.transport import TelegramTransport

            transports["telegram"] = TelegramTransport(self.telegram.bot)
        for zalo in (self.zalo_bot, self.zalo_oa):
            if zalo is not None:
                transports[zalo.transport.channel] = zalo.transport
        self.sender = Sender(
            self.app.db,
            transports,
            rate=self.settings.send_rate,
            per_chat=self.settings.per_chat_interval,
            now=self.app.clock.now,
            lease=dt.timedelta(seconds=self.settings.delivery_lease_seconds),
            owner=self._sender_owner(),
        )
        self.app.deps.on_job_created = self.sender.poke
        self.scheduler = Scheduler(self.app.deps, self.settings, self.app.clock, self.sender.poke)
        if transports:
            self._spawn("sender", self.sender.run(self.stop_event))
            self._spawn("scheduler", self.scheduler.run(self.stop_event))
            self._spawn("reply-retry", self._retry_replies())

    def _sender_owner(self) -> str:
        """Whose claims the sender's are. The one bot on a machine (the SQLite default) keeps
        one name, so restarted after a crash it takes its own claims back at once; where
        several instances share a database each claims under its own instance name (that
        of its replies: ``NTM_INSTANCE_ID``, or ``host:pid``, freed once that process is
        gone)."""
        assert self.app is not None
        if self.settings.instance_id or self.app.db.dialect.shared:
            return f"{self.app.deps.instance}:sender"
        return f"{socket.gethostname()}:bot"

    async def _retry_replies(self) -> None:
        """Replies whose sending failed (a long outage, a rate limit) are tried again; where
        instances share the database, Zalo updates a dead instance acknowledged but left
        unhandled are taken over (Telegram's webhook is answered only once handled)."""
        assert self.app is not None
        senders = []
        if self.telegram is not None:
            senders.append(self.telegram.channel.send_pending)
        zalo = [z.service for z in (self.zalo_bot, self.zalo_oa) if z]
        senders += [service.replies.send_pending for service in zalo]
        shared = self.app.db.dialect.shared
        adopters = [service.adopt_abandoned for service in zalo] if shared else []
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=self.retry_every)
            if self.stop_event.is_set():
                return
            for adopt in adopters:
                try:
                    await adopt()
                except Exception as exc:  # the database: next round
                    log.warning("looking for abandoned updates failed: %s", exc)
            for send_pending in senders:
                try:
                    await send_pending(failed_only=False)
                except Exception as exc:  # the database or the network: next round
                    log.warning("retrying unsent replies failed: %s", exc)

    def _poll(self, name: str, poll: Callable[[asyncio.Event], Awaitable[None]]) -> Awaitable[None]:
        """Polling, by one instance at a time among those sharing the database."""
        from bot.exclusive import poll_exclusively
        from storage.leases import instance_name

        assert self.app is not None
        owner = instance_name(self.settings.instance_id)
        return poll_exclusively(self.app.db, name, owner, poll, self.stop_event)

    def _spawn(self, name: str, job: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(job)
        task.set_name(name)
        task.add_done_callback(self._job_done)
        self.tasks.append(task)

    def _job_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        log.error("%s stopped: %s", task.get_name(), task.exception())
        self.stop_event.set()  # a channel that cannot run is fatal: let the supervisor restart us

    async def _database_ok(self) -> tuple[bool, str]:
        """Whether the database takes a write (a read alone says ok on a full disk or a
        read-only file); the answer is kept a few seconds, health checks come often."""
        assert self.app is not None
        now = time.monotonic()
        if self._db_health is not None and now - self._db_health[0] < HEALTH_CACHE_SECONDS:
            return self._db_health[1]
        db = self.app.db
        try:
            async with db.transaction():
                await db.execute(
                    "INSERT INTO scheduler_state (name, value) VALUES ('health', ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (utc_iso(),),
                )
            result = (True, "ok")
        except Exception as exc:  # the answer is the outcome, whatever went wrong
            result = (False, f"degraded: cannot write ({type(exc).__name__})")
        self._db_health = (now, result)
        return result

    async def wait(self) -> None:
        await self.stop_event.wait()

    async def _shutdown(self) -> None:
        self.stop_event.set()
        if self.tasks:
            # Polling loops finish the batch in hand (in-flight handlers drain), then return.
            _, pending = await asyncio.wait(self.tasks, timeout=30)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.tasks.clear()
        await self.web.stop()
        for zalo in (self.zalo_bot, self.zalo_oa):
            if zalo is not None:
                with contextlib.suppress(Exception):
                    await zalo.service.drain()
        if self.http is not None:
            await self.http.close()
            self.http = None
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.app.deps.flush()
        if self.telegram is not None:
            await self.telegram.close()
            self.telegram = None
        if self._app_context is not None:
            context, self._app_context = self._app_context, None
            await context.__aexit__(None, None, None)

    def failed(self) -> bool:
        return any(t.done() and not t.cancelled() and t.exception() for t in self.tasks)


def settle_heap() -> None:
    """Keep what start-up built (aiogram's hundreds of models, the knowledge base, the
    catalogues) out of the garbage collector's full passes: ``gc.freeze()`` after one last
    collection. A full pass over that heap took ~150 ms on the event loop, a stall every
    officer waiting at that moment felt (bench/reports.py); now it walks only what requests
    allocate. Called once by the process that serves, not by each Runtime (tests open many).
    """
    gc.collect()
    gc.freeze()


async def run_channels(settings: Settings) -> int:
    runtime = Runtime(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # also while still waiting for the network
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, runtime.stop_event.set)
    try:
        async with runtime:
            settle_heap()
            log.info("Trợ lý NTM is running; SIGTERM or Ctrl-C stops it gracefully")
            await runtime.wait()
            failed = runtime.failed()
    except StartupStopped:
        log.info("stopped before the channels were up")
        return 0
    return 1 if failed else 0
