"""``/hoso <xã>``: the office's appraisal dossier of a commune (or ``/hoso tất cả``: every
commune) in the chat — the Word document and, when it is small enough to send, the .zip of
photos; the web view offers both for any size (:mod:`handlers.dossier` builds them)."""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date

from handlers.actions import Actions
from handlers.communes import find_commune
from handlers.core import OFFICE, PEOPLE, Context, Conversation
from handlers.dossier import DOCX, ZIP, Dossier, build_dossier
from handlers.i18n import N_
from handlers.types import Attachment, Choice
from knowledge.normalize import fold

DOSSIER = Actions("hoso")
SEND_LIMIT = 20 * 1024 * 1024  # a .zip larger than this is offered on the web view instead
ALL_WORDS = {"tat ca", "toan huyen", "huyen", "cac xa", "all", "ca huyen"}


@DOSSIER.register()
@dataclass(frozen=True)
class DossierOf:
    commune_id: int  # 0: every commune


def setup(conv: Conversation) -> None:
    conv.command(
        "hoso",
        dossier,
        N_("Hồ sơ minh chứng của một xã (.docx và ảnh): /hoso <tên xã>"),
        roles=PEOPLE,  # the office's; anyone else's "hồ sơ" is their own profile (/toi)
        aliases=("dossier",),
        private_only=True,
        shown_to=OFFICE,
    )
    conv.action(DOSSIER.prefix, dossier_action, roles=OFFICE, private_only=True)


async def dossier(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if not ctx.is_office:
        await ctx.conv.run_command(ctx, "toi", "")
        return
    communes = await ctx.deps.communes.all()
    typed = args.strip()
    if fold(typed) in ALL_WORDS:
        await _send(ctx, 0)
        return
    if not typed:
        rows = [[Choice(_("Tất cả các xã"), DOSSIER.encode(DossierOf(0)))]]
        rows += [
            [Choice(c.name, DOSSIER.encode(DossierOf(c.id))) for c in communes[i : i + 3]]
            for i in range(0, len(communes), 3)
        ]
        ctx.reply(_("Lập hồ sơ minh chứng cho xã nào? Chọn, hoặc gõ /hoso <tên xã>."), rows)
        return
    exact, candidates = find_commune(typed, communes)
    if exact is None and len(candidates) == 1:
        exact = candidates[0]
    if exact is not None:
        await _send(ctx, exact.id)
    elif candidates:
        ctx.reply(
            _("Ý bạn là xã nào?"),
            [[Choice(c.name, DOSSIER.encode(DossierOf(c.id)))] for c in candidates],
        )
    else:
        ctx.reply(_("Không tìm thấy xã “{name}”.", name=typed[:40]))


async def dossier_action(ctx: Context, action: str) -> None:
    chosen = DOSSIER.decode(action)
    if isinstance(chosen, DossierOf):
        await _send(ctx, chosen.commune_id)


async def _send(ctx: Context, commune_id: int) -> None:
    _ = ctx.tr
    communes = await ctx.deps.communes.all()
    chosen = [c for c in communes if commune_id in (0, c.id)]
    if not chosen:
        ctx.reply(_("Không tìm thấy xã này."))
        return
    built = await build_dossier(ctx, chosen)
    where = chosen[0].name if len(chosen) == 1 else _("{count} xã", count=len(chosen))
    ctx.reply(
        _(
            "Hồ sơ minh chứng — {where}: tình trạng từng tiêu chí, báo cáo, việc và {photos} "
            "ảnh, đến {date}. Tệp Word sửa được trước khi nộp.",
            where=where,
            photos=built.photos,
            date=format_date(ctx.today, "dd/MM/yyyy", locale=ctx.lang),
        ),
        document=Attachment(f"{built.name}.docx", built.docx, DOCX),
    )
    try:
        _offer_photos(ctx, built)
    finally:
        built.discard()


def _offer_photos(ctx: Context, built: Dossier) -> None:
    _ = ctx.tr
    if not built.photos:
        return
    if built.zip_size <= SEND_LIMIT:
        caption = _("Ảnh gốc theo thư mục xã / tiêu chí, kèm tệp Word")
        data = built.zip_bytes()
        ctx.reply("", document=Attachment(f"{built.name}.zip", data, ZIP, caption=caption))
    else:
        ctx.reply(
            _(
                "Tệp ảnh ({size} MB) quá lớn để gửi qua tin nhắn; xin tải trên trang web "
                "(gõ /web, mục Hồ sơ).",
                size=built.zip_size // (1024 * 1024),
            )
        )
