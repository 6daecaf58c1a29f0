"""Welcome, help, language, cancel, and free-text questions."""

from __future__ import annotations

from handlers import paging
from handlers.core import Context, Conversation, supported_lang
from handlers.i18n import N_
from handlers.menu_actions import (
    DUE,
    LANG,
    LEVELS,
    MENU,
    UNITS,
    AllUnits,
    Due,
    Language,
    OpenCommand,
)
from handlers.richtext import Doc, b
from handlers.task_view import unit_name
from handlers.types import Choice


def setup(conv: Conversation) -> None:
    conv.command("start", start, N_("Bắt đầu, giới thiệu chức năng"))
    conv.command(
        "help", help_command, N_("Hướng dẫn và câu hỏi mẫu"), aliases=("trogiup", "huongdan")
    )
    conv.command(
        "lang",
        lang_command,
        N_("Đổi ngôn ngữ (Tiếng Việt / English)"),
        aliases=("ngonngu", "language"),
    )
    conv.command("huy", cancel, N_("Hủy thao tác đang làm"), aliases=("cancel", "thoat"))
    conv.action("lang", lang_action)
    conv.action("menu", menu_action)


async def question(ctx: Context, text: str) -> bool:
    """Free text nothing else took is a question about the plan (the last free-text
    handler: it answers everything)."""
    await ask(ctx, text)
    return True


async def ask(ctx: Context, text: str) -> None:
    """Free text is a question about the plan (or "thêm": the rest of the last answer)."""
    if await paging.go_on(ctx, text):
        return
    answer = await paging.answer_for(ctx, text, ctx.lang if ctx.lang_explicit else None)
    paging.show(ctx, text, answer)  # a phone screen first, the rest behind "Xem thêm"


def main_menu(ctx: Context) -> list[list[Choice]]:
    _ = ctx.tr
    rows = [
        [Choice(_("Tiêu chí"), LEVELS.prefix), Choice(_("Đơn vị"), UNITS.encode(AllUnits()))],
        [Choice(_("Hạn chót"), DUE.encode(Due("next")))],
    ]
    if ctx.is_officer or ctx.is_office:
        rows[1].append(Choice(_("Báo cáo"), MENU.encode(OpenCommand("baocao"))))
    if ctx.is_unit:
        rows[1].append(Choice(_("Việc của đơn vị"), MENU.encode(OpenCommand("viec"))))
    if ctx.is_office:
        rows.append([Choice(_("Tổng hợp"), MENU.encode(OpenCommand("tonghop")))])
    return rows


async def welcome(ctx: Context) -> None:
    _ = ctx.tr
    kb = ctx.deps.kb
    doc = Doc().add(
        b(_("Xin chào! Tôi là Trợ lý NTM của huyện {district}.", district=kb.meta.district))
    )
    doc.add(
        _(
            "Tôi trả lời câu hỏi về Kế hoạch xây dựng nông thôn mới: tiêu chí nào do đơn vị nào "
            "phụ trách, mỗi đơn vị phải làm gì, thời hạn nào sắp đến."
        )
    )
    if ctx.is_officer:
        commune = await ctx.commune()
        name = commune.name if commune else "?"
        doc.add(
            _(
                "Bạn là cán bộ của xã {commune}: gõ /baocao để báo cáo tiến độ, /cuatoi để xem "
                "các báo cáo đã gửi.",
                commune=name,
            )
        )
    elif ctx.is_unit and ctx.user.unit_key is not None:
        doc.add(
            _(
                "Bạn là cán bộ {unit}: gõ /viec để xem và cập nhật việc, tiêu chí đơn vị "
                "phụ trách.",
                unit=unit_name(kb, ctx.user.unit_key, ctx.tr),
            )
        )
    elif ctx.is_office:
        doc.add(
            _(
                "Bạn là cán bộ Văn phòng NTM huyện: /tonghop xem tình hình các xã, /xa <tên xã> "
                "xem chi tiết một xã, /xuat tải báo cáo."
            )
        )
        if ctx.is_admin:
            doc.add(
                _(
                    "Quản trị: /moi <tên xã hoặc đơn vị> tạo mã mời, /thuhoi thu hồi quyền, "
                    "/thongbao gửi thông báo."
                )
            )
    else:
        doc.add(
            _("Cán bộ xã muốn báo cáo: xin Văn phòng NTM huyện cấp mã mời, rồi gõ /start <mã mời>.")
        )
    doc.add(_("Cứ gõ câu hỏi, ví dụ: “ai phụ trách tiêu chí 17.4”, “hạn BHYT”."))
    ctx.reply(doc, main_menu(ctx))


async def start(ctx: Context, args: str) -> None:
    await welcome(ctx)


async def help_command(ctx: Context, args: str) -> None:
    _ = ctx.tr
    doc = Doc().add(b(_("Hướng dẫn sử dụng")))
    doc.add(_("Gõ câu hỏi bằng tiếng Việt (có dấu hoặc không dấu) hoặc tiếng Anh. Ví dụ:"))
    for example in (
        _("ai phụ trách tiêu chí 17.4"),
        _("hạn BHYT"),
        _("Phòng Tư pháp phụ trách gì"),
        _("việc đến hạn tháng 11"),
        _("tiêu chí 6 cấp huyện"),
        _("who is responsible for clean water"),
    ):
        doc.bullet(example)
    doc.add(b(_("Các lệnh:")))
    for spec in ctx.conv.command_list(ctx.role):
        doc.add(f"/{spec.name} — {_(spec.description)}")
    ctx.reply(doc, main_menu(ctx))


async def lang_command(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if args:
        lang = supported_lang(args)
        if lang is None:
            ctx.reply(
                _(
                    "Chưa hỗ trợ ngôn ngữ “{value}”. Chọn: vi (Tiếng Việt) hoặc en (English).",
                    value=args[:40],
                )
            )
            return
        await set_lang(ctx, lang)
        return
    ctx.reply(
        _("Chọn ngôn ngữ / Choose a language:"),
        [
            [
                Choice("Tiếng Việt", LANG.encode(Language("vi"))),
                Choice("English", LANG.encode(Language("en"))),
            ]
        ],
    )


async def lang_action(ctx: Context, action: str) -> None:
    chosen = LANG.decode(action)
    lang = supported_lang(chosen.lang) if isinstance(chosen, Language) else None
    if lang is not None:
        await set_lang(ctx, lang)


async def set_lang(ctx: Context, lang: str) -> None:
    await ctx.deps.users.set_lang(ctx.user.id, lang)
    ctx.lang, ctx.lang_explicit = lang, True
    _ = ctx.tr
    ctx.reply(_("Đã chuyển sang tiếng Việt."), main_menu(ctx))


async def cancel(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if ctx.dialog is None:
        ctx.reply(_("Không có thao tác nào đang dở để hủy."))
        return
    await ctx.end_dialog()
    ctx.reply(_("Đã hủy. Dữ liệu chưa gửi không được lưu."), main_menu(ctx))


async def menu_action(ctx: Context, action: str) -> None:
    """Main-menu buttons that open a command."""
    chosen = MENU.decode(action)
    if isinstance(chosen, OpenCommand):
        await ctx.conv.run_command(ctx, chosen.command, "")
