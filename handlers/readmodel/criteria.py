"""The one truth about every criterion: where each (commune or district, indicator) stands, why,
and on what evidence — computed from the reports, the task marks and the plan's evidence rules
(``knowledge/data/evidence.yaml``, :mod:`knowledge.evidence`).

Every view reads this board: ``/xa``, ``/cuatoi``, ``/tonghop``, ``/viec``, the answers, the
reminders, the digest, ``/xuat`` and the web view. None of them derives a standing, a count or
an order on its own.

The rules, for one indicator without sub-indicators at a commune:

- the **reports** that show it are its rule's measures (a form's target on a field) and the
  reports of a form whose role is ``indicator-status`` on it or on its criterion; the newest of
  them decides: met, or not met (with the figure, or the status and expected date);
- the commune's own **tasks** it needs (its shares, marked in ``/viec``): all done is met; a
  report decides over them, unless every task was marked done after it;
- not met: **late** once its due date (or the date a report expected it met) has passed,
  else **in progress** when anything is known, else **no data**.

At the district an indicator stands on the district units' tasks its rule names. A criterion
with sub-indicators is met when all of them are, late when one is, in progress when any is met
or in progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from handlers.task_view import Progress, load_progress
from knowledge.base import KnowledgeBase
from knowledge.evidence import Evidence, Rule
from knowledge.form_rules import target_met
from knowledge.forms import Form
from storage.communes import Commune
from storage.db import Store
from storage.reports import Report, ReportRepo
from storage.tasks import TaskMark, TaskStatus


class Standing(StrEnum):
    MET = "met"
    IN_PROGRESS = "in_progress"
    LATE = "late"
    NO_DATA = "no_data"


# In the order the office reads them: what needs chasing first.
ORDER = (Standing.LATE, Standing.IN_PROGRESS, Standing.NO_DATA, Standing.MET)


class Basis(StrEnum):
    """What a standing rests on."""

    REPORT = "report"  # a report decided: ``report``, with ``figure`` for a measure
    TASKS = "tasks"  # the task marks decided: ``mark`` is the newest of them
    DUE = "due"  # nothing known, and ``due`` has passed
    NOTHING = "nothing"  # nothing known yet
    PARTS = "parts"  # a criterion: from its sub-indicators, ``parts`` = (met, all)


class Cell(NamedTuple):
    """Where one indicator stands at one place, and why. (A named tuple: a province's board
    has a million of them, made in a fraction of a dataclass's time.)"""

    standing: Standing
    basis: Basis
    due: dt.date | None = None
    report: Report | None = None
    figure: str | None = None  # the field or computed value of ``report`` that decided
    expected: dt.date | None = None  # when the report expected it met
    mark: TaskMark | None = None  # the mark of ``task``
    parts: tuple[int, int] | None = None
    task: str | None = None  # the task whose state says why (the first one due, not done)


@dataclass(frozen=True)
class GoalProgress:
    """A goal the communes reach together: how many of them meet every commune criterion."""

    deadline: str
    met: int
    total: int


@dataclass
class CriteriaBoard:
    """Every commune indicator at every commune, every district indicator, the goals."""

    criteria: tuple[str, ...]  # the commune criteria (top level), in the plan's order
    district_criteria: tuple[str, ...]
    communes: dict[int, Mapping[str, Cell]] = field(default_factory=dict)
    district: Mapping[str, Cell] = field(default_factory=dict)
    goals: tuple[GoalProgress, ...] = ()

    def cell(self, commune_id: int, code: str) -> Cell:
        return self.communes[commune_id][code]

    def standing(self, commune_id: int, code: str) -> Standing:
        return self.communes[commune_id][code].standing

    def tally(self, commune_id: int) -> Counter[Standing]:
        """How a commune's criteria stand (the top-level ones: 19 for the commune set)."""
        cells = self.communes[commune_id]
        return Counter(cells[code].standing for code in self.criteria)

    def count(self, code: str) -> Counter[Standing]:
        """How the communes stand on one commune indicator."""
        return Counter(cells[code].standing for cells in self.communes.values())

    def meets_all(self, commune_id: int) -> bool:
        cells = self.communes[commune_id]
        return all(cells[code].standing is Standing.MET for code in self.criteria)


# -- the computation -------------------------------------------------------------------------


class _Verdict(NamedTuple):
    met: bool
    at: tuple[dt.datetime, int]
    report: Report | None = None
    figure: str | None = None
    expected: dt.date | None = None
    mark: TaskMark | None = None
    task: str | None = None


class _Tasks(NamedTuple):
    """Where a rule's tasks stand at one place."""

    verdict: _Verdict | None  # all done (met), some started (not met), or nothing marked
    open_due: dt.date | None  # the earliest due date of those not done
    first_open: str | None  # that task
    first_mark: TaskMark | None  # and its mark


def _earliest(*dates: dt.date | None) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return min(known) if known else None


class _Deriver:
    """Holds the plan's side of the computation (rules, indexes, the cell of a place with no
    evidence) so that a board for 10,000 communes computes only what evidence touches."""

    def __init__(self, kb: KnowledgeBase, progress: Progress, today: dt.date) -> None:
        evidence = kb.evidence
        assert evidence is not None, "the plan has no evidence rules"
        self.kb = kb
        self.evidence: Evidence = evidence
        self.progress = progress
        self.today = today
        self.forms: dict[str, Form] = kb.forms
        codes = list(kb.indicators)
        self.commune_codes = [c for c in codes if kb.indicators[c].level == "xa"]
        self.district_codes = [c for c in codes if kb.indicators[c].level == "huyen"]
        self.leaves = {c for c in codes if not kb.indicators[c].children}
        self.rules = evidence.rules
        self.parent = {c: kb.indicators[c].parent for c in codes}
        # A status report on an indicator reaches it, or each of its sub-indicators.
        self.reaches = {c: set(kb.indicators[c].children) or {c} for c in self.commune_codes}
        # For each indicator-status form: its status field, value → met?, its expected date.
        self.status_meaning: dict[str, tuple[str, dict[object, bool], str | None]] = {}
        for form in kb.forms.values():
            if form.standing is not None:
                meaning: dict[object, bool] = {v: True for v in form.standing.met}
                meaning |= {v: False for v in form.standing.in_progress + form.standing.not_met}
                self.status_meaning[form.id] = (
                    form.standing.field,
                    meaning,
                    form.standing.expected,
                )
        self._verdicts: dict[tuple[int, str | None], _Verdict | None] = {}
        # Which leaves a piece of evidence can touch.
        self.by_form: dict[str, set[str]] = {}
        self.by_task: dict[str, set[str]] = {}
        for code in self.commune_codes:
            if code not in self.leaves:
                continue
            rule = evidence.rule(code)
            for source in rule.reports:
                self.by_form.setdefault(source.form, set()).add(code)
            for task_id in rule.tasks:
                self.by_task.setdefault(task_id, set()).add(code)
        self.blank = self._blank()

    def _blank(self) -> dict[str, Cell]:
        """A commune with no evidence at all: late where the due date has passed."""
        cells: dict[str, Cell] = {}
        for code in self.commune_codes:
            if code in self.leaves:
                cells[code] = self._nothing(self.evidence.rule(code))
        for code in self.commune_codes:
            if code not in self.leaves:
                cells[code] = self._aggregate(code, cells)
        return cells

    def _nothing(self, rule: Rule, tasks: _Tasks | None = None) -> Cell:
        """Nothing known: late once the first date it is due has passed."""
        if tasks is not None:
            due, first = _earliest(rule.due, tasks.open_due), tasks.first_open
        else:
            due = rule.first_due()
            first = min(zip(rule.task_dues, rule.tasks, strict=True))[1] if rule.tasks else None
        if due is not None and due < self.today:
            return Cell(Standing.LATE, Basis.DUE, due=due, task=first)
        return Cell(Standing.NO_DATA, Basis.NOTHING, due=due, task=first)

    # -- a commune ----------------------------------------------------------------------------
    def commune(
        self,
        commune_id: int,
        measures: Mapping[str, Report],
        statuses: Mapping[str, Report],
    ) -> Mapping[str, Cell]:
        """One commune's cells: ``measures`` its current report per form, ``statuses`` its
        current indicator-status report per indicator."""
        touched: set[str] = set()
        for form_id in measures:
            touched |= self.by_form.get(form_id, set())
        for code in statuses:
            touched |= self.reaches.get(code, set())
        for task_id, codes in self.by_task.items():
            if self.progress.of(task_id, commune_id) is not None:
                touched |= codes
        if not touched:
            return self.blank
        cells = dict(self.blank)
        parents: set[str] = set()
        tasks: dict[tuple[str, ...], _Tasks] = {}
        # Leaves that rest on the same tasks alone stand alike (the commune's share of "the
        # other contents" serves forty of them): worked out once.
        alike: dict[tuple[tuple[str, ...], dt.date | None], Cell] = {}
        for code in touched:
            rule = self.rules[code]
            if rule.tasks not in tasks:
                tasks[rule.tasks] = self._tasks(rule, commune_id)
            reported = (
                code in statuses
                or self.parent[code] in statuses
                or any(source.form in measures for source in rule.reports)
            )
            if reported:
                cells[code] = self._leaf(rule, measures, statuses, tasks[rule.tasks])
            else:
                shape = (rule.tasks, rule.due)
                if shape not in alike:
                    alike[shape] = self._leaf(rule, measures, statuses, tasks[rule.tasks])
                cells[code] = alike[shape]
            parent = self.parent[code]
            if parent is not None:
                parents.add(parent)
        for parent in parents:
            cells[parent] = self._aggregate(parent, cells)
        return cells

    def _leaf(
        self,
        rule: Rule,
        measures: Mapping[str, Report],
        statuses: Mapping[str, Report],
        tasks: _Tasks,
    ) -> Cell:
        report: _Verdict | None = None
        for source in rule.reports:
            held = measures.get(source.form)
            verdict = self._measure(held, source.field) if held is not None else None
            if verdict is not None and (report is None or verdict.at > report.at):
                report = verdict
        for code in (rule.code, self.parent[rule.code]):
            held = statuses.get(code) if code is not None else None
            verdict = self._status(held) if held is not None else None
            if verdict is not None and (report is None or verdict.at > report.at):
                report = verdict
        marked = tasks.verdict
        decider = report
        if report is None or (
            not report.met and marked is not None and marked.met and marked.at > report.at
        ):
            decider = marked
        if decider is None:
            return self._nothing(rule, tasks)
        basis = Basis.REPORT if decider.report is not None else Basis.TASKS
        # By when: what is still to do; when every task is done but a newer report says it
        # is not met, the date it was due all along.
        due = _earliest(rule.due, tasks.open_due) or rule.first_due()
        if decider.met:
            standing = Standing.MET
        elif (due is not None and due < self.today) or (
            decider.expected is not None and decider.expected < self.today
        ):
            standing = Standing.LATE
        else:
            standing = Standing.IN_PROGRESS
        if basis is Basis.TASKS and not decider.met:
            mark, task = tasks.first_mark, tasks.first_open  # why: the first one due
        else:
            mark, task = decider.mark, decider.task
        return Cell(standing, basis, due, decider.report, decider.figure, decider.expected, mark,
                    None, task)  # fmt: skip

    def _measure(self, report: Report, key: str) -> _Verdict | None:
        """Whether a report meets its form's targets on ``key`` (kept: one report serves
        several indicators)."""
        memo = (report.id, key)
        known = self._verdicts.get(memo, _UNSEEN)
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        verdict = None
        form = self.forms.get(report.form_id)
        if form is not None:
            values = {**report.answers, **report.computed}
            results = [target_met(t, values) for t in form.targets_on(key)]
            if results and all(r is not None for r in results):
                verdict = _Verdict(all(results), (report.submitted_at, report.id), report, key)
        self._verdicts[memo] = verdict
        return verdict

    def _status(self, report: Report) -> _Verdict | None:
        """What an indicator-status report says (kept: a criterion's report serves each of its
        sub-indicators)."""
        memo = (report.id, None)
        known = self._verdicts.get(memo, _UNSEEN)
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        verdict = None
        meaning = self.status_meaning.get(report.form_id)
        if meaning is not None:
            field, values, expected_key = meaning
            met = values.get(report.answers.get(field))
            if met is not None:
                expected = _date(report.answers.get(expected_key)) if expected_key else None
                verdict = _Verdict(met, (report.submitted_at, report.id), report, None, expected)
        self._verdicts[memo] = verdict
        return verdict

    def _tasks(self, rule: Rule, commune_id: int | None) -> _Tasks:
        """The rule's tasks at one place: all done is met (as of the last of them), some
        started is not met; the first one due that is not done, and when."""
        marks = [self.progress.of(t, commune_id) for t in rule.tasks]
        first: tuple[dt.date, str, TaskMark | None] | None = None
        for task, due, mark in zip(rule.tasks, rule.task_dues, marks, strict=True):
            if (mark is None or mark.status is not TaskStatus.DONE) and (
                first is None or (due, task) < first[:2]
            ):
                first = (due, task, mark)
        known = [m for m in marks if m is not None and m.status is not TaskStatus.OPEN]
        verdict = None
        if known:
            newest = max(known, key=lambda m: m.id)
            verdict = _Verdict(first is None, (newest.at, newest.id), mark=newest,
                               task=newest.task_id)  # fmt: skip
        if first is None:
            return _Tasks(verdict, None, None, None)
        return _Tasks(verdict, first[0], first[1], first[2])

    def _aggregate(self, code: str, cells: Mapping[str, Cell]) -> Cell:
        kids = [cells[k] for k in self.kb.indicators[code].children]
        met = sum(1 for c in kids if c.standing is Standing.MET)
        parts = (met, len(kids))
        due = min((c.due for c in kids if c.due is not None), default=None)
        if met == len(kids):
            standing = Standing.MET
        elif any(c.standing is Standing.LATE for c in kids):
            standing = Standing.LATE
        elif met or any(c.standing is Standing.IN_PROGRESS for c in kids):
            standing = Standing.IN_PROGRESS
        else:
            standing = Standing.NO_DATA
        return Cell(standing, Basis.PARTS, due=due, parts=parts)

    # -- the district -------------------------------------------------------------------------
    def district(self) -> dict[str, Cell]:
        cells: dict[str, Cell] = {}
        for code in self.district_codes:
            if code in self.leaves:
                cells[code] = self._district_leaf(self.evidence.rule(code))
        for code in self.district_codes:
            if code not in self.leaves:
                cells[code] = self._aggregate(code, cells)
        return cells

    def _district_leaf(self, rule: Rule) -> Cell:
        tasks = self._tasks(rule, None)
        verdict = tasks.verdict
        if verdict is not None and verdict.met:
            return Cell(Standing.MET, Basis.TASKS, due=rule.first_due(), mark=verdict.mark,
                        task=verdict.task)  # fmt: skip
        due = _earliest(rule.due, tasks.open_due)
        mark, task = tasks.first_mark, tasks.first_open
        if due is not None and due < self.today:
            basis = Basis.TASKS if verdict is not None else Basis.DUE
            return Cell(Standing.LATE, basis, due=due, mark=mark, task=task)
        if verdict is not None:
            return Cell(Standing.IN_PROGRESS, Basis.TASKS, due=due, mark=mark, task=task)
        return Cell(Standing.NO_DATA, Basis.NOTHING, due=due, mark=mark, task=task)


_UNSEEN = object()


def _date(raw: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _newer(a: Report, b: Report) -> bool:
    return (a.submitted_at, a.id) > (b.submitted_at, b.id)


def evidence_forms(kb: KnowledgeBase) -> list[str]:
    """The forms whose reports are evidence of some standing (what the board reads)."""
    assert kb.evidence is not None
    measured = {s.form for r in kb.evidence.rules.values() for s in r.reports}
    return sorted(measured | set(kb.evidence.status_forms))


def derive_board(
    kb: KnowledgeBase,
    progress: Progress,
    reports: Iterable[Report],
    communes: Sequence[Commune],
    today: dt.date,
) -> CriteriaBoard:
    """The board for these communes, from their current reports (other reports are ignored:
    pass the current ones, e.g. ``ReportRepo.latest``)."""
    deriver = _Deriver(kb, progress, today)
    evidence = deriver.evidence
    status_forms = set(evidence.status_forms)
    measures: dict[int, dict[str, Report]] = {}
    statuses: dict[int, dict[str, Report]] = {}
    for report in reports:
        if report.form_id in status_forms:
            held = statuses.setdefault(report.commune_id, {})
            now = held.get(report.subject)
            if now is None or _newer(report, now):
                held[report.subject] = report
        elif report.form_id in deriver.by_form:
            held = measures.setdefault(report.commune_id, {})
            now = held.get(report.form_id)
            if now is None or (report.period, report.version) > (now.period, now.version):
                held[report.form_id] = report
    board = CriteriaBoard(
        criteria=tuple(i.code for i in kb.top_level("xa")),
        district_criteria=tuple(i.code for i in kb.top_level("huyen")),
    )
    empty: dict[str, Report] = {}
    for commune in communes:
        board.communes[commune.id] = deriver.commune(
            commune.id, measures.get(commune.id, empty), statuses.get(commune.id, empty)
        )
    board.district = deriver.district()
    board.goals = _goals(kb, board, communes)
    return board


def with_communes(
    kb: KnowledgeBase, board: CriteriaBoard, partial: CriteriaBoard, communes: Sequence[Commune]
) -> CriteriaBoard:
    """``board`` with the communes ``partial`` was derived for replaced (new reports there), the
    goals counted again over ``communes``: a new report rebuilds its commune, not every one."""
    merged = CriteriaBoard(
        criteria=board.criteria,
        district_criteria=board.district_criteria,
        communes={**board.communes, **partial.communes},
        district=board.district,
    )
    merged.goals = _goals(kb, merged, communes)
    return merged


def _goals(
    kb: KnowledgeBase, board: CriteriaBoard, communes: Sequence[Commune]
) -> tuple[GoalProgress, ...]:
    assert kb.evidence is not None
    out = []
    for goal in kb.evidence.goals:
        counted = [c for c in communes if goal.communes == "all" or c.kind == goal.communes]
        met = sum(1 for c in counted if board.meets_all(c.id))
        out.append(GoalProgress(goal.deadline, met, len(counted)))
    return tuple(out)


async def load_board(
    kb: KnowledgeBase,
    db: Store,
    today: dt.date,
    tz: dt.tzinfo | None,
    communes: Sequence[Commune],
) -> CriteriaBoard:
    """The board as the database has it now, for these communes."""
    forms = evidence_forms(kb)
    repo = ReportRepo(db)
    if len(communes) == 1:
        reports = await repo.latest(commune_id=communes[0].id, forms=forms)
    else:
        reports = await repo.latest(forms=forms) if communes else []
    progress = await load_progress(db, tz)
    if len(communes) < IN_THREAD_FROM:
        return derive_board(kb, progress, reports, communes, today)
    # A province's board takes seconds of Python: not on the event loop, where every chat waits
    return await asyncio.to_thread(derive_board, kb, progress, reports, communes, today)


IN_THREAD_FROM = 500  # communes
