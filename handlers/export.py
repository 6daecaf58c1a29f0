"""Every report with its history, as a workbook and a CSV file the office can compute with.

The .xlsx has a first sheet "Mới nhất" (every commune, including those that never reported,
with the current value of each form's key figures and its date), then one sheet per form: one
column per field and computed value with the unit in the header, numbers as numbers, dates as
dates, choices as their labels, superseded versions kept but marked (and greyed). The .csv is
one long table (commune, form, period, field, value, unit, version, current), UTF-8 with a BOM
so that Excel opens Vietnamese text correctly. Text typed by people never becomes a formula
(:mod:`handlers.cells`).

openpyxl is imported when a workbook is made, so the bot starts without loading it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.cells import append_row, csv_row, finish, sheet_name
from handlers.export_tasks import TaskExport, add_task_sheets
from handlers.reader import Reader
from handlers.report_view import period_label
from knowledge.collation import vi_key
from knowledge.forms import Computed, Form, FormField
from storage.communes import Commune
from storage.reports import Report, report_number

INTEGER_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
GREY = "808080"


@dataclass(frozen=True)
class Column:
    """One value of a report: a field or a computed value."""

    key: str
    header: str  # short, for a column's head ("Số dân (người)")
    full: str  # the question as the officer was asked it, in the head's comment
    field: FormField | None = None
    computed: Computed | None = None

    @property
    def unit(self) -> str | None:
        if self.field is not None:
            return "%" if self.field.type == "percent" else self.field.unit
        return self.computed.unit if self.computed is not None else None


class Exporter:
    def __init__(
        self,
        ctx: Reader,
        reports: list[Report],
        communes: dict[int, Commune],
        names: dict[int, str],
        tasks: TaskExport | None = None,
    ) -> None:
        self.ctx = ctx
        self.tasks = tasks
        self._ = ctx.tr
        self.en = ctx.lang == "en"
        self.communes = communes
        # Communes in Vietnamese order, each one's reports by form, subject, period, version.
        self.reports = sorted(
            reports,
            key=lambda r: (vi_key(self.commune_name(r)), r.form_id, r.subject, r.period,
                           r.version),
        )  # fmt: skip
        self.names = names
        self.superseded = {r.supersedes for r in reports if r.supersedes}

    # -- values ---------------------------------------------------------------------------
    def columns(self, form: Form) -> list[Column]:
        columns = [
            Column(
                f.key,
                self.header(self.short(f), _field_unit(f, self.en)),
                self.header(f.label_en if self.en else f.label, _field_unit(f, self.en)),
                f,
            )
            for f in form.fields
            if f.repeat_of is None
        ]
        columns += [
            Column(
                c.key,
                self.header(c.label_en if self.en else c.label, c.unit),
                self.header(c.label_en if self.en else c.label, c.unit),
                computed=c,
            )
            for c in form.computed
        ]
        return columns

    def short(self, item: FormField) -> str:
        """A field's short name as a heading: "Số dân", "Thi đua giữa các thôn"."""
        name = item.name_en.removeprefix("the ") if self.en else item.name
        return name[:1].upper() + name[1:]

    def period(self, report: Report) -> str:
        """The period a report covers; a report without one stands as of its date."""
        label = period_label(report.period, self.ctx.tr)
        if label:
            return label
        day = report.report_date.strftime("%d/%m/%Y")
        return self._("tính đến {date}", date=day)

    @staticmethod
    def explain(sheet: Any, heads: Sequence[tuple[str, str]]) -> None:
        """The long text of each short heading of the first row, as the heading's comment."""
        from openpyxl.comments import Comment

        for column, (short, full) in enumerate(heads, start=1):
            if full and full != short:
                sheet.cell(row=1, column=column).comment = Comment(full, "Trợ lý NTM")

    def label(self, item: FormField | Computed) -> str:
        return item.label_en if self.en else item.label

    @staticmethod
    def header(label: str, unit: str | None) -> str:
        return f"{label} ({unit})" if unit else label

    def value(self, column: Column, report: Report) -> tuple[Any, str | None]:
        """The cell value and its number format (``None``: general)."""
        if column.computed is not None:
            number = report.computed.get(column.key)
            if number is None:
                return None, None
            decimals = column.computed.decimals
            return float(number), "0" if decimals == 0 else "0." + "0" * decimals
        item = column.field
        assert item is not None
        raw = report.answers.get(column.key)
        return self.field_value(item, raw)

    def field_value(self, item: FormField, raw: Any) -> tuple[Any, str | None]:
        if raw is None:
            return None, None
        if item.type == "integer":
            return int(raw), INTEGER_FORMAT
        if item.type == "number":
            return float(raw), "#,##0.##"
        if item.type == "percent":
            return float(raw), "0.0"
        if item.type == "date":
            return dt.date.fromisoformat(str(raw)), DATE_FORMAT
        if item.type == "choice":
            option = next((o for o in item.options if o.value == raw), None)
            return ((option.label_en if self.en else option.label) if option else str(raw)), None
        if item.type == "photo":
            return photo_links(self.ctx, raw), None
        if item.type == "indicator":
            ind = self.ctx.deps.kb.indicator(str(raw))
            if ind is None:
                return str(raw), None
            return f"{ind.label}. {ind.name_en if self.en else ind.name}", None
        return str(raw), None

    def form_title(self, form: Form) -> str:
        return form.title_en if self.en else form.title

    def commune_name(self, report: Report) -> str:
        commune = self.communes.get(report.commune_id)
        return commune.name if commune else str(report.commune_id)

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.ctx.now.tzinfo).replace(tzinfo=None)

    def current(self, report: Report) -> bool:
        return report.id not in self.superseded

    # -- the workbook ---------------------------------------------------------------------
    def xlsx(self) -> bytes:
        from openpyxl import Workbook

        book = Workbook()
        if book.active is not None:
            book.remove(book.active)
        used: set[str] = set()
        self.latest_sheet(book.create_sheet(sheet_name(self._("Mới nhất"), used)))
        for form in self.ctx.deps.kb.forms.values():
            short = (form.sheet_en if self.en else form.sheet) or self.form_title(form)
            self.form_sheet(book.create_sheet(sheet_name(short, used)), form)
        if self.tasks is not None:
            add_task_sheets(self, book, used, self.tasks)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def meta_headers(self) -> list[str]:
        _ = self._
        return [
            _("Số báo cáo"),
            _("Xã"),
            _("Chủ đề"),
            _("Kỳ báo cáo"),
            _("Lần"),
            _("Thay cho"),
            _("Hiện hành"),
            _("Gửi lúc"),
            _("Người gửi"),
            _("Kênh"),
            _("Đạt mục tiêu"),
        ]

    def form_sheet(self, sheet: Any, form: Form) -> None:
        _ = self._
        columns = self.columns(form)
        repeated = [f for f in form.fields if f.repeat_of is not None]
        headers = self.meta_headers() + [c.header for c in columns]
        if repeated:
            headers.append(_("Chi tiết lặp lại"))
        append_row(sheet, headers)
        self.explain(sheet, [(h, "") for h in self.meta_headers()] + [
            (c.header, c.full) for c in columns
        ])  # fmt: skip
        for report in (r for r in self.reports if r.form_id == form.id):
            current = self.current(report)
            met = {True: _("Đạt"), False: _("Chưa đạt"), None: ""}[report.meets_target]
            subject = report.subject.split(":")[-1] if report.subject else ""
            meta: list[tuple[Any, str | None]] = [
                (report.number, None),
                (self.commune_name(report), None),
                (subject, None),
                (self.period(report), None),
                (report.version, "0"),
                (report_number(report.supersedes) if report.supersedes else "", None),
                (_("Có") if current else _("Không (đã được sửa)"), None),
                (self.local(report.submitted_at), DATETIME_FORMAT),
                (self.names.get(report.submitted_by, str(report.submitted_by)), None),
                (report.channel, None),
                (met, None),
            ]
            cells = meta + [self.value(c, report) for c in columns]
            if repeated:
                cells.append((self.repetitions(form, report), None))
            self.add_row(sheet, cells, grey=not current)
        finish(sheet)

    def repetitions(self, form: Form, report: Report) -> str:
        groups: dict[str, list[str]] = {}
        for key, raw in report.answers.items():
            if "." not in key:
                continue
            name, repetition = key.split(".", 1)
            value, _fmt = self.field_value(form.field(name), raw)
            groups.setdefault(repetition, []).append("" if value is None else str(value))
        return "; ".join(" / ".join(v) for _k, v in sorted(groups.items()))

    def latest_sheet(self, sheet: Any) -> None:
        """Every commune × the current key figures of each form, with the report date."""
        _ = self._
        forms = list(self.ctx.deps.kb.forms.values())
        current: dict[tuple[int, str], list[Report]] = {}
        newest_period: dict[tuple[int, str, str], str] = {}
        for report in self.reports:
            if not self.current(report):
                continue
            series = (report.commune_id, report.form_id, report.subject)
            if report.period >= newest_period.get(series, ""):
                newest_period[series] = report.period
        for report in self.reports:
            series = (report.commune_id, report.form_id, report.subject)
            if self.current(report) and report.period == newest_period.get(series):
                current.setdefault((report.commune_id, report.form_id), []).append(report)
        headers = [_("Xã")]
        fulls = [""]
        plan: list[tuple[Form, list[Column]]] = []
        for form in forms:
            title = (form.sheet_en if self.en else form.sheet) or self.form_title(form)
            if form.subject_field:
                headers += [
                    f"{title}: " + _("đạt mục tiêu"),
                    f"{title}: " + _("đã báo cáo"),
                ]
                fulls += [self.form_title(form)] * 2
                plan.append((form, []))
            else:
                figures = {c.key: c for c in self.columns(form)}
                chosen = [figures[k] for k in form.figures if k in figures]
                headers += [f"{title}: {c.header}" for c in chosen]
                fulls += [f"{self.form_title(form)}: {c.full}" for c in chosen]
                plan.append((form, chosen))
            headers.append(f"{title}: " + _("ngày báo cáo"))
            fulls.append("")
        append_row(sheet, headers)
        self.explain(sheet, list(zip(headers, fulls, strict=True)))
        for commune in sorted(self.communes.values(), key=lambda c: vi_key(c.name)):
            if not commune.active:
                continue
            row: list[tuple[Any, str | None]] = [(commune.name, None)]
            for form, chosen in plan:
                reports = current.get((commune.id, form.id), [])
                if form.subject_field:
                    met = sum(1 for r in reports if r.meets_target)
                    row += [(met, "0"), (len(reports), "0")] if reports else [(None, None)] * 2
                else:
                    newest = max(reports, key=lambda r: (r.period, r.version), default=None)
                    row += [self.value(c, newest) if newest else (None, None) for c in chosen]
                date = max((r.report_date for r in reports), default=None)
                row.append((date, DATE_FORMAT) if date else (None, None))
            self.add_row(sheet, row)
        finish(sheet)

    @staticmethod
    def add_row(sheet: Any, cells: Sequence[tuple[Any, str | None]], *, grey: bool = False) -> None:
        from openpyxl.styles import Font

        append_row(sheet, [value for value, _fmt in cells])
        row = sheet.max_row
        for column, (value, number_format) in enumerate(cells, start=1):
            cell = sheet.cell(row=row, column=column)
            if number_format and value is not None:
                cell.number_format = number_format
            if grey:
                cell.font = Font(color=GREY)

    # -- the CSV --------------------------------------------------------------------------
    def csv(self) -> bytes:
        _ = self._
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(
            csv_row(
                [
                    _("Xã"),
                    _("Mẫu báo cáo"),
                    _("Chủ đề"),
                    _("Kỳ báo cáo"),
                    _("Số báo cáo"),
                    _("Lần"),
                    _("Hiện hành"),
                    _("Trường"),
                    _("Giá trị"),
                    _("Đơn vị"),
                    _("Gửi lúc"),
                    _("Người gửi"),
                ]
            )
        )
        forms = self.ctx.deps.kb.forms
        for report in self.reports:
            form = forms.get(report.form_id)
            if form is None:
                continue
            head = [
                self.commune_name(report),
                self.form_title(form),
                report.subject.split(":")[-1] if report.subject else "",
                self.period(report),
                report.number,
                report.version,
                _("Có") if self.current(report) else _("Không"),
            ]
            tail = [
                self.local(report.submitted_at).isoformat(sep=" ", timespec="minutes"),
                self.names.get(report.submitted_by, str(report.submitted_by)),
            ]
            for column, value, unit in self.csv_values(form, report):
                writer.writerow(csv_row([*head, column, value, unit or "", *tail]))
        # UTF-8 with a byte-order mark, so that Excel opens Vietnamese text correctly.
        return ("\ufeff" + text.getvalue()).encode("utf-8")

    def csv_values(self, form: Form, report: Report) -> Iterable[tuple[str, Any, str | None]]:
        for column in self.columns(form):
            value, _fmt = self.value(column, report)
            item = column.field or column.computed
            assert item is not None
            yield self.label(item), _csv_value(value), column.unit
        for key, raw in sorted(report.answers.items()):
            if "." not in key:
                continue
            name, repetition = key.split(".", 1)
            item = form.field(name)
            value, _fmt = self.field_value(item, raw)
            label = f"{self.label(item)} ({int(repetition) + 1})"
            yield label, _csv_value(value), _field_unit(item, self.en)


def export_reports(
    ctx: Reader,
    reports: list[Report],
    communes: dict[int, Commune],
    names: dict[int, str],
    tasks: TaskExport | None = None,
) -> tuple[bytes, bytes]:
    """``(xlsx, csv)`` bytes of every report, every version (and the tasks' sheets)."""
    exporter = Exporter(ctx, reports, communes, names, tasks)
    return exporter.xlsx(), exporter.csv()


def photo_links(ctx: Reader, raw: Any) -> str:
    """A report's photos in a cell: their addresses on the web view (opened after signing in,
    only by those who may see the commune), or how many when there is no web view."""
    ids = [int(i) for i in raw] if isinstance(raw, list) else []
    base = ctx.deps.web_url
    if base:
        return "\n".join(f"{base}/anh/{media_id}" for media_id in ids)
    return ctx.tr.n("{count} ảnh", "{count} ảnh", len(ids), count=len(ids))


def _field_unit(item: FormField, en: bool) -> str | None:
    if item.type == "percent":
        return "%"
    return item.unit_en if en else item.unit


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value
