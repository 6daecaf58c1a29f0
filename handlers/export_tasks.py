"""The plan's tasks and the criteria board in the /xuat workbook.

Four sheets after the reports: "Việc" (every unit's task and every commune's share, with the
current state, who marked it and when), "Lịch sử việc" (every mark ever made: nothing is
overwritten), "Tiêu chí xã" (communes × commune criteria, each cell its mark and word and
coloured by standing, why in a comment) and "Tiêu chí huyện" (the district criteria and the
goals), the view the district uses before the province's appraisal. Standings come from the
one read model (:mod:`handlers.readmodel.criteria`), words and marks from
:mod:`handlers.criteria_view`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.cells import append_row, finish, sheet_name
from handlers.criteria_view import MARKS, goal_line, reason, standing_word
from handlers.i18n import N_
from handlers.readmodel.criteria import Basis, CriteriaBoard, Standing
from handlers.task_view import task_title, unit_name
from knowledge.collation import vi_key
from knowledge.models import TaskEntry
from storage.communes import Commune
from storage.tasks import TaskMark, TaskStatus

if TYPE_CHECKING:
    from handlers.export import Exporter

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
_STATUS = {
    TaskStatus.DONE: N_("Đã hoàn thành"),
    TaskStatus.IN_PROGRESS: N_("Đang thực hiện"),
    TaskStatus.BLOCKED: N_("Vướng mắc"),
    TaskStatus.OPEN: N_("Đã mở lại"),
}


@dataclass(frozen=True)
class TaskExport:
    """What the task sheets show: every mark in order, who made them, the criteria board."""

    history: list[TaskMark]
    names: dict[int, str]
    board: CriteriaBoard


def add_task_sheets(exporter: Exporter, book: Any, used: set[str], data: TaskExport) -> None:
    """Append the three sheets to ``book``, written like the reports' sheets."""
    _ = exporter._
    _tasks_sheet(exporter, book.create_sheet(sheet_name(_("Việc"), used)), data)
    _history_sheet(exporter, book.create_sheet(sheet_name(_("Lịch sử việc"), used)), data)
    _criteria_sheet(exporter, book.create_sheet(sheet_name(_("Tiêu chí xã"), used)), data)
    _district_sheet(exporter, book.create_sheet(sheet_name(_("Tiêu chí huyện"), used)), data)


def _status(exporter: Exporter, mark: TaskMark | None) -> str:
    return exporter._(_STATUS[mark.status]) if mark is not None else exporter._("Chưa cập nhật")


def _owner(exporter: Exporter, task: TaskEntry, commune: Commune | None) -> str:
    if commune is not None:
        return exporter._("xã {name}", name=commune.name)
    return unit_name(exporter.ctx.deps.kb, task.owner, exporter.ctx.tr)


def _tasks_sheet(exporter: Exporter, sheet: Any, data: TaskExport) -> None:
    _ = exporter._
    kb = exporter.ctx.deps.kb
    current = {m.key: m for m in data.history}  # in order: the last one stays
    exporter.add_row(
        sheet,
        [
            (h, None)
            for h in (
                _("Mã việc"),
                _("Đơn vị / xã"),
                _("Việc"),
                _("Hạn"),
                _("Tình trạng"),
                _("Phần trăm"),
                _("Ghi chú, vướng mắc"),
                _("Cập nhật lúc"),
                _("Người cập nhật"),
                _("Kênh"),
                _("Tiêu chí"),
                _("Nguồn (mục của Kế hoạch)"),
            )
        ],
    )
    communes = sorted(
        (c for c in exporter.communes.values() if c.active), key=lambda c: vi_key(c.name)
    )
    for task in sorted(kb.tasks, key=lambda t: (kb.due(t), t.id)):
        shares: list[Commune | None] = list(communes) if kb.is_commune_task(task) else [None]
        for commune in shares:
            mark = current.get((task.id, commune.id if commune else None))
            exporter.add_row(
                sheet,
                [
                    (task.id, None),
                    (_owner(exporter, task, commune), None),
                    (task_title(task, exporter.ctx.tr), None),
                    (kb.due(task), DATE_FORMAT),
                    (_status(exporter, mark), None),
                    (mark.percent if mark else None, "0"),
                    (mark.note if mark else None, None),
                    (exporter.local(mark.at) if mark else None, DATETIME_FORMAT),
                    (data.names.get(mark.by_user, str(mark.by_user)) if mark else None, None),
                    (mark.channel if mark else None, None),
                    (", ".join(c.split(":")[-1] for c in task.criteria), None),
                    (task.source, None),
                ],
            )
    finish(sheet)


def _history_sheet(exporter: Exporter, sheet: Any, data: TaskExport) -> None:
    _ = exporter._
    kb = exporter.ctx.deps.kb
    exporter.add_row(
        sheet,
        [
            (h, None)
            for h in (
                _("Lúc"),
                _("Mã việc"),
                _("Đơn vị / xã"),
                _("Việc"),
                _("Tình trạng"),
                _("Phần trăm"),
                _("Ghi chú, vướng mắc"),
                _("Người cập nhật"),
                _("Kênh"),
            )
        ],
    )
    for mark in data.history:
        task = kb.task(mark.task_id)
        commune = exporter.communes.get(mark.commune_id) if mark.commune_id else None
        exporter.add_row(
            sheet,
            [
                (exporter.local(mark.at), DATETIME_FORMAT),
                (mark.task_id, None),
                (_owner(exporter, task, commune) if task else "", None),
                (task_title(task, exporter.ctx.tr) if task else _("(không còn trong Kế hoạch)"),
                 None),
                (_status(exporter, mark), None),
                (mark.percent, "0"),
                (mark.note, None),
                (data.names.get(mark.by_user, str(mark.by_user)), None),
                (mark.channel, None),
            ],
        )  # fmt: skip
    finish(sheet)


# Fills that tell standings apart on screen; the mark and the word tell them apart on paper.
FILLS = {
    Standing.MET: "C6EFCE",
    Standing.IN_PROGRESS: "FFEB9C",
    Standing.LATE: "FFC7CE",
    Standing.NO_DATA: "EDEDED",
}


def standing_cell(exporter: Exporter, standing: Standing) -> str:
    return f"{MARKS[standing]} {standing_word(exporter.ctx.tr, standing)}"


def _paint(cell: Any, standing: Standing) -> None:
    from openpyxl.styles import PatternFill

    colour = FILLS[standing]
    cell.fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")


def _criteria_sheet(exporter: Exporter, sheet: Any, data: TaskExport) -> None:
    """Communes × commune criteria: short headers ("TC 17") with the criterion's name in a
    comment, each cell the standing's mark and word, coloured; why, in a comment."""
    from openpyxl.comments import Comment

    _ = exporter._
    tr = exporter.ctx.tr
    kb = exporter.ctx.deps.kb
    board = data.board
    codes = board.criteria
    headers = [_("Xã"), _("Tiêu chí đạt")] + [
        _("TC {label}", label=kb.indicators[c].label) for c in codes
    ]
    append_row(sheet, headers)
    for column, code in enumerate(codes, start=3):
        ind = kb.indicators[code]
        name = ind.name_en if tr.en else ind.name
        sheet.cell(row=1, column=column).comment = Comment(f"{ind.label}. {name}", "Trợ lý NTM")
    today, tz = exporter.ctx.today, exporter.ctx.now.tzinfo
    for commune in sorted(exporter.communes.values(), key=lambda c: vi_key(c.name)):
        cells = board.communes.get(commune.id)
        if not commune.active or cells is None:
            continue
        met = board.tally(commune.id)[Standing.MET]
        append_row(
            sheet,
            [commune.name, f"{met}/{len(codes)}"]
            + [standing_cell(exporter, cells[c].standing) for c in codes],
        )
        row = sheet.max_row
        for column, code in enumerate(codes, start=3):
            cell = sheet.cell(row=row, column=column)
            _paint(cell, cells[code].standing)
            if cells[code].basis in (Basis.REPORT, Basis.TASKS, Basis.PARTS):
                why = reason(tr, kb, cells[code], today, tz)
                cell.comment = Comment(why, "Trợ lý NTM")
    finish(sheet)


def _district_sheet(exporter: Exporter, sheet: Any, data: TaskExport) -> None:
    """The district criteria (each with its standing and why) and the goals, apart from the
    communes."""
    _ = exporter._
    tr = exporter.ctx.tr
    kb = exporter.ctx.deps.kb
    board = data.board
    today, tz = exporter.ctx.today, exporter.ctx.now.tzinfo
    append_row(sheet, [_("Tiêu chí huyện"), _("Tình trạng"), _("Căn cứ"), _("Hạn")])
    for code in board.district_criteria:
        for shown in (code, *kb.indicators[code].children):
            ind = kb.indicators[shown]
            cell = board.district[shown]
            name = ind.name_en if tr.en else ind.name
            indent = "    " if ind.is_sub else ""
            append_row(
                sheet,
                [
                    f"{indent}{ind.label}. {name}",
                    standing_cell(exporter, cell.standing),
                    reason(tr, kb, cell, today, tz),
                    cell.due,
                ],
            )
            row = sheet.max_row
            _paint(sheet.cell(row=row, column=2), cell.standing)
            if cell.due is not None:
                sheet.cell(row=row, column=4).number_format = DATE_FORMAT
    for goal in board.goals:
        append_row(sheet, [])
        append_row(sheet, [goal_line(tr, kb, goal, len(board.criteria)).plain().lstrip("• ")])
    finish(sheet)
