"""The plan's tasks and the criteria board in the /xuat workbook.

Three sheets after the reports: "Việc" (every unit's task and every commune's share, with the
current state, who marked it and when), "Lịch sử việc" (every mark ever made: nothing is
overwritten) and "Tiêu chí" (communes × commune criteria, then the district criteria), the
view the district uses before the province's appraisal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.cells import finish, sheet_name
from handlers.criteria_status import CriteriaBoard, criterion_codes, standing_word
from handlers.i18n import N_
from handlers.task_view import task_title, unit_name
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
    _criteria_sheet(exporter, book.create_sheet(sheet_name(_("Tiêu chí"), used)), data)


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
    communes = sorted((c for c in exporter.communes.values() if c.active), key=lambda c: c.name)
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


def _criteria_sheet(exporter: Exporter, sheet: Any, data: TaskExport) -> None:
    """Communes × commune criteria, then one row per district criterion."""
    _ = exporter._
    tr = exporter.ctx.tr
    kb = exporter.ctx.deps.kb
    codes = criterion_codes(kb, "xa")
    labels = [_("Tiêu chí {label}", label=kb.indicators[c].label) for c in codes]
    exporter.add_row(sheet, [(_("Xã"), None)] + [(label, None) for label in labels])
    for commune in sorted(exporter.communes.values(), key=lambda c: c.name):
        standings = data.board.communes.get(commune.id)
        if not commune.active or standings is None:
            continue
        exporter.add_row(
            sheet,
            [(commune.name, None)] + [(standing_word(tr, standings[c]), None) for c in codes],
        )
    exporter.add_row(sheet, [])
    exporter.add_row(sheet, [(_("Tiêu chí huyện"), None), (_("Tình trạng"), None)])
    for code, standing in data.board.district.items():
        ind = kb.indicators[code]
        name = ind.name_en if tr.en else ind.name
        exporter.add_row(
            sheet, [(f"{ind.label}. {name}", None), (standing_word(tr, standing), None)]
        )
    finish(sheet)
