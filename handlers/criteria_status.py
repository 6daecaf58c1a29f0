"""Where each criterion stands, derived from the owners' tasks and the communes' criteria
reports: met, in progress, late or no data — per commune for the commune criteria, for the
district for the district criteria. The view the district uses before the province's appraisal.

The rules, for one indicator (a criterion or a sub-indicator):

- **met** — at a commune, the newest criteria report on it (or on its criterion, for a
  sub-indicator) says "đạt"; a criterion with sub-indicators is met when every one of them is.
  At the district, every task serving it is done.
- **late** — not met, and a report on it expected it met before today, or a task serving it
  (the owning unit's, or the commune's own share) is past its due date and not done.
- **in progress** — not met, not late, and something is known: a report, or a task marked.
- **no data** — nothing reported and no task marked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from handlers.i18n import N_, Tr
from handlers.task_view import Progress, is_done, load_progress
from knowledge.base import Indicator, KnowledgeBase
from knowledge.models import TaskEntry
from storage.db import Store
from storage.reports import Report, ReportRepo
from storage.tasks import TaskMark, TaskStatus

CRITERIA_FORM = "tieu-chi"
Marked = tuple[TaskEntry, "TaskMark | None"]
MET_VALUE = "dat"


class Standing(StrEnum):
    MET = "met"
    IN_PROGRESS = "in_progress"
    LATE = "late"
    NO_DATA = "no_data"


# In the order the office reads them: what needs chasing first.
ORDER = (Standing.LATE, Standing.IN_PROGRESS, Standing.NO_DATA, Standing.MET)
_WORDS = {
    Standing.MET: N_("Đạt"),
    Standing.IN_PROGRESS: N_("Đang thực hiện"),
    Standing.LATE: N_("Chậm"),
    Standing.NO_DATA: N_("Chưa có số liệu"),
}


def standing_word(tr: Tr, standing: Standing) -> str:
    return tr(_WORDS[standing])


@dataclass
class CriteriaBoard:
    """Every commune criterion at every commune, and every district criterion."""

    communes: dict[int, dict[str, Standing]] = field(default_factory=dict)
    district: dict[str, Standing] = field(default_factory=dict)

    def count(self, code: str) -> Counter[Standing]:
        """How the communes stand on one commune indicator."""
        return Counter(per.get(code, Standing.NO_DATA) for per in self.communes.values())


def criterion_codes(kb: KnowledgeBase, level: str) -> list[str]:
    return [i.code for i in kb.indicators.values() if i.level == level and i.parent is None]


def owned_indicators(kb: KnowledgeBase, unit: str) -> list[Indicator]:
    """What a unit answers for: a whole criterion when it owns all of it, else the
    sub-indicators it owns (Phòng Tư pháp: 18.5 of criterion 18)."""
    owned: list[Indicator] = []
    for crit in kb.indicators.values():
        if crit.parent is not None:
            continue
        kids = [kb.indicators[k] for k in crit.children]
        mine = [k for k in kids if unit in k.owners]
        if (not kids and unit in crit.owners) or (kids and len(mine) == len(kids)):
            owned.append(crit)
        else:
            owned.extend(mine)
    return owned


class _Deriver:
    def __init__(
        self, kb: KnowledgeBase, progress: Progress, reports: Iterable[Report], today: dt.date
    ) -> None:
        self.kb = kb
        self.progress = progress
        self.today = today
        self.reports: dict[tuple[int, str], Report] = {}
        for report in reports:
            if report.form_id == CRITERIA_FORM:
                key = (report.commune_id, report.subject)
                held = self.reports.get(key)
                if held is None or _newer(report, held):
                    self.reports[key] = report
        self.serving: dict[str, list[TaskEntry]] = {}
        for task in kb.tasks:
            for code in task.criteria:
                self.serving.setdefault(code, []).append(task)
        self._tasks_for: dict[str, list[TaskEntry]] = {}
        self._commune_task = {t.id: kb.is_commune_task(t) for t in kb.tasks}
        self._overdue = {t.id: kb.due(t) < today for t in kb.tasks}

    def tasks_for(self, code: str) -> list[TaskEntry]:
        """Tasks serving an indicator: named for it, its criterion or its sub-indicators."""
        found = self._tasks_for.get(code)
        if found is None:
            found = self._tasks_for[code] = self._find_tasks(code)
        return found

    def _find_tasks(self, code: str) -> list[TaskEntry]:
        ind = self.kb.indicators[code]
        codes = [code, *ind.children] + ([ind.parent] if ind.parent else [])
        found: dict[str, TaskEntry] = {}
        for c in codes:
            for task in self.serving.get(c, []):
                found[task.id] = task
        return list(found.values())

    def _task_marks(self, tasks: list[TaskEntry], commune_id: int | None) -> list[Marked]:
        out: list[Marked] = []
        for task in tasks:
            share = commune_id if self._commune_task[task.id] else None
            out.append((task, self.progress.of(task.id, share)))
        return out

    def _late_task(self, marks: list[Marked]) -> bool:
        return any(not is_done(mark) and self._overdue[task.id] for task, mark in marks)

    def _effective(self, commune_id: int, code: str) -> Report | None:
        """The report that says how a sub-indicator stands: its own or its criterion's,
        whichever is newer."""
        ind = self.kb.indicators[code]
        own = self.reports.get((commune_id, code))
        whole = self.reports.get((commune_id, ind.parent)) if ind.parent else None
        if own is None or (whole is not None and _newer(whole, own)):
            return whole
        return own

    def at_commune(self, commune_id: int, code: str) -> Standing:
        ind = self.kb.indicators[code]
        if ind.children:
            effective = [self._effective(commune_id, k) for k in ind.children]
            known = [r for r in effective if r is not None]
            if (whole := self.reports.get((commune_id, code))) is not None:
                known.append(whole)
        else:
            one = self._effective(commune_id, code)
            effective = [one]
            known = [one] if one is not None else []
        if effective and all(r is not None and _met(r) for r in effective):
            return Standing.MET
        marks = self._task_marks(self.tasks_for(code), commune_id)
        if any(not _met(r) and _expected_before(r, self.today) for r in known):
            return Standing.LATE
        if self._late_task(marks):
            return Standing.LATE
        if known or any(m is not None and m.status is not TaskStatus.OPEN for _, m in marks):
            return Standing.IN_PROGRESS
        return Standing.NO_DATA

    def at_district(self, code: str) -> Standing:
        marks = self._task_marks(self.tasks_for(code), None)
        if marks and all(is_done(mark) for _, mark in marks):
            return Standing.MET
        if self._late_task(marks):
            return Standing.LATE
        if any(m is not None and m.status is not TaskStatus.OPEN for _, m in marks):
            return Standing.IN_PROGRESS
        return Standing.NO_DATA


def derive_board(
    kb: KnowledgeBase,
    progress: Progress,
    reports: Iterable[Report],
    commune_ids: Iterable[int],
    today: dt.date,
    *,
    codes: Iterable[str] | None = None,
) -> CriteriaBoard:
    """The board for these communes (every commune criterion, or only ``codes``)."""
    deriver = _Deriver(kb, progress, reports, today)
    wanted = list(codes) if codes is not None else criterion_codes(kb, "xa")
    board = CriteriaBoard()
    for commune_id in commune_ids:
        board.communes[commune_id] = {
            c: deriver.at_commune(commune_id, c) for c in wanted if c.startswith("xa:")
        }
    for code in criterion_codes(kb, "huyen") + [c for c in wanted if c.startswith("huyen:")]:
        board.district[code] = deriver.at_district(code)
    return board


def _newer(a: Report, b: Report) -> bool:
    return (a.submitted_at, a.id) > (b.submitted_at, b.id)


def _met(report: Report) -> bool:
    return report.answers.get("status") == MET_VALUE


def _expected_before(report: Report, today: dt.date) -> bool:
    raw = report.answers.get("expected")
    try:
        return raw is not None and dt.date.fromisoformat(str(raw)) < today
    except ValueError:
        return False


async def load_board(
    kb: KnowledgeBase,
    db: Store,
    today: dt.date,
    tz: dt.tzinfo | None,
    commune_ids: Iterable[int],
    *,
    codes: Iterable[str] | None = None,
) -> CriteriaBoard:
    """The board as the database has it now."""
    ids = list(commune_ids)
    reports: list[Report] = []
    if len(ids) == 1:
        reports = await ReportRepo(db).latest(commune_id=ids[0], form_id=CRITERIA_FORM)
    elif ids:
        reports = await ReportRepo(db).latest(form_id=CRITERIA_FORM)
    progress = await load_progress(db, tz)
    return derive_board(kb, progress, reports, ids, today, codes=codes)
