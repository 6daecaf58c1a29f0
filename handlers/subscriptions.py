"""Office chats subscribe to the digest (``/dangky``, ``/huydangky``, also in groups);
administrators announce (``/thongbao``: text → audience → preview → send); ``/tonghop``
shows who the last send-outs did not reach."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from babel.dates import format_datetime

from handlers.actions import Actions
from handlers.broadcast import AUDIENCES, create_announcement_job
from handlers.core import ADMINS, OFFICE, Context, Conversation
from handlers.dialog_state import DialogState
from handlers.i18n import N_
from handlers.richtext import Doc, b, it
from handlers.types import Choice
from storage.sending import SendingRepo, SubscriptionRepo

MAX_ANNOUNCEMENT = 3000


class AnnounceStep(StrEnum):
    TEXT = "text"  # typing the announcement
    AUDIENCE = "audience"  # choosing who gets it
    CONFIRM = "confirm"  # the preview: send or cancel


class AnnouncementState(DialogState):
    """An announcement being written (``/thongbao``)."""

    kind: ClassVar[str] = "announce"
    step: AnnounceStep = AnnounceStep.TEXT
    text: str = ""
    audience: str | None = None


ANNOUNCE = Actions("ann")


@ANNOUNCE.register("to")
@dataclass(frozen=True)
class To:
    audience: str


@ANNOUNCE.register("send")
@dataclass(frozen=True)
class Send:
    """Confirmed: send it."""


@ANNOUNCE.register("cancel")
@dataclass(frozen=True)
class Cancel:
    """Not sent."""


def setup(conv: Conversation) -> None:
    conv.command(
        "dangky",
        subscribe,
        N_("Nhận bản tin tuần và nhắc hạn ở cuộc trò chuyện này"),
        roles=OFFICE,
        aliases=("subscribe",),
    )
    conv.command(
        "huydangky",
        unsubscribe,
        N_("Thôi nhận bản tin ở cuộc trò chuyện này"),
        aliases=("unsubscribe",),
    )
    conv.command(
        "thongbao",
        announce,
        N_("Gửi thông báo tới cán bộ các xã / Văn phòng"),
        roles=ADMINS,
        keeps_dialog=False,
        aliases=("announce",),
        private_only=True,
    )
    conv.action("ann", announce_action, roles=ADMINS, private_only=True)
    conv.dialog(AnnouncementDialog())
    conv.deps.delivery_report = delivery_report


async def subscribe(ctx: Context, args: str) -> None:
    _ = ctx.tr
    chat = ctx.incoming.chat_id
    added = await SubscriptionRepo(ctx.deps.db).add(
        ctx.incoming.channel, chat, ctx.lang, ctx.user.id, ctx.now
    )
    where = _("nhóm này") if ctx.incoming.is_group else _("cuộc trò chuyện này")
    if added:
        ctx.reply(
            _("Đã đăng ký: {where} sẽ nhận bản tin tuần của huyện và các nhắc hạn.", where=where)
        )
    else:
        ctx.reply(_("{where} đã đăng ký nhận bản tin từ trước.", where=where.capitalize()))


async def unsubscribe(ctx: Context, args: str) -> None:
    """Anyone may stop their own private chat receiving anything; a group needs the office
    (one member must not silence the office's group for everyone)."""
    _ = ctx.tr
    if ctx.incoming.is_group and not ctx.is_office:
        ctx.reply(ctx.conv.denied_text(ctx, OFFICE))
        return
    removed = await SubscriptionRepo(ctx.deps.db).remove(ctx.incoming.channel, ctx.incoming.chat_id)
    ctx.reply(
        _("Đã hủy đăng ký nhận bản tin.")
        if removed
        else _("Cuộc trò chuyện này chưa đăng ký nhận bản tin.")
    )


async def announce(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if args.strip():
        await _preview_audience(ctx, args.strip())
        return
    await ctx.set_dialog(AnnouncementState())
    ctx.reply(
        _(
            "Nhập nội dung thông báo (tối đa {limit} ký tự). Gõ /huy để thôi.",
            limit=MAX_ANNOUNCEMENT,
        )
    )


async def _preview_audience(ctx: Context, text: str) -> None:
    _ = ctx.tr
    if len(text) > MAX_ANNOUNCEMENT:
        ctx.reply(
            _(
                "Thông báo dài {length} ký tự, quá giới hạn {limit}. Xin viết ngắn hơn.",
                length=len(text),
                limit=MAX_ANNOUNCEMENT,
            )
        )
        return
    await ctx.set_dialog(AnnouncementState(step=AnnounceStep.AUDIENCE, text=text))
    ctx.reply(
        _("Gửi cho ai?"),
        [
            [Choice(_("Cán bộ các xã"), ANNOUNCE.encode(To("officers")))],
            [Choice(_("Cán bộ các đơn vị của huyện"), ANNOUNCE.encode(To("units")))],
            [Choice(_("Các nhóm Văn phòng đã đăng ký"), ANNOUNCE.encode(To("office")))],
            [Choice(_("Tất cả"), ANNOUNCE.encode(To("all")))],
            [Choice(_("Hủy"), ANNOUNCE.encode(Cancel()))],
        ],
    )


async def announce_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    state = ctx.dialog_state(AnnouncementState)
    chosen = ANNOUNCE.decode(action)
    if isinstance(chosen, Cancel) or state is None or not state.text:
        await ctx.end_dialog()
        ctx.reply(_("Đã hủy, không gửi thông báo."))
        return
    if isinstance(chosen, To) and chosen.audience in AUDIENCES:
        state.step, state.audience = AnnounceStep.CONFIRM, chosen.audience
        await ctx.set_dialog(state)
        doc = Doc().add(b(_("Xem trước thông báo:"))).add(state.text)
        buttons = [
            Choice(_("Gửi ngay"), ANNOUNCE.encode(Send())),
            Choice(_("Hủy"), ANNOUNCE.encode(Cancel())),
        ]
        ctx.reply(doc, [buttons])
        return
    if isinstance(chosen, Send) and state.step is AnnounceStep.CONFIRM and state.audience:
        job_id, count = await create_announcement_job(
            ctx.deps, state.text, state.audience, ctx.user.id
        )
        await ctx.end_dialog()
        ctx.reply(
            _("Đang gửi thông báo tới {count} người/nhóm. Kết quả xem trong /tonghop.", count=count)
        )
        poke = ctx.deps.on_job_created
        if poke is not None and job_id is not None:
            poke()


class AnnouncementDialog:
    state = AnnouncementState

    async def on_text(self, ctx: Context, text: str) -> None:
        state = ctx.dialog_state(AnnouncementState)
        if state is None or state.step is AnnounceStep.TEXT:
            await _preview_audience(ctx, ctx.incoming.text or text)
        else:
            ctx.reply(ctx.tr("Xin chọn một mục ở tin nhắn trên, hoặc gõ /huy để thôi."))

    def allows(self, ctx: Context) -> bool:
        return ctx.is_admin

    async def on_expired(self, ctx: Context) -> None:
        ctx.reply(ctx.tr("Thông báo đang soạn dở đã hết hạn và không được gửi."))

    async def remind(self, ctx: Context) -> None:
        ctx.reply(it(ctx.tr("Bạn đang soạn dở một thông báo (gõ /huy để thôi).")))


async def delivery_report(ctx: Context) -> list[tuple[Any, ...]]:
    """Lines for /tonghop: the last send-outs and who they did not reach."""
    _ = ctx.tr
    sending = SendingRepo(ctx.deps.db)
    lines: list[tuple[Any, ...]] = []
    for job in await sending.recent_jobs(3):
        outcome = await sending.outcome(job.id)
        when = format_datetime(
            job.created_at.astimezone(ctx.now.tzinfo), "dd/MM HH:mm", locale=ctx.lang
        )
        if not lines:
            lines.append(("",))
            lines.append((b(_("Gửi tin gần đây")),))
        lines.append(
            (
                f"• {when} {job.title}: ",
                _(
                    "đã gửi {sent}, đang chờ {pending}, không đến được {failed}",
                    sent=outcome.get("sent", 0),
                    pending=outcome.get("pending", 0),
                    failed=outcome.get("failed", 0) + outcome.get("unreachable", 0),
                ),
            )
        )
        for row in (await sending.not_reached(job.id))[:10]:
            who = row["display_name"] or row["chat_id"]
            lines.append((f"   – {who} ({row['channel']}): {row['last_error'] or row['status']}",))
    return lines
