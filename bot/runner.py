"""``ntm-bot run`` with chat channels: one process serves every configured channel."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import signal
import socket
import sys
import time
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from bot.app import App, open_app, run_console
from bot.channels import enabled_channels, how_to_configure
from bot.channels.base import Channel, ChannelEnv, Poll, SharedClients
from bot.clock import Clock
from bot.settings import Settings
from bot.startup import StartupStopped
from bot.web import WebServer
from storage.db import StorageUnavailable
from storage.timeutil import utc_iso

if TYPE_CHECKING:
    from bot.scheduler import Scheduler
    from bot.sender import Sender

log = logging.getLogger(__name__)
HEALTH_CACHE_SECONDS = 5.0  # /healthz is asked every few seconds: one write per this


class Runtime:
    """Starts the enabled channels, the HTTP server and background jobs; stops them
    gracefully. No platform is named here: each is a :class:`~bot.channels.base.ChannelKind`
    of :data:`~bot.channels.BUILTIN_CHANNELS`."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.stop_event = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.app: App | None = None
        self.channels: dict[str, Channel] = {}
        self.clients: SharedClients | None = None
        self.web = WebServer(settings.webhook_host, settings.webhook_port)
        self._app_context: AbstractAsyncContextManager[App] | None = None
        self.sender: Sender | None = None
        self.scheduler: Scheduler | None = None
        # seconds between looks for replies not sent (failed, or left by an instance that died)
        self.retry_every = settings.reply_retry_seconds
        self._db_health: tuple[float, tuple[bool, str]] | None = None

    async def __aenter__(self) -> Runtime:
        settings = self.settings
        self.app = app = await self._open_app()
        try:
            if settings.instance_id:  # one process per name: refuse to start a second one
                from bot.instance import InstanceGuard

                guard = InstanceGuard(app.db, settings.instance_id)
                await guard.claim()
                self._spawn("instance-name", guard.keep(self.stop_event))
            self.web.add_check("database", self._database_ok)
            self.clients = SharedClients(settings, app.db, app.clock.now)
            env = ChannelEnv(
                settings, app.processor, self.web.app, self.clients, self.stop_event, self._poll
            )
            for kind in enabled_channels(settings):
                self.channels[kind.name] = await kind.open(env)
            links = self.clients.made_links
            if links is not None:
                links.register(self.web.app)
            if settings.web_view_enabled:
                from bot.webview import setup_web_view

                setup_web_view(self.web.app, app.deps, app.conversation, settings)
            else:
                app.deps.web_off = "no_public_url" if settings.web_enabled else "disabled"
            await self.web.start()
            for channel in self.channels.values():
                await channel.start()
            self._start_sending(app)
        except BaseException:
            await self._shutdown()
            raise
        return self

    def channel(self, name: str) -> Channel | None:
        """The opened channel of that name (``None`` when it is not configured)."""
        return self.channels.get(name)

    async def __aexit__(self, *exc: object) -> None:
        await self._shutdown()

    async def _open_app(self) -> App:
        """Open the app; a PostgreSQL server that cannot be reached yet (started after the bot,
        a power cut) is waited for with backoff (1 s doubling to 60 s), stoppable meanwhile."""
        delay = 1.0
        while True:
            self._app_context = open_app(self.settings, clock=self.clock)
            try:
                return await self._app_context.__aenter__()
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

    def _start_sending(self, app: App) -> None:
        """The sender for digests, reminders and announcements, and the scheduler."""
        from bot.scheduler import Scheduler
        from bot.sender import Sender

        transports = {name: channel.transport for name, channel in self.channels.items()}
        self.sender = Sender(
            app.db,
            transports,
            rate=self.settings.send_rate,
            per_chat=self.settings.per_chat_interval,
            now=app.clock.now,
            lease=dt.timedelta(seconds=self.settings.delivery_lease_seconds),
            owner=self._sender_owner(),
        )
        app.deps.on_job_created = self.sender.poke
        self.scheduler = Scheduler(app.deps, self.settings, app.clock, self.sender.poke)
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
        channels = list(self.channels.values())
        shared = self.app.db.dialect.shared
        while not self.stop_event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_event.wait(), timeout=self.retry_every)
            if self.stop_event.is_set():
                return
            for channel in channels if shared else ():
                try:
                    await channel.adopt_abandoned()
                except Exception as exc:  # the database: next round
                    log.warning("looking for abandoned updates failed: %s", exc)
            for channel in channels:
                try:
                    await channel.send_pending(failed_only=False)
                except Exception as exc:  # the database or the network: next round
                    log.warning("retrying unsent replies failed: %s", exc)

    def _poll(self, name: str, poll: Poll) -> None:
        """A channel's polling, by one instance at a time among those sharing the database."""
        from bot.exclusive import poll_exclusively
        from storage.leases import instance_name

        assert self.app is not None
        owner = instance_name(self.settings.instance_id)
        self._spawn(
            f"{name}-polling", poll_exclusively(self.app.db, name, owner, poll, self.stop_event)
        )

    def _spawn(self, name: str, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        task.set_name(name)
        task.add_done_callback(self._job_done)
        self.tasks.append(task)

    def _job_done(self, task: asyncio.Task[None]) -> None:
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
        for channel in self.channels.values():
            with contextlib.suppress(Exception):
                await channel.drain()
        if self.clients is not None:
            await self.clients.close()
            self.clients = None
        if self.app is not None:
            with contextlib.suppress(Exception):
                await self.app.deps.flush()
        for channel in self.channels.values():
            await channel.close()
        self.channels.clear()
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


async def run_all(settings: Settings) -> int:
    """``ntm-bot run``: the configured chat channels, or the terminal when there are none."""
    if not enabled_channels(settings):
        print(
            f"Chưa cấu hình kênh nào ({how_to_configure()}), nên bot chạy ở kênh terminal. "
            "Đặt các biến này trong môi trường hoặc tệp .env (xem .env.example) để chạy trên "
            "Telegram/Zalo.",
            file=sys.stderr,
        )
        return await run_console(settings)
    return await run_channels(settings)
