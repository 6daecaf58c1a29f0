"""``/hoso <xã>``: the office's appraisal dossier of a commune (or ``/hoso tất cả``: every
commune) in the chat — the Word document and, when it is small enough to send, the .zip of
photos; the web view offers both for any size (:mod:`handlers.dossier` builds them)."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date

from handlers.actions import Actions
from handlers.broadcast import payload_with_blobs
from handlers.communes import commune_rows, pick_commune
from handlers.core import OFFICE, OFFICER, PEOPLE, Context, Conversation, Deps
from handlers.dossier import DOCX, ZIP, Dossier, build_dossier
from handlers.i18n import N_
from handlers.reader import OfficeReader, Reader
from handlers.richtext import Doc
from handlers.types import Attachment, Choice, Reply
from knowledge.normalize import fold
from storage.communes import Commune
from storage.files import FileStore
from storage.sending import Recipient, SendingRepo

DOSSIER = Actions("hoso")
SEND_LIMIT = 20 * 1024 * 1024  # a .zip larger than this is offered on the web view instead
RUNNING_AT_ONCE = 2  # chat-requested builds at the same time, in this process
log = logging.getLogger(__name__)
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
        roles=PEOPLE,  # the office: any commune's; an officer: their own
        aliases=("dossier",),
        private_only=True,
        shown_to=OFFICE | {OFFICER},
    )
    conv.action(DOSSIER.prefix, dossier_action, roles=OFFICE, private_only=True)


async def dossier(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if ctx.is_officer:  # their own commune's, whatever else they typed
        commune = await ctx.commune()
        if commune is not None:
            await _send(ctx, commune.id)
        return
    if not ctx.is_office:
        ctx.reply(
            _(
                "Hồ sơ minh chứng do Văn phòng NTM huyện lập (và cán bộ mỗi xã, cho xã mình). "
                "Thông tin của bạn: gõ /toi."
            )
        )
        return
    communes = await ctx.deps.communes.all()
    typed = args.strip()
    if fold(typed) in ALL_WORDS:
        await _send(ctx, 0)
        return
    if not typed:
        rows = [[Choice(_("Tất cả các xã"), DOSSIER.encode(DossierOf(0)))]]
        rows += commune_rows(communes, _of)
        ctx.reply(_("Lập hồ sơ minh chứng cho xã nào? Chọn, hoặc gõ /hoso <tên xã>."), rows)
        return
    chosen = pick_commune(ctx, typed, communes, _of)
    if chosen is not None:
        await _send(ctx, chosen.id)


def _of(commune: Commune) -> str:
    return DOSSIER.encode(DossierOf(commune.id))


async def dossier_action(ctx: Context, action: str) -> None:
    chosen = DOSSIER.decode(action)
    if isinstance(chosen, DossierOf) and ctx.is_office:
        await _send(ctx, chosen.commune_id)


async def _send(ctx: Context, commune_id: int) -> None:
    _ = ctx.tr
    communes = await ctx.deps.communes.all()
    chosen = [c for c in communes if commune_id in (0, c.id)]
    if not chosen:
        ctx.reply(_("Không tìm thấy xã này."))
        return
    _build_in_background(ctx, chosen)
    where = chosen[0].name if len(chosen) == 1 else _("{count} xã, thị trấn", count=len(chosen))
    ctx.reply(
        _(
            "Đang lập hồ sơ minh chứng ({where}); tệp sẽ được gửi vào đây khi xong (thường "
            "dưới một phút).",
            where=where,
        )
    )


def dossier_replies(ctx: Reader, chosen: list[Commune], built: Dossier) -> list[Reply]:
    """The dossier as replies: the Word file, then the photos (or where to get them). The
    .zip's temporary file is removed."""
    _ = ctx.tr
    where = chosen[0].name if len(chosen) == 1 else _("{count} xã, thị trấn", count=len(chosen))
    summary = _(
        "Hồ sơ minh chứng — {where}: tình trạng từng tiêu chí, báo cáo, việc và {photos} tệp "
        "ảnh minh chứng, đến {date}. Tệp Word sửa được trước khi nộp.",
        where=where,
        photos=built.photos,
        date=format_date(ctx.today, "dd/MM/yyyy", locale=ctx.lang),
    )
    word = Attachment(f"{built.name}.docx", built.docx, DOCX, caption=_("Tệp Word"))
    replies = [Reply(Doc().add(summary), document=word)]
    try:
        if built.photos and built.zip_size <= SEND_LIMIT:
            caption = _("Ảnh gốc theo thư mục xã / tiêu chí, kèm tệp Word")
            archive = Attachment(f"{built.name}.zip", built.zip_bytes(), ZIP, caption=caption)
            replies.append(Reply(Doc(), document=archive))
        elif built.photos:
            too_big = _(
                "Tệp ảnh ({size} MB) quá lớn để gửi qua tin nhắn; xin tải trên trang web "
                "(gõ /web, mục Hồ sơ).",
                size=built.zip_size // (1024 * 1024),
            )
            replies.append(Reply(Doc().add(too_big)))
    finally:
        built.discard()
    return replies


_RUNNING: set[asyncio.Task[None]] = set()  # held, so that they are not collected mid-way
_SLOTS: dict[int, asyncio.Semaphore] = {}  # per event loop


def _build_in_background(ctx: Context, chosen: list[Commune]) -> None:
    """Build once this update is answered and committed — outside its unit of work, which
    must not wait for seconds of reading and writing — then send the files through the sender
    (stored first, like every send-out; the files themselves once, as blobs the retention job
    removes once sent)."""
    deps, user, incoming = ctx.deps, ctx.user, ctx.incoming
    reader = OfficeReader(deps, ctx.lang, ctx.now)
    loop = asyncio.get_running_loop()
    slots = _SLOTS.setdefault(id(loop), asyncio.Semaphore(RUNNING_AT_ONCE))

    async def run() -> None:
        async with slots:
            try:
                built = await build_dossier(reader, chosen)
                replies = dossier_replies(reader, chosen, built)
            except Exception:
                log.exception("dossier build failed")
                replies = [Reply(Doc().add(reader.tr(
                    "Không lập được hồ sơ do lỗi; lỗi đã được ghi lại. Xin thử lại."
                )))]  # fmt: skip
            payload = await stored_files_payload(deps, replies)
            recipient = Recipient(incoming.channel, incoming.chat_id, user.id, payload)
            key = f"dossier:{user.id}:{secrets.token_hex(8)}"
            await SendingRepo(deps.db).create_job(
                "dossier", key, reader.tr("Hồ sơ minh chứng"), [recipient], deps.clock.now(),
                user.id,
            )  # fmt: skip
            if deps.on_job_created is not None:
                deps.on_job_created()

    # A context of its own: the update's transaction state must not follow it.
    task = loop.create_task(run(), context=contextvars.Context())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def finish_builds() -> None:
    """Wait for the builds under way (a terminal session ending)."""
    if _RUNNING:
        await asyncio.wait(set(_RUNNING))


async def stored_files_payload(deps: Deps, replies: list[Reply]) -> dict[str, Any]:
    """The replies as a delivery's payload, each file stored once (``blobs``)."""
    files = FileStore(deps.db)
    blobs = {
        attached.data: await files.put(attached.data)
        for reply in replies
        for attached in (reply.photo, reply.document)
        if attached is not None
    }
    return payload_with_blobs(replies, blobs)
