"""Assembly: settings → database, plan data, conversation core → channels."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.channels import admin_identities
from bot.clock import Clock
from bot.sender import Sender
from bot.settings import Settings
from bot.web import WebServer
from handlers import (
    appraisal,
    basic,
    browse,
    office,
    paging,
    profile,
    registration,
    subscriptions,
    tasks,
    web_access,
)
from handlers.core import Conversation, Deps, Processor
from handlers.i18n import Catalogs, Translator
from handlers.reporting import ReportDialog
from knowledge.base import KnowledgeBase
from knowledge.loader import load_knowledge
from storage.db import Database, Store
from storage.leases import instance_name
from storage.migrate import migrate
from storage.photo_check import Limits

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    clock: Clock
    db: Store
    kb: KnowledgeBase
    deps: Deps
    conversation: Conversation
    processor: Processor


def build_conversation(deps: Deps) -> Conversation:
    conversation = Conversation(deps)
    for module in (
        basic,
        paging,
        browse,
        registration,
        office,
        subscriptions,
        profile,
        tasks,
        web_access,
        appraisal,
    ):
        module.setup(conversation)
    reports = ReportDialog()
    reports.setup(conversation)
    # Free text that no command, button or open dialog took, in this order:
    conversation.free_text = [
        reports.by_words,  # "báo cáo BHYT" begins that form
        registration.typed_code,  # a bare invite code joins
        basic.question,  # anything else is a question about the plan
    ]
    return conversation


async def open_database(settings: Settings) -> Store:
    """The configured engine, open: PostgreSQL for ``NTM_DATABASE_URL=postgresql://…``, else
    the embedded SQLite file (``NTM_DB_PATH``, or ``sqlite:///path``)."""
    url = settings.postgresql_url
    if url is not None:
        from storage.pg import PgDatabase

        return await PgDatabase(url).open()
    return await Database(settings.sqlite_path).open()


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    translator: Translator | None = None,
    clock: Clock | None = None,
    extra_admins: set[tuple[str, str]] | None = None,
) -> AsyncIterator[App]:
    """Open the database (migrated), load the plan and build the conversation core."""
    kb = load_knowledge(settings.knowledge_dir)
    clock = clock or Clock(settings.tz, settings.today)
    db = await open_database(settings)
    try:
        await migrate(db)
        from storage.communes import CommuneRepo

        await CommuneRepo(db).sync((c.code, c.name, c.kind) for c in kb.communes.communes)
        deps = Deps(
            kb=kb,
            translator=translator or Catalogs(default_locale=settings.lang),
            db=db,
            clock=clock,
            admins=frozenset(admin_identities(settings) | (extra_admins or set())),
            default_lang=settings.lang,
            dialog_ttl=dt.timedelta(hours=settings.dialog_ttl_hours),
            invite_ttl=dt.timedelta(days=settings.invite_ttl_days),
            instance=instance_name(settings.instance_id),
            reply_lease=dt.timedelta(seconds=settings.reply_lease_seconds),
            upload_limits=Limits(
                max_bytes=settings.upload_max_mb * 1024 * 1024,
                max_pixels=settings.upload_max_megapixels * 1_000_000,
            ),
        )
        conversation = build_conversation(deps)
        yield App(settings, clock, db, kb, deps, conversation, Processor(conversation))
    finally:
        await db.close()


async def run_console(
    settings: Settings, *, user: str = "local", admin: bool = True, lang: str | None = None
) -> int:
    from bot.channels.console import CHANNEL, ConsoleChannel

    if "log_level" not in settings.model_fields_set:
        # The terminal is the conversation: the log says only what went wrong there, unless
        # NTM_LOG_LEVEL asks for more (the database being created is no news to the user).
        logging.getLogger().setLevel(logging.WARNING)
    admins = {(CHANNEL, user)} if admin else set()
    async with open_app(settings, extra_admins=admins) as app:
        if lang is not None:
            account = await app.deps.users.ensure(CHANNEL, user, chat_id=user)
            await app.deps.users.set_lang(account.id, lang)
        web = await _local_web_view(settings, app)
        console = ConsoleChannel(app.processor, user=user, files_dir=Path("ntm-files"))
        # Send-outs (a dossier built in the background, an announcement) reach the terminal
        # through the sender, as they reach the chat apps.
        sender = Sender(app.db, {CHANNEL: console}, rate=50, per_chat=0, now=app.clock.now)
        app.deps.on_job_created = sender.poke
        stop = asyncio.Event()
        sending = asyncio.create_task(sender.run(stop, idle=1.0))
        try:
            return await console.run()
        finally:
            async with asyncio.timeout(120):  # what was asked for is still shown
                await appraisal.finish_builds()
            stop.set()
            await sending
            await sender.drain()
            if web is not None:
                await web.stop()


async def _local_web_view(settings: Settings, app: App) -> WebServer | None:
    """The office's web pages beside the terminal channel, on this machine only
    (127.0.0.1; ``NTM_PUBLIC_URL`` if set, else the local address), so the first day's user
    sees them too: ``/web`` gives the sign-in link."""
    if not settings.web_enabled:
        app.deps.web_off = "disabled"
        return None
    from bot.webview import setup_web_view

    port = _free_port("127.0.0.1", settings.webhook_port)
    public = settings.public_url or f"http://127.0.0.1:{port}"
    web = WebServer("127.0.0.1", port)
    local = settings.model_copy(update={"public_url": public, "webhook_host": "127.0.0.1"})
    setup_web_view(web.app, app.deps, app.conversation, local)
    try:
        await web.start()
    except OSError as exc:
        log.warning("%s: trang web không chạy cùng kênh terminal", exc)
        app.deps.web_url, app.deps.web_off = None, "no_public_url"
        return None
    print(f"Trang web của Văn phòng: {public}/web (gõ /web để nhận đường dẫn đăng nhập)")
    return web


def _free_port(host: str, wanted: int) -> int:
    """``wanted`` if nothing listens there, else one the system gives (a second terminal
    beside a running bot)."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, wanted))
            return wanted
        except OSError:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])
