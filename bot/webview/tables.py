"""The district overview as a table: every commune (those that never reported too) × each
form's key figures, with the report's date and who sent it; sortable by any column and paged
(a province's 10,000 communes stay usable)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from babel.dates import format_date

from handlers.reader import Reader
from handlers.readmodel.criteria import CriteriaBoard, Standing
from handlers.report_view import figure_label, figure_value
from knowledge.collation import vi_key
from knowledge.form_rules import compute_all
from knowledge.forms import Form
from storage.communes import Commune
from storage.reports import Report

PAGE_SIZE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    key: str  # the sort key in the address: "xa", "bhyt.rate", "bhyt.date", …
    label: str
    group: str = ""  # the form it belongs to (a header spanning its columns)
    numeric: bool = False


@dataclass
class Cell:
    text: str = ""
    sort: Any = None  # None sorts last whichever the direction
    title: str = ""


@dataclass
class Row:
    commune: Commune
    cells: dict[str, Cell] = field(default_factory=dict)
    newest: dict[str, Report] = field(default_factory=dict)  # per form, for the text


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    pages: int
    total: int


Current = dict[tuple[int, str], list[Report]]


def current_by_commune(reports: Iterable[Report]) -> Current:
    """The current reports (one per series: the newest period's newest version), per commune
    and form."""
    return with_reports({}, reports)


def with_reports(current: Current, reports: Iterable[Report]) -> Current:
    """``current`` once ``reports`` are added: each takes its series' place if it is newer
    (period, then version). A new mapping; ``current`` and its lists stay as they were (a
    page may be reading them)."""
    out = dict(current)
    places: dict[tuple[int, str], dict[str, int]] = {}  # per list copied here: subject → index
    for report in reports:
        key = (report.commune_id, report.form_id)
        place = places.get(key)
        if place is None:
            held = out[key] = list(out.get(key, []))
            place = places[key] = {r.subject: i for i, r in enumerate(held)}
        else:
            held = out[key]
        index = place.get(report.subject)
        if index is None:
            place[report.subject] = len(held)
            held.append(report)
        elif (report.period, report.version) > (held[index].period, held[index].version):
            held[index] = report
    return out


def columns(ctx: Reader, forms: Sequence[Form]) -> list[Column]:
    _ = ctx.tr
    cols = [Column("xa", _("Xã, thị trấn"))]
    for form in forms:
        title = form.title_en if ctx.tr.en else form.title
        if form.subject_field:
            cols.append(Column(f"{form.id}.met", _("Đạt / đã báo cáo"), title, numeric=True))
        else:
            for key in form.figures:
                label = figure_label(ctx, form, key)
                cols.append(Column(f"{form.id}.{key}", label, title, numeric=_numeric(form, key)))
        cols.append(Column(f"{form.id}.date", _("Ngày báo cáo"), title, numeric=True))
        cols.append(Column(f"{form.id}.who", _("Người gửi"), title))
    cols.append(Column("criteria.met", _("Tiêu chí đạt"), _("Tiêu chí"), numeric=True))
    cols.append(Column("criteria.late", _("Tiêu chí chậm"), _("Tiêu chí"), numeric=True))
    return cols


def _numeric(form: Form, key: str) -> bool:
    if any(c.key == key for c in form.computed):
        return True
    return form.field(key).type in ("integer", "number", "percent", "date")


def rows(
    forms: Sequence[Form],
    communes: Sequence[Commune],
    current: Current,
    names: dict[int, str],
    board: CriteriaBoard,
) -> list[Row]:
    """These communes' rows with the values they sort by; the text is written later, for the
    rows a page shows (:func:`write_text`)."""
    out: list[Row] = []
    for commune in communes:
        row = Row(commune, {"xa": Cell(commune.name, vi_key(commune.name))})
        for form in forms:
            reports = current.get((commune.id, form.id), [])
            if reports:
                form_cells(form, reports, names, row)
        tally = board.tally(commune.id) if commune.id in board.communes else Counter()
        row.cells |= criteria_cells(tally, board)
        out.append(row)
    return out


def criteria_cells(tally: Mapping[Standing, int], board: CriteriaBoard) -> dict[str, Cell]:
    """A commune's criteria columns: how many are met (of all), how many late."""
    met, late = tally.get(Standing.MET, 0), tally.get(Standing.LATE, 0)
    return {
        "criteria.met": Cell(f"{met}/{len(board.criteria)}", met),
        "criteria.late": Cell(str(late), late),
    }


def form_cells(form: Form, reports: list[Report], names: dict[int, str], row: Row) -> None:
    """A form's cells in a commune's row: its key figures, date and sender (the newest)."""
    newest = max(reports, key=lambda r: (r.submitted_at, r.id))
    row.newest[form.id] = newest
    if form.subject_field:
        met = sum(1 for r in reports if r.meets_target)
        row.cells[f"{form.id}.met"] = Cell(f"{met}/{len(reports)}", met)
    else:
        values = _values(form, newest)
        for key in form.figures:
            value = values.get(key)
            if value is not None:
                sort = value if not isinstance(value, str) else _date_or_text(value)
                row.cells[f"{form.id}.{key}"] = Cell(sort=sort)
    row.cells[f"{form.id}.date"] = Cell(sort=newest.report_date, title=newest.number)
    who = names.get(newest.submitted_by, "")
    row.cells[f"{form.id}.who"] = Cell(who, vi_key(who), newest.channel)


def _values(form: Form, report: Report) -> dict[str, Any]:
    """The answers and computed values as stored when it was sent (computed again only for a
    report stored without them)."""
    if report.computed or not form.computed:
        return report.answers | report.computed
    return compute_all(form, report.answers)


def write_text(ctx: Reader, forms: Sequence[Form], page: Sequence[Row]) -> None:
    """The cells' text in the viewer's language, for the rows shown."""
    for row in page:
        for form in forms:
            newest = row.newest.get(form.id)
            if newest is None:
                continue
            if not form.subject_field:
                values = _values(form, newest)
                for key in form.figures:
                    cell = row.cells.get(f"{form.id}.{key}")
                    if cell is not None:
                        cell.text = figure_value(ctx, form, key, values)
            date = row.cells[f"{form.id}.date"]
            date.text = format_date(newest.report_date, "dd/MM/yyyy", locale=ctx.lang)


def _date_or_text(value: str) -> Any:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return vi_key(value)


def sort_rows(table: list[Row], key: str, descending: bool) -> list[Row]:
    """Sorted by a column; communes without a value come last either way, then by name."""
    present: list[Row] = []
    absent: list[Row] = []
    for row in table:
        cell = row.cells.get(key)
        (present if cell is not None and cell.sort is not None else absent).append(row)
    present.sort(
        key=lambda r: (_comparable(r.cells[key].sort), vi_key(r.commune.name)), reverse=descending
    )
    absent.sort(key=lambda r: vi_key(r.commune.name))
    return present + absent


def _comparable(value: Any) -> tuple[int, Any]:
    """Numbers, dates and text in one column still sort (by kind first)."""
    if isinstance(value, bool | int | float):
        return (0, float(value))
    if isinstance(value, dt.date):
        return (1, value.toordinal())
    if isinstance(value, tuple):  # a Vietnamese sort key (knowledge.collation)
        return (2, value)
    return (2, vi_key(str(value)))


def page_of(table: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    pages = max(1, math.ceil(len(table) / size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(list(table[start : start + size]), number, pages, len(table))
