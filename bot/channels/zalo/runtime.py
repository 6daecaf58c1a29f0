"""Running the Zalo channels: polling or webhook for the Bot API, webhook for the OA."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web

from bot.backoff import Backoff
from bot.channels.base import ChannelEnv
from bot.channels.throttle import Throttle, shared_buckets
from bot.channels.zalo import bot_api, oa_api
from bot.channels.zalo.bot_api import ZaloBotClient, ZaloBotError, ZaloBotTransport
from bot.channels.zalo.oa_api import TokenKeeper, ZaloOAClient, ZaloOATransport
from bot.channels.zalo.service import ZaloService
from bot.files import FileLinks
from bot.settings import Settings
from bot.uploads import fetch_url
from handlers.core import Processor
from storage.db import StorageError, Store
from storage.inbox import Inbox
from storage.oauth import TokenPair, TokenRepo

log = logging.getLogger(__name__)
POLL_SECONDS = 25
OK = {"message": "ok"}


def bot_transport(
    settings: Settings, session: aiohttp.ClientSession, links: FileLinks | None
) -> ZaloBotTransport:
    assert settings.zalo_bot_token is not None
    client = ZaloBotClient(
        settings.zalo_bot_token.get_secret_value(), settings.zalo_bot_api_base, session
    )
    return ZaloBotTransport(client, links)


async def oa_transport(
    settings: Settings,
    db: Store,
    session: aiohttp.ClientSession,
    links: FileLinks | None,
    now: Any,
) -> ZaloOATransport:
    """The OA transport with its token pair loaded (from the database, else the settings)."""
    assert settings.zalo_oa_access_token is not None and settings.zalo_oa_app_id
    refresh = settings.zalo_oa_refresh_token
    secret = settings.zalo_oa_secret_key
    tokens = TokenKeeper(
        TokenRepo(db, "zalo_oa"),
        TokenPair(
            settings.zalo_oa_access_token.get_secret_value(),
            refresh.get_secret_value() if refresh else None,
            None,
        ),
        session=session,
        oauth_base=settings.zalo_oauth_base,
        app_id=settings.zalo_oa_app_id,
        secret_key=secret.get_secret_value() if secret else None,
        instance=settings.instance_id,
        now=now,
    )
    await tokens.load()
    return ZaloOATransport(ZaloOAClient(settings.zalo_oa_api_base, tokens, session), links)


class ZaloChannel:
    """What both Zalo channels do alike once opened: their service does the work."""

    name: str
    service: ZaloService

    async def send_pending(self, *, failed_only: bool = False) -> int:
        return await self.service.replies.send_pending(failed_only=failed_only)

    async def adopt_abandoned(self) -> int:
        return await self.service.adopt_abandoned()

    async def drain(self) -> None:
        await self.service.drain()

    async def close(self) -> None:
        """Nothing of its own: the HTTP session is the runtime's (shared)."""


class ZaloBotRuntime(ZaloChannel):
    """The Zalo Bot channel, opened (:class:`bot.channels.base.Channel`)."""

    name = bot_api.CHANNEL

    def __init__(
        self, settings: Settings, processor: Processor, transport: ZaloBotTransport
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.client = transport.client
        self.service = ZaloService(
            bot_api.CHANNEL,
            processor,
            transport,
            Inbox(processor.deps.db),
            bot_api.incoming_of,
            bot_api.update_key,
            Throttle(
                settings.throttle_rate,
                channel=bot_api.CHANNEL,
                shared=shared_buckets(processor.deps.db),
            ),
            fetch=partial(
                fetch_url, transport.client.session, allowed_hosts=settings.zalo_file_hosts
            ),
        )
        secret = settings.zalo_bot_webhook_secret
        self._secret = secret.get_secret_value().encode() if secret else b""
        self.backoff = Backoff(min_delay=1.0, max_delay=60.0, factor=1.6, jitter=0.1)
        self._env: ChannelEnv | None = None

    def open(self, env: ChannelEnv) -> None:
        self._env = env
        if self.webhook_mode:
            self.register_webhook(env.web)

    async def start(self) -> None:
        assert self._env is not None, "open() first"
        if self.webhook_mode:
            await self.start_webhook()
        else:
            self._env.poll(self.name, self.run_polling)

    @property
    def webhook_mode(self) -> bool:
        return self.settings.zalo_bot_mode == "webhook"

    def register_webhook(self, app: web.Application) -> None:
        app.router.add_post(self.settings.zalo_webhook_path_bot, self._webhook)

    async def start_webhook(self) -> None:
        """Register the webhook with Zalo when the public address is known."""
        await self.service.replay()
        public = self.settings.public_url
        if not public:
            log.info(
                "Zalo Bot webhook at %s: set it in the Zalo Bot console (or set NTM_PUBLIC_URL "
                "to have it registered at start)",
                self.settings.zalo_webhook_path_bot,
            )
            return
        url = public + self.settings.zalo_webhook_path_bot
        try:
            await self.client.set_webhook(url, self._secret.decode())
            log.info("Zalo Bot webhook registered at %s", url)
        except (ZaloBotError, bot_api.ZaloNetworkError) as exc:
            log.error("could not register the Zalo Bot webhook: %s", exc)

    async def _webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get("X-Bot-Api-Secret-Token", "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("Zalo Bot webhook call with a wrong secret token from %s", request.remote)
            return web.json_response({"ok": False}, status=403)
        try:
            update = bot_api.unwrap(json.loads(await request.read()))
        except ValueError:
            return web.json_response({"ok": False}, status=400)
        if update is None:
            return web.json_response({"ok": True})
        try:
            await self.service.accept(update)
        except StorageError as exc:
            log.error("cannot store a Zalo Bot update (%s); Zalo will deliver it again", exc)
            return web.json_response({"ok": False}, status=503)
        return web.json_response({"ok": True})

    async def run_polling(self, stop: asyncio.Event) -> None:
        await self.service.replay()
        with contextlib.suppress(ZaloBotError, bot_api.ZaloNetworkError):
            await self.client.delete_webhook()  # polling and a webhook exclude each other
        while not stop.is_set():
            updates = await self._fetch(stop)
            if updates is None:
                break
            for update in updates:
                inner = bot_api.unwrap(update) or update
                while True:
                    try:
                        await self.service.accept(inner)
                        break
                    except StorageError as exc:  # keep it in hand until it is stored
                        log.error("cannot store a Zalo Bot update (%s); retrying", exc)
                        await self.backoff.asleep()
        await self.service.drain()

    async def _fetch(self, stop: asyncio.Event) -> list[dict[str, Any]] | None:
        fetch = asyncio.ensure_future(self.client.get_updates(POLL_SECONDS))
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            return None
        stopping.cancel()
        try:
            updates = fetch.result()
        except ZaloBotError as exc:
            if exc.code == 401:
                raise RuntimeError("ZALO_BOT_TOKEN bị từ chối (401): kiểm tra lại token") from None
            log.error(
                "Zalo getUpdates failed (%s); retrying in %.1f s", exc, self.backoff.next_delay
            )
            await self.backoff.asleep()
            return []
        except bot_api.ZaloNetworkError as exc:
            log.error(
                "Zalo getUpdates failed (%s); retrying in %.1f s", exc, self.backoff.next_delay
            )
            await self.backoff.asleep()
            return []
        self.backoff.reset()
        return updates


class ZaloOARuntime(ZaloChannel):
    """The Zalo OA channel, opened (:class:`bot.channels.base.Channel`): webhook only."""

    name = oa_api.CHANNEL

    def __init__(
        self, settings: Settings, processor: Processor, transport: ZaloOATransport
    ) -> None:
        assert settings.zalo_oa_app_id and settings.zalo_oa_signing_secret
        self.settings = settings
        self.app_id = settings.zalo_oa_app_id
        self._secret = settings.zalo_oa_signing_secret
        self.transport = transport
        self.service = ZaloService(
            oa_api.CHANNEL,
            processor,
            transport,
            Inbox(processor.deps.db),
            oa_api.incoming_of,
            oa_api.event_key,
            Throttle(
                settings.throttle_rate,
                channel=oa_api.CHANNEL,
                shared=shared_buckets(processor.deps.db),
            ),
            fetch=partial(
                fetch_url, transport.client.session, allowed_hosts=settings.zalo_file_hosts
            ),
        )

    def register_webhook(self, app: web.Application) -> None:
        app.router.add_post(self.settings.zalo_webhook_path_oa, self._webhook)

    async def start(self) -> None:
        await self.service.replay()

    async def _webhook(self, request: web.Request) -> web.Response:
        """Verify, store, answer 200 at once; the conversation runs afterwards."""
        raw = await request.read()
        header = request.headers.get("X-ZEvent-Signature")
        if not oa_api.signature_ok(raw, header, self.app_id, self._secret):
            log.warning("Zalo OA webhook call with a bad signature from %s", request.remote)
            return web.json_response({"error": 1, "message": "bad signature"}, status=401)
        try:
            event = json.loads(raw)
        except ValueError:
            return web.json_response({"error": 1, "message": "bad JSON"}, status=400)
        try:
            await self.service.accept(event)
        except StorageError as exc:
            log.error("cannot store a Zalo OA event (%s); Zalo will deliver it again", exc)
            return web.json_response({"error": 1, "message": "busy"}, status=503)
        return web.json_response(OK)
