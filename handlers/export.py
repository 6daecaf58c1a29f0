"""Every report with its history, as an Excel workbook (one sheet per form) and a CSV file.

openpyxl is imported when a workbook is made, so the bot starts without loading it.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from handlers.cells import append_row, csv_row
from handlers.core import Context
from handlers.reporting import display_value, period_label
from storage.communes import Commune
from storage.reports import Report, report_number


def _meta_headers(ctx: Context) -> list[str]:
    _ = ctx.tr
    return [
        _("Số báo cáo"),
        _("Xã"),
        _("Mẫu báo cáo"),
        _("Kỳ báo cáo"),
        _("Lần"),
        _("Thay cho"),
        _("Gửi lúc"),
        _("Người gửi"),
        _("Kênh"),
        _("Đạt mục tiêu"),
    ]


def _meta_row(
    ctx: Context, report: Report, communes: dict[int, Commune], names: dict[int, str]
) -> list[Any]:
    _ = ctx.tr
    form = ctx.deps.kb.forms.get(report.form_id)
    title = report.form_id if form is None else (form.title_en if ctx.lang == "en" else form.title)
    local = report.submitted_at.astimezone(ctx.now.tzinfo).replace(tzinfo=None)
    commune = communes.get(report.commune_id)
    met = {True: _("Đạt"), False: _("Chưa đạt"), None: ""}[report.meets_target]
    return [
        report.number,
        commune.name if commune else report.commune_id,
        title + (f" {report.subject.split(':')[-1]}" if report.subject else ""),
        period_label(report.period, ctx.tr),
        report.version,
        report_number(report.supersedes) if report.supersedes else "",
        local,
        names.get(report.submitted_by, str(report.submitted_by)),
        report.channel,
        met,
    ]


def export_reports(
    ctx: Context,
    reports: list[Report],
    communes: dict[int, Commune],
    names: dict[int, str],
) -> tuple[bytes, bytes]:
    """``(xlsx, csv)`` bytes. Values are written as entered; computed values are added."""
    en = ctx.lang == "en"
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    if book.active is not None:
        book.remove(book.active)
    bold = Font(bold=True)
    for form in ctx.deps.kb.forms.values():
        sheet = book.create_sheet((form.title_en if en else form.title)[:31].replace("/", "-"))
        fields = [f for f in form.fields if f.repeat_of is None]
        repeated = [f for f in form.fields if f.repeat_of is not None]
        headers = _meta_headers(ctx) + [f.label_en if en else f.label for f in fields]
        headers += [c.label_en if en else c.label for c in form.computed]
        if repeated:
            headers.append(ctx.tr("Chi tiết lặp lại"))
        append_row(sheet, headers)
        for cell in sheet[1]:
            cell.font = bold
        for report in (r for r in reports if r.form_id == form.id):
            row = _meta_row(ctx, report, communes, names)
            row += [
                display_value(ctx, f, report.answers.get(f.key)) if f.key in report.answers else ""
                for f in fields
            ]
            row += [report.computed.get(c.key) for c in form.computed]
            if repeated:
                groups: dict[str, list[str]] = {}
                for key, value in report.answers.items():
                    if "." in key:
                        name, repetition = key.split(".", 1)
                        item = form.field(name)
                        groups.setdefault(repetition, []).append(display_value(ctx, item, value))
                row.append("; ".join(" / ".join(v) for _, v in sorted(groups.items())))
            append_row(sheet, row)
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(
                40, max(10, len(header) + 2)
            )
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        csv_row([*_meta_headers(ctx), ctx.tr("Câu trả lời (JSON)"), ctx.tr("Giá trị tính (JSON)")])
    )
    for report in reports:
        row = _meta_row(ctx, report, communes, names)
        row[6] = row[6].isoformat(sep=" ", timespec="minutes")
        writer.writerow(
            csv_row(
                [
                    *row,
                    json.dumps(report.answers, ensure_ascii=False),
                    json.dumps(report.computed, ensure_ascii=False),
                ]
            )
        )
    # UTF-8 with a byte-order mark, so that Excel opens Vietnamese text correctly.
    return buffer.getvalue(), ("\ufeff" + text.getvalue()).encode("utf-8")
