"""Who is looking: sign-in from a chat link, the session cookie, the viewer's current role
checked on every request, sign-out, and the security headers every answer carries."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from handlers.core import GUEST, OFFICE, OFFICER, UNIT, Conversation, Deps
from handlers.reader import OfficeReader
from storage.reports import AuditLog
from storage.users import User
from storage.web import LinkProblem, SignInAttempts, WebLinkRepo, WebSession, WebSessionRepo

log = logging.getLogger(__name__)

COOKIE = "ntm_session"
LANG_COOKIE = "ntm_lang"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Viewer:
    """The signed-in person as of this request: their role as it is now, and a reader in
    their language (today, the time zone) so the pages word figures and dates as the chat
    does."""

    user: User
    session: WebSession
    role: str  # a handlers.core.Role value
    reader: OfficeReader

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE

    @property
    def is_officer(self) -> bool:
        return self.role == OFFICER

    @property
    def is_unit(self) -> bool:
        return self.role == UNIT


class Stop(Exception):
    """Raised by a page to answer with ``response`` at once (not signed in, no access)."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        response = await handler(request)
    except Stop as stop:
        response = stop.response
    except web.HTTPException as exc:
        if request.path.startswith("/web"):
            exc.headers.update(SECURITY_HEADERS)
        raise
    if request.path.startswith("/web"):
        response.headers.update(SECURITY_HEADERS)
    return response


_proxy_warned = False


def client_of(request: web.Request, behind_proxy: bool) -> str:
    """The client's address (the first X-Forwarded-For hop when a proxy is trusted)."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if behind_proxy:
        first = forwarded.split(",")[0].strip()
        if first:
            return first[:64]
    elif forwarded:
        warn_untrusted_proxy(request.remote or "?")
    return (request.remote or "?")[:64]


def warn_untrusted_proxy(address: str) -> None:
    """Requests come through a proxy the bot was not told of: every visitor then has the
    proxy's address, and one stranger's failed sign-ins would lock everyone out. Said once."""
    global _proxy_warned
    if _proxy_warned:
        return
    _proxy_warned = True
    log.warning(
        "web requests come through a proxy (X-Forwarded-For, from %s) but "
        "NTM_WEB_BEHIND_PROXY is not set: every visitor shares the proxy's address for the "
        "sign-in limit, so one stranger's failures would lock the office out. Set "
        "NTM_WEB_BEHIND_PROXY=true behind your reverse proxy.",
        address,
    )


class Auth:
    """Signing in and out, and the viewer of a request."""

    def __init__(
        self,
        deps: Deps,
        conversation: Conversation,
        *,
        lifetime: dt.timedelta,
        secure: bool,
        behind_proxy: bool,
    ) -> None:
        self.deps = deps
        self.conversation = conversation
        self.lifetime = lifetime
        self.secure = secure
        self.behind_proxy = behind_proxy

    def now(self) -> dt.datetime:
        return self.deps.clock.now()

    async def sign_in(
        self, request: web.Request, token: str
    ) -> web.HTTPSeeOther | LinkProblem | str:
        """Open a session from the link's ``token`` (posted by the sign-in page's button) and
        the redirect to the overview; otherwise the problem ("locked": too many failed links
        from here)."""
        db = self.deps.db
        now = self.now()
        client = client_of(request, self.behind_proxy)
        attempts = SignInAttempts(db, limit=10)
        per_link = SignInAttempts(db, limit=3)  # a link tried again and again, from anywhere
        token = token[:100]
        link = "link:" + hashlib.sha256(token.encode()).hexdigest()[:32]
        async with db.transaction():
            if await attempts.locked_until(client, now) is not None:
                return "locked"
            if await per_link.locked_until(link, now) is not None:
                return "locked"
            found = await WebLinkRepo(db).redeem(token, now) if token else LinkProblem.UNKNOWN
            if isinstance(found, LinkProblem):
                await attempts.failed(client, now)
                if token:
                    await per_link.failed(link, now)
                return found
            user = await self.deps.users.by_id(found)
            if user is None or self.conversation.role_of(user) == GUEST:
                return LinkProblem.UNKNOWN
            cookie, _session = await WebSessionRepo(db).open(
                user.id, now, self.lifetime, request.headers.get("User-Agent")
            )
            await AuditLog(db).add(user.id, "web.sign_in", {"client": client}, now)
        response = web.HTTPSeeOther("/web/")
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=int(self.lifetime.total_seconds()),
            path="/web",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )
        return response

    async def viewer(self, request: web.Request) -> Viewer | None:
        """The request's viewer, with their role as it is now (``None``: not signed in, or
        no longer allowed: a revoked person's session is ended here too)."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        now = self.now()
        sessions = WebSessionRepo(self.deps.db)
        session = await sessions.current(token, now)
        if session is None:
            return None
        user = await self.deps.users.by_id(session.user_id)
        role = self.conversation.role_of(user) if user is not None else GUEST
        if user is None or role == GUEST:
            await sessions.end(session.id, now)
            return None
        await sessions.seen(session, now)
        lang = request.cookies.get(LANG_COOKIE) or user.lang or self.deps.default_lang
        lang = lang if lang in ("vi", "en") else self.deps.default_lang
        return Viewer(user, session, role, OfficeReader(self.deps, lang, now))

    async def sign_out(self, request: web.Request, viewer: Viewer) -> bool:
        """End this session if the form carries its CSRF token."""
        form = await request.post()
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent, viewer.session.csrf):
            return False
        await WebSessionRepo(self.deps.db).end(viewer.session.id, self.now())
        return True
