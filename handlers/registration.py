"""Who may report: invite codes (``/moi``), joining (``/start CODE``), revoking (``/thuhoi``).

An administrator creates a one-time code for a commune (or for office staff); the officer
opens the Telegram deep link or types ``/start CODE`` (or just the code, on Zalo). Commune
names are matched without diacritics and with typos, and the administrator confirms the match.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from babel.dates import format_date

from handlers import basic
from handlers.communes import find_commune
from handlers.core import ADMIN, OFFICER, STAFF, Context, Conversation
from handlers.i18n import N_
from handlers.richtext import Doc, b, it
from handlers.types import Choice
from knowledge.normalize import fold
from storage.invites import InviteRepo
from storage.reports import AuditLog

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and retyped
CODE_LENGTH = 8
_CODE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
ADMINS = frozenset({ADMIN})
STAFF_WORDS = {"van phong", "vanphong", "vp", "vp ntm", "staff", "office", "can bo van phong"}


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(text: str) -> bool:
    return bool(_CODE.match(text.strip().upper()))


def setup(conv: Conversation) -> None:
    conv.command("start", start, N_("Bắt đầu, giới thiệu chức năng"))
    conv.command(
        "moi",
        invite,
        N_("Tạo mã mời cán bộ xã hoặc cán bộ Văn phòng"),
        roles=ADMINS,
        aliases=("invite",),
    )
    conv.command(
        "thuhoi", revoke, N_("Thu hồi quyền của một người dùng"), roles=ADMINS, aliases=("revoke",)
    )
    conv.action("inv", invite_action, roles=ADMINS)
    conv.action("rev", revoke_action, roles=ADMINS)
    previous = conv.fallback

    async def code_or_question(ctx: Context, text: str) -> None:
        if looks_like_code(text) and await InviteRepo(ctx.deps.db).get(text.strip().upper()):
            await join(ctx, text.strip().upper())
        elif previous is not None:
            await previous(ctx, text)

    conv.fallback = code_or_question


async def start(ctx: Context, args: str) -> None:
    code = args.strip().upper()
    if code:
        await join(ctx, code)
        return
    await basic.welcome(ctx)


async def join(ctx: Context, code: str) -> None:
    _ = ctx.tr
    invites = InviteRepo(ctx.deps.db)
    invite = await invites.get(code)
    if invite is None or invite.used_by is not None or invite.expires_at <= ctx.now:
        ctx.reply(
            _(
                "Mã mời “{code}” không đúng, đã được dùng hoặc đã hết hạn. Xin liên hệ Văn "
                "phòng NTM huyện để nhận mã mới.",
                code=code[:20],
            )
        )
        return
    if not await invites.redeem(code, ctx.user.id, ctx.now):
        ctx.reply(_("Mã mời này vừa được dùng. Xin liên hệ Văn phòng NTM huyện."))
        return
    await ctx.deps.users.register(ctx.user.id, invite.role, invite.commune_id)
    await AuditLog(ctx.deps.db).add(
        ctx.user.id,
        "user.register",
        {"role": invite.role, "commune_id": invite.commune_id, "code": code},
        ctx.now,
    )
    refreshed = await ctx.deps.users.get(ctx.user.channel, ctx.user.external_id)
    if refreshed is not None:
        ctx.user = refreshed
        ctx.role = ctx.conv.role_of(refreshed)
    if invite.role == OFFICER:
        commune = await ctx.commune()
        ctx.reply(
            Doc()
            .add(
                b(
                    _(
                        "Đăng ký thành công: bạn là cán bộ xã {commune}.",
                        commune=commune.name if commune else "?",
                    )
                )
            )
            .add(_("Gõ /baocao để báo cáo tiến độ, /cuatoi để xem báo cáo của xã.")),
            basic.main_menu(ctx),
        )
    else:
        ctx.reply(
            Doc()
            .add(b(_("Đăng ký thành công: bạn là cán bộ Văn phòng NTM huyện.")))
            .add(_("Gõ /tonghop để xem tình hình các xã.")),
            basic.main_menu(ctx),
        )


# -- /moi ---------------------------------------------------------------------------------------
async def invite(ctx: Context, args: str) -> None:
    _ = ctx.tr
    wanted = args.strip()
    if not wanted:
        communes = await ctx.deps.communes.all()
        rows = [[Choice(_("Cán bộ Văn phòng NTM"), "inv:staff")]]
        rows += [
            [Choice(c.name, f"inv:ask:{c.id}") for c in communes[i : i + 3]]
            for i in range(0, len(communes), 3)
        ]
        ctx.reply(_("Tạo mã mời cho ai? Chọn xã, hoặc gõ /moi <tên xã>."), rows)
        return
    if fold(wanted) in STAFF_WORDS:
        await _create(ctx, STAFF, None)
        return
    communes = await ctx.deps.communes.all()
    exact, candidates = find_commune(wanted, communes)
    if exact is not None:
        candidates = [exact]
    if not candidates:
        ctx.reply(_("Không tìm thấy xã “{name}” trong danh sách của huyện.", name=wanted[:40]))
        return
    if len(candidates) == 1:
        commune = candidates[0]
        ctx.reply(
            _("Tạo mã mời cho cán bộ xã {commune}?", commune=commune.name),
            [[Choice(_("Tạo mã"), f"inv:c:{commune.id}"), Choice(_("Không"), "inv:no")]],
        )
        return
    ctx.reply(
        _("Ý bạn là xã nào?"),
        [[Choice(c.name, f"inv:c:{c.id}")] for c in candidates[:5]]
        + [[Choice(_("Không phải các xã này"), "inv:no")]],
    )


async def invite_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    parts = action.split(":")
    if parts[1:] == ["staff"]:
        await _create(ctx, STAFF, None)
    elif len(parts) == 3 and parts[1] == "ask" and parts[2].isdigit():
        commune = await ctx.deps.communes.get(int(parts[2]))
        if commune is not None:
            ctx.reply(
                _("Tạo mã mời cho cán bộ xã {commune}?", commune=commune.name),
                [[Choice(_("Tạo mã"), f"inv:c:{commune.id}"), Choice(_("Không"), "inv:no")]],
            )
    elif len(parts) == 3 and parts[1] == "c" and parts[2].isdigit():
        await _create(ctx, OFFICER, int(parts[2]))
    else:
        ctx.reply(_("Đã bỏ, không tạo mã mời."))


async def _create(ctx: Context, role: str, commune_id: int | None) -> None:
    _ = ctx.tr
    commune = await ctx.deps.communes.get(commune_id) if commune_id is not None else None
    if commune_id is not None and commune is None:
        ctx.reply(_("Không tìm thấy xã này."))
        return
    code = new_code()
    expires = ctx.now + ctx.deps.invite_ttl
    await InviteRepo(ctx.deps.db).create(code, role, commune_id, ctx.user.id, ctx.now, expires)
    await AuditLog(ctx.deps.db).add(
        ctx.user.id, "invite.create", {"role": role, "commune_id": commune_id}, ctx.now
    )
    who = (
        _("cán bộ xã {commune}", commune=commune.name)
        if commune is not None
        else _("cán bộ Văn phòng NTM huyện")
    )
    doc = Doc().add(_("Mã mời {who}: ", who=who), b(code))
    doc.add(
        _(
            "Hết hạn ngày {date}; dùng được một lần.",
            date=format_date(expires.date(), "dd/MM/yyyy", locale=ctx.lang),
        )
    )
    if ctx.deps.invite_link is not None:
        channel, link = ctx.deps.invite_link(code)
        doc.add(_("{channel}: gửi đường dẫn {link}", channel=channel, link=link))
    doc.add(_("Hoặc người được mời gõ: /start {code} (trên Zalo có thể chỉ gõ mã).", code=code))
    ctx.reply(doc)


# -- /thuhoi ------------------------------------------------------------------------------------
async def revoke(ctx: Context, args: str) -> None:
    _ = ctx.tr
    users = await ctx.deps.users.registered()
    wanted = fold(args.strip())
    if wanted:
        users = [
            u for u in users if wanted in fold(u.display_name or "") or wanted == u.external_id
        ]
    if not users:
        ctx.reply(_("Không có người dùng nào đã đăng ký phù hợp."))
        return
    rows = [[Choice(await _describe(ctx, u.id) or "?", f"rev:{u.id}")] for u in users[:30]]
    ctx.reply(_("Thu hồi quyền của ai?"), rows)


async def _describe(ctx: Context, user_id: int) -> str | None:
    _ = ctx.tr
    user = await ctx.deps.users.by_id(user_id)
    if user is None:
        return None
    role = _("Văn phòng") if user.role == STAFF else _("cán bộ xã")
    place = ""
    if user.commune_id is not None:
        commune = await ctx.deps.communes.get(user.commune_id)
        place = f" {commune.name}" if commune else ""
    return f"{user.display_name or user.external_id} — {role}{place} ({user.channel})"


async def revoke_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    parts = action.split(":")
    if len(parts) == 2 and parts[1].isdigit():
        described = await _describe(ctx, int(parts[1]))
        if described is None:
            ctx.reply(_("Không tìm thấy người dùng này."))
            return
        ctx.reply(
            _("Thu hồi quyền của {who}?", who=described),
            [[Choice(_("Thu hồi"), f"rev:ok:{parts[1]}"), Choice(_("Không"), "rev:no")]],
        )
    elif len(parts) == 3 and parts[1] == "ok" and parts[2].isdigit():
        user = await ctx.deps.users.by_id(int(parts[2]))
        if user is None or user.role is None:
            ctx.reply(_("Người dùng này không còn quyền nào để thu hồi."))
            return
        detail: dict[str, Any] = {
            "user_id": user.id,
            "role": user.role,
            "commune_id": user.commune_id,
        }
        await ctx.deps.users.revoke(user.id)
        await AuditLog(ctx.deps.db).add(ctx.user.id, "user.revoke", detail, ctx.now)
        ctx.reply(
            _(
                "Đã thu hồi quyền của {name}. Người này vẫn hỏi đáp được nhưng không báo cáo "
                "hay xem số liệu được nữa.",
                name=user.display_name or user.external_id,
            )
        )
    else:
        ctx.reply(it(_("Đã bỏ, không thu hồi.")))
