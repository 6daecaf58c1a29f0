"""The bot's HTTP server: webhooks of every channel and ``/healthz``, on one port."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot import __version__

log = logging.getLogger(__name__)
HealthCheck = Callable[[], Awaitable[tuple[bool, Any]]]


class WebServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app = web.Application()
        self.app.router.add_get("/healthz", self._health)
        self.checks: dict[str, HealthCheck] = {}
        self._runner: web.AppRunner | None = None

    def add_check(self, name: str, check: HealthCheck) -> None:
        self.checks[name] = check

    async def _health(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = {"version": __version__}
        healthy = True
        for name, check in self.checks.items():
            try:
                ok, detail = await check()
            except Exception as exc:  # a failing check is an unhealthy answer, not a 500
                ok, detail = False, type(exc).__name__
            healthy = healthy and ok
            body[name] = detail
        body["status"] = "ok" if healthy else "degraded"
        return web.json_response(body, status=200 if healthy else 503)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=30)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(
                f"không mở được cổng HTTP {self.host}:{self.port} ({exc.strerror})"
            ) from exc
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("HTTP server on %s:%s (/healthz)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
