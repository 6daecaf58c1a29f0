"""The office's web view: the district at a glance in a browser, served by the bot's own HTTP
server under ``/web`` and signed in from the chat (``/web`` sends a one-time link).

Server-rendered (Jinja2, autoescaped), no JavaScript: sorting and paging are links. Every
page checks the viewer's current role, as every chat step does.
"""

from __future__ import annotations

import datetime as dt
import logging
from importlib import resources

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.settings import Settings
from bot.webview.auth import Auth, security_headers
from bot.webview.dossiers import add_dossier_routes
from bot.webview.pages import Pages
from handlers.core import Conversation, Deps

PREFIX = "/web"
log = logging.getLogger(__name__)


def setup_web_view(
    app: web.Application, deps: Deps, conversation: Conversation, settings: Settings
) -> Pages:
    """Add the pages to the bot's HTTP server (before it starts) and tell the chat where
    sign-in links point."""
    assert settings.public_url is not None
    public = settings.public_url.rstrip("/")
    auth = Auth(
        deps,
        conversation,
        lifetime=dt.timedelta(hours=settings.web_session_hours),
        secure=public.startswith("https://"),
        behind_proxy=settings.web_behind_proxy,
    )
    pages = Pages(auth)
    local = settings.webhook_host in ("127.0.0.1", "localhost", "::1")
    if public.startswith("https://") and local and not settings.web_behind_proxy:
        # https served on loopback: a reverse proxy terminates TLS in front of the bot
        log.warning(
            "NTM_PUBLIC_URL is https and the bot listens on %s: if a reverse proxy forwards "
            "to it, set NTM_WEB_BEHIND_PROXY=true (otherwise every visitor shares the proxy's "
            "address for the sign-in limit)",
            settings.webhook_host,
        )
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("bot.webview", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.middlewares.append(security_headers)
    static = resources.files("bot.webview").joinpath("static")
    routes = [
        web.get(f"{PREFIX}/login", pages.login_page),
        web.post(f"{PREFIX}/login", pages.login),
        web.post(f"{PREFIX}/dang-xuat", pages.sign_out),
        web.get(f"{PREFIX}/lang/{{lang}}", pages.switch_lang),
        web.get(f"{PREFIX}/", pages.overview),
        web.get(f"{PREFIX}/chart.png", pages.chart),
        web.get(f"{PREFIX}/xa/{{id}}", pages.commune),
        web.get(f"{PREFIX}/anh/{{id}}", pages.photo),
        web.get(f"{PREFIX}/anh/{{id}}/{{size:nho}}", pages.photo),
        web.get(f"{PREFIX}/viec", pages.tasks),
        web.get(f"{PREFIX}/gui", pages.sending),
        web.get(f"{PREFIX}/tai/{{kind}}", pages.download),
        web.static(f"{PREFIX}/static", str(static)),
    ]
    app.add_routes(routes)
    dossiers = add_dossier_routes(app, pages, PREFIX)

    async def stop_builds(_app: web.Application) -> None:
        await dossiers.close()

    app.on_cleanup.append(stop_builds)
    app.router.add_get(PREFIX, _redirect_home)
    deps.web_url = f"{public}{PREFIX}"
    deps.web_link_ttl = dt.timedelta(minutes=settings.web_link_minutes)
    return pages


async def _redirect_home(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(f"{PREFIX}/")
