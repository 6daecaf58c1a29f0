"""``/web``: a one-time link that signs the person in to the office's web view, the browser
sessions they have open, and signing out everywhere. The pages themselves are ``bot/webview``;
here is only what the chat says."""

from __future__ import annotations

import math

from babel.dates import format_datetime

from handlers.core import PEOPLE, Context, Conversation
from handlers.i18n import N_
from handlers.richtext import Doc, b, it
from handlers.types import Choice
from knowledge.normalize import fold
from storage.reports import AuditLog
from storage.web import WebLinkRepo, WebSessionRepo

SIGN_OUT_WORDS = {"dang xuat", "dang xuat moi noi", "logout", "sign out", "thoat"}


def setup(conv: Conversation) -> None:
    conv.command(
        "web",
        web,
        N_("Mở trang tổng hợp trên trình duyệt (đường dẫn dùng một lần)"),
        roles=PEOPLE,
        private_only=True,
    )
    conv.action("web", on_action, roles=PEOPLE, private_only=True)


async def web(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if fold(args).strip() in SIGN_OUT_WORDS:
        await sign_out_everywhere(ctx)
        return
    if ctx.deps.web_url is None:
        if ctx.deps.web_off == "disabled":
            reason = _(
                "Trang web của Trợ lý NTM đã được tắt trên máy chủ này (NTM_WEB_ENABLED=false). "
                "Xin liên hệ quản trị viên."
            )
        else:
            reason = _(
                "Trang web của Trợ lý NTM chưa được bật trên máy chủ này (cần đặt địa chỉ "
                "NTM_PUBLIC_URL). Xin liên hệ quản trị viên."
            )
        ctx.reply(reason)
        return
    token = await WebLinkRepo(ctx.deps.db).create(ctx.user.id, ctx.now, ctx.deps.web_link_ttl)
    await AuditLog(ctx.deps.db).add(ctx.user.id, "web.link", {}, ctx.now)
    minutes = max(1, math.ceil(ctx.deps.web_link_ttl.total_seconds() / 60))
    doc = Doc().add(b(_("Đường dẫn đăng nhập trang tổng hợp:")))
    doc.add(f"{ctx.deps.web_url}/login?t={token}")
    doc.add(
        it(
            _(
                "Dùng được một lần trong {minutes} phút; xin đừng chuyển cho người khác.",
                minutes=minutes,
            )
        )
    )
    sessions = await WebSessionRepo(ctx.deps.db).live(ctx.user.id, ctx.now)
    choices: list[list[Choice]] = []
    if sessions:
        doc.add(_("Bạn đang đăng nhập trang web ở {count} nơi.", count=len(sessions)))
        for session in sessions[:10]:
            seen = format_datetime(
                session.last_seen_at.astimezone(ctx.now.tzinfo), "HH:mm dd/MM/yyyy", locale=ctx.lang
            )
            browser = _browser(session.user_agent) or _("trình duyệt không rõ")
            doc.bullet(_("{browser}, lần cuối {time}", browser=browser, time=seen))
        choices.append([Choice(_("Đăng xuất mọi nơi"), "web:out")])
    ctx.reply(doc, choices, preview=False)  # a preview's fetch must not touch the link


def _browser(agent: str | None) -> str:
    """ "Chrome, Android" from a User-Agent: enough to recognise one's own devices."""
    if not agent:
        return ""
    names = ("Edg", "OPR", "CocCoc", "Firefox", "Chrome", "Safari")
    browser = next((n for n in names if f"{n}/" in agent), "")
    systems = ("Android", "iPhone", "iPad", "Windows", "Mac OS", "Linux")
    system = next((s for s in systems if s in agent), "")
    shown = ", ".join(p for p in (browser.replace("Edg", "Edge"), system) if p)
    return shown or agent[:40]


async def on_action(ctx: Context, action: str) -> None:
    if action == "web:out":
        await sign_out_everywhere(ctx)


async def sign_out_everywhere(ctx: Context) -> None:
    ended = await WebSessionRepo(ctx.deps.db).end_all(ctx.user.id, ctx.now)
    await AuditLog(ctx.deps.db).add(ctx.user.id, "web.sign_out_all", {"ended": ended}, ctx.now)
    ctx.reply(ctx.tr("Đã đăng xuất trang web ở mọi nơi ({count} phiên).", count=ended))
