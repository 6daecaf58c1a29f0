"""People have names: full name and position, asked at registration, corrected with /toi.

The office sees who reported, not "1001 (console)": the name and position appear in /xa,
exports, /thuhoi and the audit log. A registered person without a name is asked once, after
their next message is answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from handlers.actions import Actions
from handlers.core import OFFICER, PEOPLE, STAFF, UNIT, Context, Conversation
from handlers.dialog_state import DialogState
from handlers.i18n import N_
from handlers.richtext import Doc, b, it
from handlers.task_view import unit_name
from handlers.types import Choice
from knowledge.normalize import clean, fold
from storage.reports import AuditLog

MAX_NAME = 80
MAX_POSITION = 120
SKIP = {"bo qua", "-", "khong", "skip", "khong co"}
YES = {"dung", "ok", "co", "dong y", "luu", "yes", "1"}
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


class Verb(StrEnum):
    EDIT = "edit"
    OK = "ok"
    REDO = "redo"


class ProfileStep(StrEnum):
    NAME = "name"
    POSITION = "position"
    CONFIRM = "confirm"


class ProfileState(DialogState):
    """One's name and position being entered (at registration, or with /toi)."""

    kind: ClassVar[str] = "profile"
    step: ProfileStep = ProfileStep.NAME
    name: str | None = None
    position: str | None = None


PROFILE = Actions("prof")


@PROFILE.register()
@dataclass(frozen=True)
class Step:
    verb: Verb


def setup(conv: Conversation) -> None:
    conv.command(
        "toi",
        me,
        N_("Thông tin của bạn: họ tên, chức vụ (để sửa)"),
        roles=PEOPLE,
        aliases=("me",),  # "/hoso" is the office's dossier; for others, this page
        private_only=True,
    )
    conv.action("prof", on_action, roles=PEOPLE, private_only=True)
    conv.dialog(ProfileDialog())
    conv.after(ask_name_once)


async def ask_for_name(ctx: Context) -> None:
    """Begin the name dialog (after registering, or when the person has none yet)."""
    _ = ctx.tr
    await ctx.set_dialog(ProfileState())
    ctx.reply(
        Doc()
        .add(b(_("Xin cho biết họ và tên của bạn")))
        .add(it(_("Ví dụ: Nguyễn Văn An. Văn phòng NTM huyện sẽ thấy tên này ở các báo cáo.")))
    )


async def ask_name_once(ctx: Context) -> None:
    """A registered person with no name is asked once, after their message was answered."""
    user = ctx.user
    if (
        ctx.role not in (OFFICER, STAFF, UNIT)
        or user.full_name
        or user.name_asked_at
        or ctx.dialog is not None
        or ctx.incoming.is_group
    ):
        return
    await ctx.deps.users.mark_name_asked(user.id)
    ctx.lead(
        it(ctx.tr("Văn phòng NTM huyện cần biết ai gửi báo cáo (gõ /huy để để sau, /toi để nhập)."))
    )
    await ask_for_name(ctx)


async def me(ctx: Context, args: str) -> None:
    _ = ctx.tr
    user = ctx.user
    doc = Doc().add(b(_("Thông tin của bạn")))
    doc.add(_("Họ tên: "), b(user.full_name or _("(chưa có)")))
    doc.add(_("Chức vụ: "), b(user.position or _("(chưa có)")))
    if ctx.is_officer:
        commune = await ctx.commune()
        doc.add(_("Cán bộ xã: "), b(commune.name if commune else "?"))
    elif ctx.is_unit and user.unit_key is not None:
        doc.add(_("Cán bộ đơn vị: "), b(unit_name(ctx.deps.kb, user.unit_key, ctx.tr)))
    elif ctx.is_office:
        doc.add(_("Cán bộ Văn phòng NTM huyện"))
    ctx.reply(doc, [[Choice(_("Sửa họ tên, chức vụ"), PROFILE.encode(Step(Verb.EDIT)))]])


async def on_action(ctx: Context, action: str) -> None:
    chosen = PROFILE.decode(action)
    verb = chosen.verb if isinstance(chosen, Step) else None
    if verb in (Verb.EDIT, Verb.REDO):
        await ask_for_name(ctx)
    elif verb is Verb.OK:
        await _save(ctx)
    else:
        ctx.reply(ctx.tr("Lựa chọn này không còn hiệu lực. Gõ /toi để bắt đầu lại."))


async def _save(ctx: Context) -> None:
    _ = ctx.tr
    state = ctx.dialog_state(ProfileState)
    name = state.name if state is not None else None
    if state is None or not name:
        ctx.reply(_("Không có thông tin nào đang chờ lưu. Gõ /toi để sửa họ tên."))
        return
    position = state.position or None
    before = {"full_name": ctx.user.full_name, "position": ctx.user.position}
    await ctx.deps.users.set_profile(ctx.user.id, name, position)
    await AuditLog(ctx.deps.db).add(
        ctx.user.id,
        "user.profile",
        {"before": before, "after": {"full_name": name, "position": position}},
        ctx.now,
    )
    await ctx.end_dialog()
    shown = f"{name} ({position})" if position else name
    ctx.reply(_("Đã lưu: {who}. Gõ /toi nếu cần sửa.", who=shown))


def _a_question(ctx: Context, typed: str) -> bool:
    """A question typed where a name is asked ("ai phụ trách tiêu chí 17.4?", "tiêu chí xã
    5"): a question mark, or a number the question engine reads as a criterion named as such
    ("tiêu chí 5") or with a question word ("hạn"). Anything else, a stray number included,
    is left to the name check (a loose topic match is no sign: "Cán bộ 12" matches one)."""
    if "?" in typed:
        return True
    if not any(ch.isdigit() for ch in typed) or not _LETTERS.search(typed):
        return False
    found = ctx.deps.qa.engine.analyze(typed, ctx.today)
    return any(code.explicit for code in found.codes) or bool(found.cues)


class ProfileDialog:
    state = ProfileState

    def allows(self, ctx: Context) -> bool:
        return ctx.role in PEOPLE

    async def on_text(self, ctx: Context, text: str) -> None:
        _ = ctx.tr
        state = ctx.dialog_state(ProfileState)
        typed = clean(ctx.incoming.text or text)
        if state is None:
            await ask_for_name(ctx)
        elif state.step is ProfileStep.NAME:
            if _a_question(ctx, typed):  # answered; the name is still awaited
                from handlers.basic import ask

                await ask(ctx, typed)
                ctx.reply(it(_("Xin cho biết họ và tên của bạn (gõ /huy để để sau).")))
                return
            if not 2 <= len(typed) <= MAX_NAME or not _LETTERS.search(typed) or typed[0].isdigit():
                ctx.reply(
                    _(
                        "Xin nhập họ và tên bằng chữ (2–{limit} ký tự), ví dụ Nguyễn Văn An.",
                        limit=MAX_NAME,
                    )
                )
                return
            state.step, state.name = ProfileStep.POSITION, typed
            await ctx.set_dialog(state)
            ctx.reply(
                Doc()
                .add(b(_("Chức vụ của bạn là gì?")))
                .add(it(_("Ví dụ: Công chức Văn hóa - Xã hội. Gõ “bỏ qua” nếu không muốn ghi.")))
            )
        elif state.step is ProfileStep.POSITION:
            if fold(typed) in SKIP:
                typed = ""
            elif len(typed) > MAX_POSITION:
                ctx.reply(
                    _("Chức vụ dài quá {limit} ký tự; xin viết ngắn hơn.", limit=MAX_POSITION)
                )
                return
            state.step, state.position = ProfileStep.CONFIRM, typed
            await ctx.set_dialog(state)
            await self.remind(ctx)
        elif fold(typed) in YES:  # at the confirmation
            await _save(ctx)
        else:
            await ask_for_name(ctx)

    async def on_expired(self, ctx: Context) -> None:
        ctx.reply(ctx.tr("Phần nhập họ tên trước đã hết hạn; gõ /toi để nhập lại."))

    async def remind(self, ctx: Context) -> None:
        _ = ctx.tr
        state = ctx.dialog_state(ProfileState)
        if state is None or state.step is not ProfileStep.CONFIRM:
            ctx.reply(
                it(
                    _("Chức vụ của bạn là gì?")
                    if state is not None and state.step is ProfileStep.POSITION
                    else _("Xin cho biết họ và tên của bạn")
                )
            )
            return
        doc = Doc().add(b(_("Kiểm tra lại")))
        doc.add(_("Họ tên: "), b(state.name or ""))
        doc.add(_("Chức vụ: "), b(state.position or _("(không ghi)")))
        ctx.reply(
            doc,
            [
                [
                    Choice(_("Đúng, lưu lại"), PROFILE.encode(Step(Verb.OK))),
                    Choice(_("Nhập lại"), PROFILE.encode(Step(Verb.REDO))),
                ]
            ],
        )
