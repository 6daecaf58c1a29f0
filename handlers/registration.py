"""Who may report: invite codes (``/moi``), joining (``/start CODE``), revoking (``/thuhoi``).

An administrator creates a one-time code for a commune, a district unit (its staff see and
mark the unit's tasks) or the office's staff; the officer
opens the Telegram deep link or types ``/start CODE`` (or just the code, on Zalo). Commune
names are matched without diacritics and with typos, and the administrator confirms the match.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date

from handlers import basic, profile
from handlers.actions import Actions
from handlers.broadcast import send_notice
from handlers.communes import find_commune, find_unit
from handlers.core import ADMINS, OFFICER, STAFF, UNIT, Context, Conversation
from handlers.i18n import N_, Tr
from handlers.richtext import Doc, b, it
from handlers.task_view import unit_name
from handlers.types import Choice
from knowledge.normalize import fold
from storage.invites import Invite, InviteAttempts, InviteRepo
from storage.reports import AuditLog
from storage.sending import SendingRepo, SubscriptionRepo
from storage.web import WebSessionRepo

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and retyped
CODE_LENGTH = 8
_CODE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")
STAFF_WORDS = {"van phong", "vanphong", "vp", "vp ntm", "staff", "office", "can bo van phong"}

# -- the invite dialog's buttons (typed: handlers/actions.py) -----------------------------------
INVITES = Actions("inv")


@INVITES.register("staff")
@dataclass(frozen=True)
class AskStaff:
    """Confirm a code for the district office's staff."""


@INVITES.register("s")
@dataclass(frozen=True)
class MakeStaff:
    """Create it (confirmed)."""


@INVITES.register("units")
@dataclass(frozen=True)
class ListUnits:
    """Which district unit."""


@INVITES.register("uask")
@dataclass(frozen=True)
class AskUnit:
    unit: str


@INVITES.register("u")
@dataclass(frozen=True)
class MakeUnit:
    unit: str


@INVITES.register("ask")
@dataclass(frozen=True)
class AskCommune:
    commune_id: int


@INVITES.register("c")
@dataclass(frozen=True)
class MakeCommune:
    commune_id: int


@INVITES.register("no")
@dataclass(frozen=True)
class NoInvite:
    """Changed their mind."""


# -- the revocation dialog's buttons ------------------------------------------------------------
REVOKES = Actions("rev")


@REVOKES.register("who")
@dataclass(frozen=True)
class AskRevoke:
    user_id: int


@dataclass(frozen=True)
class AskRevokeLegacy:
    """``rev:<id>``, the form of the buttons sent before the codec."""

    user_id: int


def _legacy_revoke(action: str) -> AskRevokeLegacy | None:
    found = re.fullmatch(r"rev:(\d+)", action)
    return AskRevokeLegacy(int(found[1])) if found else None


@REVOKES.register("ok")
@dataclass(frozen=True)
class Revoke:
    user_id: int


@REVOKES.register("inv")
@dataclass(frozen=True)
class AskWithdraw:
    code: str


@REVOKES.register("invok")
@dataclass(frozen=True)
class Withdraw:
    code: str


@REVOKES.register("no")
@dataclass(frozen=True)
class NoRevoke:
    """Changed their mind."""


def _inv(action: object) -> str:
    return INVITES.encode(action)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(text: str) -> bool:
    return bool(_CODE.match(text.strip().upper()))


def setup(conv: Conversation) -> None:
    conv.command("start", start, N_("Bắt đầu, giới thiệu chức năng"))
    conv.command(
        "moi",
        invite,
        N_("Tạo mã mời cán bộ xã, đơn vị hoặc Văn phòng"),
        roles=ADMINS,
        aliases=("invite",),
        private_only=True,
    )
    conv.command(
        "thuhoi",
        revoke,
        N_("Thu hồi quyền của người dùng hoặc mã mời chưa dùng"),
        roles=ADMINS,
        aliases=("revoke",),
        private_only=True,
    )
    conv.action("inv", invite_action, roles=ADMINS, private_only=True)
    conv.action("rev", revoke_action, roles=ADMINS, private_only=True)


async def typed_code(ctx: Context, text: str) -> bool:
    """A bare invite code typed (Zalo has no deep links) joins. One that only looks like a
    code joins (and counts as a wrong code) if it has a digit, as every plausible guess has:
    a plain eight-letter word stays a question."""
    code = text.strip().upper()
    if looks_like_code(code) and (
        any(ch.isdigit() for ch in code) or await InviteRepo(ctx.deps.db).get(code)
    ):
        await join(ctx, code)
        return True
    return False


async def start(ctx: Context, args: str) -> None:
    code = args.strip().upper()
    if code:
        await join(ctx, code)
        return
    await basic.welcome(ctx)


async def join(ctx: Context, code: str) -> None:
    _ = ctx.tr
    if ctx.incoming.is_group:
        # Registering here would leave no private chat for reminders, and show the code to all.
        ctx.reply(
            _(
                "Xin đăng ký trong cuộc trò chuyện riêng với bot (không dùng mã mời trong "
                "nhóm): nhắn riêng cho bot rồi gõ /start <mã mời>."
            )
        )
        return
    attempts = InviteAttempts(ctx.deps.db)
    locked = await attempts.locked_until(ctx.user.id, ctx.now)
    if locked is not None:
        ctx.reply(_cooldown_text(ctx, locked))
        return
    invites = InviteRepo(ctx.deps.db)
    invite = await invites.get(code)
    if (
        invite is None
        or invite.used_by is not None
        or invite.revoked
        or invite.expires_at <= ctx.now
    ):
        locked = await attempts.failed(ctx.user.id, ctx.now)
        ctx.reply(
            _(
                "Mã mời “{code}” không đúng, đã được dùng hoặc đã hết hạn. Xin liên hệ Văn "
                "phòng NTM huyện để nhận mã mới.",
                code=code[:20],
            )
        )
        if locked is not None:
            ctx.reply(_cooldown_text(ctx, locked))
        return
    if not await invites.redeem(code, ctx.user.id, ctx.now):
        ctx.reply(_("Mã mời này vừa được dùng. Xin liên hệ Văn phòng NTM huyện."))
        return
    await attempts.succeeded(ctx.user.id)
    if ctx.dialog is not None:  # a dialog begun in the old role or commune does not carry over
        await ctx.end_dialog()
    await ctx.deps.users.register(ctx.user.id, invite.role, invite.commune_id, invite.unit_key)
    await AuditLog(ctx.deps.db).add(
        ctx.user.id,
        "user.register",
        {
            "role": invite.role,
            "commune_id": invite.commune_id,
            "unit": invite.unit_key,
            "code": code,
        },
        ctx.now,
    )
    refreshed = await ctx.deps.users.get(ctx.user.channel, ctx.user.external_id)
    if refreshed is not None:
        ctx.user = refreshed
        ctx.role = ctx.conv.role_of(refreshed)
    needs_name = not ctx.user.full_name
    menu = [] if needs_name else basic.main_menu(ctx)  # the name comes first
    if invite.role == OFFICER:
        commune = await ctx.commune()
        welcome = (
            Doc()
            .add(
                b(
                    _(
                        "Đăng ký thành công: bạn là cán bộ xã {commune}.",
                        commune=commune.name if commune else "?",
                    )
                )
            )
            .add(_("Gõ /baocao để báo cáo tiến độ, /cuatoi để xem báo cáo của xã."))
        )
    elif invite.role == UNIT:
        unit = (
            unit_name(ctx.deps.kb, invite.unit_key, ctx.tr)
            if invite.unit_key and ctx.deps.kb.has_unit(invite.unit_key)
            else "?"
        )
        welcome = (
            Doc()
            .add(b(_("Đăng ký thành công: bạn là cán bộ {unit}.", unit=unit)))
            .add(_("Gõ /viec để xem và cập nhật việc, tiêu chí đơn vị phụ trách."))
        )
    else:
        welcome = (
            Doc()
            .add(b(_("Đăng ký thành công: bạn là cán bộ Văn phòng NTM huyện.")))
            .add(_("Gõ /tonghop để xem tình hình các xã."))
        )
    if needs_name:  # the welcome and the question for the name in one message
        ctx.lead(welcome)
        await ctx.deps.users.mark_name_asked(ctx.user.id)
        await profile.ask_for_name(ctx)
    else:
        ctx.reply(welcome, menu)


def _cooldown_text(ctx: Context, until: dt.datetime) -> str:
    minutes = max(1, math.ceil((until - ctx.now).total_seconds() / 60))
    return ctx.tr(
        "Bạn đã nhập sai mã mời nhiều lần. Để bảo vệ tài khoản, xin thử lại sau {minutes} "
        "phút, hoặc liên hệ Văn phòng NTM huyện.",
        minutes=minutes,
    )


# -- /moi ---------------------------------------------------------------------------------------
async def invite(ctx: Context, args: str) -> None:
    _ = ctx.tr
    await _left_unconfirmed(ctx)
    wanted = args.strip()
    if not wanted:
        communes = await ctx.deps.communes.all()
        rows = [
            [
                Choice(_("Cán bộ Văn phòng NTM"), _inv(AskStaff())),
                Choice(_("Cán bộ một đơn vị của huyện"), _inv(ListUnits())),
            ]
        ]
        rows += [
            [Choice(c.name, _inv(AskCommune(c.id))) for c in communes[i : i + 3]]
            for i in range(0, len(communes), 3)
        ]
        ctx.reply(
            _("Tạo mã mời cho ai? Chọn xã hoặc đơn vị, hoặc gõ /moi <tên xã hoặc đơn vị>."), rows
        )
        return
    if fold(wanted) in STAFF_WORDS:
        _confirm_staff(ctx)
        return
    communes = await ctx.deps.communes.all()
    exact, candidates = find_commune(wanted, communes)
    if exact is not None:
        _confirm_commune(ctx, exact.id, exact.name)
        return
    unit = _unit_named(ctx, wanted)
    if unit is not None:
        _confirm_unit(ctx, unit)
        return
    if not candidates:
        ctx.reply(
            _(
                "Không tìm thấy xã hay đơn vị “{name}” của huyện. Gõ /moi để chọn trong danh sách.",
                name=wanted[:40],
            )
        )
        return
    if len(candidates) == 1:
        _confirm_commune(ctx, candidates[0].id, candidates[0].name)
        return
    ctx.reply(
        _("Ý bạn là xã nào?"),  # a pick leads to the confirmation, as a name typed does
        [[Choice(c.name, _inv(AskCommune(c.id)))] for c in candidates[:5]]
        + [[Choice(_("Không phải các xã này"), _inv(NoInvite()))]],
    )


def _unit_named(ctx: Context, text: str) -> str | None:
    """The one district unit the words name, if its staff can be invited."""
    staffed = {u.key for u in ctx.deps.kb.staffed_units}
    return find_unit(ctx.deps.qa.engine, text, ctx.today, staffed)


def _confirm_commune(ctx: Context, commune_id: int, name: str) -> None:
    _ = ctx.tr
    ctx.reply(
        _("Tạo mã mời cho cán bộ xã {commune}?", commune=name),
        [
            [
                Choice(_("Tạo mã"), _inv(MakeCommune(commune_id))),
                Choice(_("Không"), _inv(NoInvite())),
            ]
        ],
    )


def _confirm_staff(ctx: Context) -> None:
    """The most powerful code: confirmed like the others, and said what it gives."""
    _ = ctx.tr
    ctx.reply(
        Doc()
        .add(_("Tạo mã mời cho cán bộ Văn phòng NTM huyện?"))
        .add(it(_("Người dùng mã này xem được số liệu của mọi xã và báo cáo thay các xã."))),
        [[Choice(_("Tạo mã"), _inv(MakeStaff())), Choice(_("Không"), _inv(NoInvite()))]],
    )


async def _left_unconfirmed(ctx: Context) -> None:
    """A confirmation still waiting when another /moi comes: said, not silently dropped."""
    _ = ctx.tr
    menu = await ctx.deps.menus.get(ctx.user.id)
    for _label, action in menu[0] if menu else []:
        pending = INVITES.decode(action)
        target = None
        if isinstance(pending, MakeCommune):
            commune = await ctx.deps.communes.get(pending.commune_id)
            target = _("cán bộ xã {commune}", commune=commune.name) if commune else None
        elif isinstance(pending, MakeUnit) and ctx.deps.kb.has_unit(pending.unit):
            target = _("cán bộ {unit}", unit=unit_name(ctx.deps.kb, pending.unit, ctx.tr))
        elif isinstance(pending, MakeStaff):
            target = _("cán bộ Văn phòng NTM huyện")
        if target:
            ctx.reply(
                it(
                    _(
                        "Lưu ý: mã mời cho {target} ở tin trước chưa được tạo (chưa bấm “Tạo mã”).",
                        target=target,
                    )
                )
            )
            return


def _confirm_unit(ctx: Context, key: str) -> None:
    _ = ctx.tr
    ctx.reply(
        _("Tạo mã mời cho cán bộ {unit}?", unit=unit_name(ctx.deps.kb, key, ctx.tr)),
        [[Choice(_("Tạo mã"), _inv(MakeUnit(key))), Choice(_("Không"), _inv(NoInvite()))]],
    )


async def invite_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    staffed = {u.key for u in ctx.deps.kb.staffed_units}
    match INVITES.decode(action):
        case AskStaff():
            _confirm_staff(ctx)
        case MakeStaff():
            await _create(ctx, STAFF, None)
        case ListUnits():
            units = ctx.deps.kb.staffed_units
            ctx.reply(
                _("Cán bộ đơn vị nào?"),
                [
                    [Choice(unit_name(ctx.deps.kb, u.key, ctx.tr), _inv(AskUnit(u.key)))]
                    for u in units
                ],
            )
        case AskUnit(unit) if unit in staffed:
            _confirm_unit(ctx, unit)
        case MakeUnit(unit) if unit in staffed:
            await _create(ctx, UNIT, None, unit)
        case AskCommune(commune_id):
            commune = await ctx.deps.communes.get(commune_id)
            if commune is not None:
                _confirm_commune(ctx, commune.id, commune.name)
        case MakeCommune(commune_id):
            await _create(ctx, OFFICER, commune_id)
        case _:
            ctx.reply(_("Đã bỏ, không tạo mã mời."))


async def _create(
    ctx: Context, role: str, commune_id: int | None, unit_key: str | None = None
) -> None:
    _ = ctx.tr
    commune = await ctx.deps.communes.get(commune_id) if commune_id is not None else None
    if commune_id is not None and commune is None:
        ctx.reply(_("Không tìm thấy xã này."))
        return
    code = new_code()
    expires = ctx.now + ctx.deps.invite_ttl
    await InviteRepo(ctx.deps.db).create(
        code, role, commune_id, ctx.user.id, ctx.now, expires, unit_key
    )
    await AuditLog(ctx.deps.db).add(
        ctx.user.id,
        "invite.create",
        {"role": role, "commune_id": commune_id, "unit": unit_key},
        ctx.now,
    )
    if commune is not None:
        who = _("cán bộ xã {commune}", commune=commune.name)
    elif unit_key is not None:
        who = _("cán bộ {unit}", unit=unit_name(ctx.deps.kb, unit_key, ctx.tr))
    else:
        who = _("cán bộ Văn phòng NTM huyện")
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
    """People who have a role, and invite codes nobody has used yet (a leaked code is
    withdrawn here before anyone can use it)."""
    _ = ctx.tr
    users = await ctx.deps.users.registered()
    invites = await InviteRepo(ctx.deps.db).pending(ctx.now)
    wanted = fold(args.strip())
    if wanted:
        users = [
            u
            for u in users
            if wanted in fold(u.display_name or "")
            or wanted in fold(u.full_name or "")
            or wanted == u.external_id
        ]
        invites = [i for i in invites if fold(i.code) == wanted]
    if not users and not invites:
        ctx.reply(_("Không có người dùng đã đăng ký hay mã mời chưa dùng nào phù hợp."))
        return
    rows = [
        [Choice(await _describe(ctx, u.id) or "?", REVOKES.encode(AskRevoke(u.id)))]
        for u in users[:30]
    ]
    for item in invites[:20]:
        rows.append(
            [Choice(await _describe_invite(ctx, item), REVOKES.encode(AskWithdraw(item.code)))]
        )
    ctx.reply(_("Thu hồi quyền của ai, hoặc mã mời nào?"), rows)


async def _describe(ctx: Context, user_id: int) -> str | None:
    _ = ctx.tr
    user = await ctx.deps.users.by_id(user_id)
    if user is None:
        return None
    role = _("Văn phòng") if user.role == STAFF else _("cán bộ xã")
    place = ""
    if user.role == UNIT and user.unit_key and ctx.deps.kb.has_unit(user.unit_key):
        role = _("cán bộ {unit}", unit=unit_name(ctx.deps.kb, user.unit_key, ctx.tr))
    elif user.commune_id is not None:
        commune = await ctx.deps.communes.get(user.commune_id)
        place = f" {commune.name}" if commune else ""
    return f"{user.name_and_position} — {role}{place} ({user.channel})"


async def _describe_invite(ctx: Context, item: Invite) -> str:
    _ = ctx.tr
    commune = await ctx.deps.communes.get(item.commune_id) if item.commune_id else None
    if commune is not None:
        who = _("xã {commune}", commune=commune.name)
    elif item.unit_key and ctx.deps.kb.has_unit(item.unit_key):
        who = unit_name(ctx.deps.kb, item.unit_key, ctx.tr)
    else:
        who = _("Văn phòng")
    until = format_date(item.expires_at.astimezone(ctx.now.tzinfo).date(), "dd/MM", locale=ctx.lang)
    return _("Mã mời {code} — {who}, hạn {date}", code=item.code, who=who, date=until)


async def revoke_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    match REVOKES.decode(action) or _legacy_revoke(action):
        case AskRevoke(user_id) | AskRevokeLegacy(user_id):
            described = await _describe(ctx, user_id)
            if described is None:
                ctx.reply(_("Không tìm thấy người dùng này."))
                return
            yes = Choice(_("Thu hồi"), REVOKES.encode(Revoke(user_id)))
            ctx.reply(
                _("Thu hồi quyền của {who}?", who=described),
                [[yes, Choice(_("Không"), REVOKES.encode(NoRevoke()))]],
            )
        case Revoke(user_id):
            await _revoke_user(ctx, user_id)
        case AskWithdraw(code):
            item = await InviteRepo(ctx.deps.db).get(code)
            if item is None or item.used_by is not None or item.revoked:
                ctx.reply(_("Mã mời này đã được dùng hoặc đã bị thu hồi."))
                return
            described = await _describe_invite(ctx, item)
            yes = Choice(_("Thu hồi"), REVOKES.encode(Withdraw(item.code)))
            ctx.reply(
                _("Thu hồi {invite}? Mã sẽ không dùng được nữa.", invite=described),
                [[yes, Choice(_("Không"), REVOKES.encode(NoRevoke()))]],
            )
        case Withdraw(code):
            if not await InviteRepo(ctx.deps.db).withdraw(code, ctx.user.id, ctx.now):
                ctx.reply(_("Mã mời này đã được dùng hoặc đã bị thu hồi."))
                return
            await AuditLog(ctx.deps.db).add(ctx.user.id, "invite.revoke", {"code": code}, ctx.now)
            ctx.reply(_("Đã thu hồi mã mời {code}: mã này không dùng được nữa.", code=code))
        case _:
            ctx.reply(it(_("Đã bỏ, không thu hồi.")))


async def _revoke_user(ctx: Context, user_id: int) -> None:
    """Take the role away and everything that came with it: the person's own digest
    subscription and what is still waiting to be sent to them. They are told."""
    _ = ctx.tr
    deps = ctx.deps
    user = await deps.users.by_id(user_id)
    if user is None or user.role is None:
        ctx.reply(_("Người dùng này không còn quyền nào để thu hồi."))
        return
    await deps.users.revoke(user.id)
    web_sessions = await WebSessionRepo(deps.db).end_all(user.id, ctx.now)  # at once
    # An open dialog is ended (with a word of why) at the person's next message: every step
    # re-checks the current role (core.Conversation._end_disallowed_dialog).
    unsubscribed = await SubscriptionRepo(deps.db).remove_private(user.channel, user.chat_id)
    sending = SendingRepo(deps.db)
    cancelled = await sending.cancel_for(user.id, user.channel, user.chat_id)
    detail: dict[str, Any] = {
        "user_id": user.id,
        "role": user.role,
        "commune_id": user.commune_id,
        "unsubscribed": unsubscribed,
        "cancelled_deliveries": cancelled,
        "web_sessions_ended": web_sessions,
    }
    await AuditLog(deps.db).add(ctx.user.id, "user.revoke", detail, ctx.now)
    tr = Tr(deps.translator, user.lang or deps.default_lang)
    notice = tr(
        "Quyền cán bộ của bạn trên Trợ lý NTM đã được Văn phòng NTM huyện thu hồi. "
        "Bạn vẫn hỏi đáp về Kế hoạch được. Nếu cần, xin liên hệ Văn phòng."
    )
    key = f"revoked:{user.id}:{ctx.now.isoformat()}"
    title = tr("Thông báo thu hồi quyền")
    await send_notice(deps, user, key, title, [notice], ctx.now, ctx.user.id)
    ctx.reply(
        _(
            "Đã thu hồi quyền của {name}. Người này vẫn hỏi đáp được nhưng không báo cáo "
            "hay xem số liệu được nữa; bản tin gửi riêng cho họ đã dừng.",
            name=user.name,
        )
    )
