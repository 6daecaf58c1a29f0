"""What the NTM office (and each commune) sees of the reports.

``/tonghop`` district summary, ``/xa <tên>`` one commune's latest reports and history,
``/cuatoi`` an officer's own commune, ``/xuat`` every report with its history as .xlsx + .csv.
Officers see only their own commune; office staff and administrators see all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from handlers.actions import Actions
from handlers.communes import commune_rows, pick_commune
from handlers.core import COMMUNE_PEOPLE, OFFICE, OFFICER, Context, Conversation
from handlers.criteria_view import commune_criteria
from handlers.digest import (
    chart_by_commune,
    criteria_overview,
    load_digest_data,
    not_reported,
    tasks_section,
)
from handlers.export import export_reports
from handlers.export_tasks import TaskExport
from handlers.i18n import N_
from handlers.photo_view import photo_counts
from handlers.reader import Reader
from handlers.readmodel.criteria import load_board
from handlers.readmodel.photos import load_photos
from handlers.report_view import changed_values, display_value, period_label
from handlers.richtext import Doc, b, it
from handlers.types import Attachment
from knowledge.form_rules import compute_all, target_met
from storage.communes import Commune
from storage.deadletters import DeadLetters
from storage.reports import Report, ReportRepo, report_number
from storage.tasks import TaskProgressRepo

READERS = COMMUNE_PEOPLE
COMMUNE = Actions("xa")


@COMMUNE.register()
@dataclass(frozen=True)
class ShowCommune:
    """A commune's page (/xa)."""

    commune_id: int


HISTORY = 10


def setup(conv: Conversation) -> None:
    conv.command(
        "tonghop", summary, N_("Tổng hợp tình hình các xã"), roles=OFFICE, aliases=("summary",)
    )
    conv.command(
        "xa",
        commune_detail,
        N_("Chi tiết một xã: /xa <tên xã>"),
        roles=READERS,
        aliases=("commune",),
        private_only=True,
    )
    conv.command(
        "xuat",
        export,
        N_("Tải toàn bộ báo cáo (.xlsx và .csv)"),
        roles=OFFICE,
        aliases=("export",),
        private_only=True,
    )
    conv.command(
        "cuatoi",
        mine,
        N_("Các báo cáo của xã mình"),
        roles=frozenset({OFFICER}),
        aliases=("mine",),
        private_only=True,
    )
    conv.action("xa", commune_action, roles=READERS, private_only=True)


def _date(ctx: Reader, day: dt.date) -> str:
    return format_date(day, "dd/MM/yyyy", locale=ctx.lang)


async def summary(ctx: Context, args: str) -> None:
    """The district this week, from the same data and sections as the weekly digest."""
    _ = ctx.tr
    data = await load_digest_data(ctx.deps, ctx.today)
    doc = Doc().add(
        b(
            _(
                "Tổng hợp các xã — tuần {first} – {last}",
                first=_date(ctx, data.first),
                last=_date(ctx, data.last),
            )
        )
    )
    done = len([c for c in data.communes if c.id in data.reported])
    doc.add(
        _(
            "Đã báo cáo trong tuần: {done}/{total} xã, thị trấn.",
            done=done,
            total=len(data.communes),
        )
    )
    doc.extend(not_reported(data, ctx.tr))
    chart = chart_by_commune(ctx.deps.kb, data, ctx.tr)
    if chart:
        doc.blank().extend(chart)
    doc.blank().extend(criteria_overview(ctx.deps.kb, data, ctx.tr))
    for line in await _delivery_problems(ctx):
        doc.add(*line)
    week_ago = ctx.now - dt.timedelta(days=7)
    set_aside = await DeadLetters(ctx.deps.db).count_since(week_ago)
    if set_aside:
        doc.blank().add(
            _(
                "⚠️ {count} tin nhắn trong 7 ngày qua không xử lý được và đã được để riêng "
                "(xem bằng lệnh ntm-bot db deadletters).",
                count=set_aside,
            )
        )
    ctx.reply(doc)
    ctx.reply(tasks_section(ctx.deps.kb, data, ctx.tr))  # the tasks board, a message of its own


async def _delivery_problems(ctx: Context) -> list[tuple[Any, ...]]:
    """Messages the office sent that did not reach people (filled in by the sender)."""
    if ctx.deps.delivery_report is None:
        return []
    return await ctx.deps.delivery_report(ctx)


async def commune_detail(ctx: Context, args: str) -> None:
    _ = ctx.tr
    communes = await ctx.deps.communes.all()
    if not args.strip():
        if ctx.is_officer:
            await mine(ctx, "")
            return
        rows = commune_rows(communes, _show)
        ctx.reply(_("Xem xã nào? Chọn hoặc gõ /xa <tên xã>."), rows)
        return
    chosen = pick_commune(ctx, args, communes, _show)
    if chosen is not None:
        await show_commune(ctx, chosen)


def _show(commune: Commune) -> str:
    return COMMUNE.encode(ShowCommune(commune.id))


async def commune_action(ctx: Context, action: str) -> None:
    chosen = COMMUNE.decode(action)
    if isinstance(chosen, ShowCommune):
        commune = await ctx.deps.communes.get(chosen.commune_id)
        if commune is not None:
            await show_commune(ctx, commune)


async def mine(ctx: Context, args: str) -> None:
    commune = await ctx.commune()
    if commune is None:
        ctx.reply(ctx.tr("Bạn chưa được gắn với xã nào."))
        return
    await show_commune(ctx, commune)


async def show_commune(ctx: Context, commune: Commune) -> None:
    _ = ctx.tr
    if ctx.is_officer and ctx.user.commune_id != commune.id:
        ctx.reply(_("Bạn chỉ xem được số liệu của xã mình."))
        return
    if not (ctx.is_officer or ctx.is_office):
        ctx.reply(_("Xin lỗi, chức năng này chỉ dành cho cán bộ Văn phòng NTM huyện."))
        return
    repo = ReportRepo(ctx.deps.db)
    latest = await repo.latest(commune_id=commune.id)
    history = await repo.history(commune.id, HISTORY)
    officers = await ctx.deps.users.officers_of(commune.id)
    doc = Doc().add(b(_("Xã {commune}", commune=commune.name)))
    doc.add(_("Cán bộ đã đăng ký: {count}", count=len(officers)))
    board = await load_board(ctx.deps.kb, ctx.deps.db, ctx.today, ctx.now.tzinfo, [commune])
    doc.blank().extend(
        commune_criteria(ctx.tr, ctx.deps.kb, board, commune.id, ctx.today, ctx.now.tzinfo)
    )
    photos = await load_photos(ctx.deps.kb, ctx.deps.db, [commune.id])
    doc.extend(photo_counts(ctx.tr, ctx.deps.kb, photos, commune.id, board.criteria))
    if not latest:
        doc.add(_("Chưa có báo cáo nào."))
        ctx.reply(doc)
        return
    names = await _names(ctx, [r.submitted_by for r in history + latest])
    doc.blank()
    doc.add(b(_("Báo cáo mới nhất")))
    for report in latest:
        doc.add(*_report_line(ctx, report, names))
        for part in _answers_brief(ctx, report):
            doc.add("   ", part)
    doc.blank()
    doc.add(b(_("Lịch sử ({count} báo cáo gần nhất)", count=len(history))))
    for report in history:
        version = ""
        if report.supersedes is not None:
            version = _(" — sửa, thay {previous}", previous=report_number(report.supersedes))
        who = names.get(report.submitted_by, "")
        doc.bullet(
            f"{_date(ctx, report.report_date)} {report.number} {_title(ctx, report)}{version}"
            + (f" ({who})" if who else "")
        )
        if report.supersedes is not None:
            await _show_changes(ctx, doc, repo, report)
    ctx.reply(doc)


async def _show_changes(ctx: Context, doc: Doc, repo: ReportRepo, report: Report) -> None:
    """The old and the new value of every field a correction changed."""
    form = ctx.deps.kb.forms.get(report.form_id)
    previous = await repo.get(report.supersedes) if report.supersedes else None
    if form is None or previous is None:
        return
    changes = changed_values(ctx, form, previous.answers, report.answers)
    for change in changes:
        doc.add("     ", change)
    if not changes:
        doc.add("     ", it(ctx.tr("(không đổi giá trị nào)")))


async def _names(ctx: Reader, user_ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for user_id in set(user_ids):
        user = await ctx.deps.users.by_id(user_id)
        if user is not None:
            names[user_id] = user.name_and_position
    return names


def _title(ctx: Reader, report: Report) -> str:
    form = ctx.deps.kb.forms.get(report.form_id)
    title = report.form_id if form is None else (form.title_en if ctx.lang == "en" else form.title)
    if report.subject:
        ind = ctx.deps.kb.indicator(report.subject)
        title += f" {ind.label}" if ind else f" {report.subject}"
    period = period_label(report.period, ctx.tr)
    return f"{title} ({period})" if period else title


def _report_line(ctx: Reader, report: Report, names: dict[int, str]) -> tuple[Any, ...]:
    _ = ctx.tr
    local = report.submitted_at.astimezone(ctx.now.tzinfo)
    when = format_datetime(local, "dd/MM/yyyy HH:mm", locale=ctx.lang)
    mark = {True: " ✅", False: " ⚠️", None: ""}[report.meets_target]
    who = names.get(report.submitted_by, "?")
    return (
        "• ",
        b(_title(ctx, report)),
        mark,
        _(
            " — {number}, {when}, {who} ({channel})",
            number=report.number,
            when=when,
            who=who,
            channel=report.channel,
        ),
    )


def _answers_brief(ctx: Reader, report: Report) -> list[str]:
    form = ctx.deps.kb.forms.get(report.form_id)
    if form is None:
        return []
    en = ctx.lang == "en"
    parts = []
    for item in form.fields:
        if item.key in report.answers and item.key != form.subject_field:
            label = item.label_en if en else item.label
            parts.append(f"{label}: {display_value(ctx, item, report.answers[item.key])}")
    values = compute_all(form, report.answers)
    for computed in form.computed:
        value = values.get(computed.key)
        if value is not None:
            label = computed.label_en if en else computed.label
            parts.append(f"{label}: {format_decimal(value, locale=ctx.lang)}{computed.unit or ''}")
    for target in form.targets:
        met = target_met(target, values)
        if met is False:
            parts.append(
                ctx.tr("chưa đạt: {target}", target=target.label_en if en else target.label)
            )
    return parts


async def build_export(ctx: Reader) -> tuple[bytes, bytes, int]:
    """The workbook and the CSV of every report (with the tasks and criteria sheets), and
    how many reports: what /xuat sends and the web view downloads."""
    repo = ReportRepo(ctx.deps.db)
    reports = await repo.all()
    communes = {c.id: c for c in await ctx.deps.communes.all(active_only=False)}
    history = await TaskProgressRepo(ctx.deps.db).all()
    names = await _names(ctx, [r.submitted_by for r in reports] + [m.by_user for m in history])
    active = [c for c in communes.values() if c.active]
    board = await load_board(ctx.deps.kb, ctx.deps.db, ctx.today, ctx.now.tzinfo, active)
    tasks = TaskExport(history, names, board)
    xlsx, csv_bytes = export_reports(ctx, reports, communes, names, tasks)
    return xlsx, csv_bytes, len(reports)


def export_name(ctx: Reader, extension: str) -> str:
    return f"bao-cao-ntm-{ctx.today.strftime('%Y%m%d')}.{extension}"


async def export(ctx: Context, args: str) -> None:
    _ = ctx.tr
    xlsx, csv_bytes, count = await build_export(ctx)
    ctx.reply(
        _(
            "Toàn bộ {count} báo cáo (kể cả các bản đã được sửa), đến {date}.",
            count=count,
            date=_date(ctx, ctx.today),
        ),
        document=Attachment(
            export_name(ctx, "xlsx"),
            xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            caption=_("Bảng tính Excel: mỗi mẫu báo cáo một trang; việc và tiêu chí ở cuối"),
        ),
    )
    ctx.reply(
        Doc(),
        document=Attachment(
            export_name(ctx, "csv"), csv_bytes, "text/csv", caption=_("Tệp CSV (UTF-8)")
        ),
    )
