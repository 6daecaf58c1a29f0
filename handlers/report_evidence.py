"""A report is evidence for the commune's tasks, recorded as task marks whose source is the
report, so a task's history says why it changed and ``/viec``, the reminders and the read
model all see the same state:

- ``completions`` (evidence.yaml): a report meeting every target of its form completes the
  commune's share of the task; one below a target leaves it not done, with the figure;
- any report: a communes' task all of whose indicators the commune's reports now show met is
  completed by the report that made it so; one such a task had been completed by (or marked
  done) whose indicators a newer report shows not met is open again, with what is missing.
"""

from __future__ import annotations

from handlers.i18n import Tr
from handlers.readmodel.criteria import Standing, derive_board, evidence_forms
from handlers.report_view import figure_name, figure_text, target_phrase
from handlers.task_view import Progress, load_progress
from knowledge.base import KnowledgeBase
from knowledge.form_rules import compute_all, target_met
from knowledge.forms import Form
from storage.communes import Commune
from storage.db import Store
from storage.reports import Report, ReportRepo
from storage.tasks import TaskMark, TaskProgressRepo, TaskStatus

MAX_NOTE = 300


async def record_report_evidence(
    kb: KnowledgeBase, db: Store, tr: Tr, form: Form, report: Report, commune: Commune
) -> list[TaskMark]:
    """The marks this report makes (call inside the report's transaction). ``tr``: the
    language the notes are written in (the district's)."""
    if kb.evidence is None:
        return []
    marks: list[TaskMark] = []
    explicit = kb.evidence.completions.get(form.id, ())
    values = compute_all(form, report.answers) | report.computed
    verdicts = [target_met(t, values) for t in form.targets]
    if explicit and verdicts and None not in verdicts:  # every target answered
        met = all(verdicts)
        note = None if met else _shortfall(tr, kb, form, report, values)
        for task_id in explicit:  # below target: not done, with the figure
            mark = await _mark(db, task_id, report, done=met, note=note, say_figure=True)
            if mark is not None:
                marks.append(mark)
    for task_id, missing in await _served(kb, db, report, commune, skip=set(explicit)):
        note = (
            None
            if not missing
            else f"{report.number}: " + tr("chưa đạt {codes}", codes=", ".join(missing))
        )
        mark = await _mark(db, task_id, report, done=not missing, note=note)
        if mark is not None:
            marks.append(mark)
    return marks


async def _served(
    kb: KnowledgeBase, db: Store, report: Report, commune: Commune, *, skip: set[str]
) -> list[tuple[str, list[str]]]:
    """The communes' tasks this report bears on, each with the indicators it serves that are
    not met at the commune (without counting the task's own mark: what the reports show)."""
    assert kb.evidence is not None
    evidence = kb.evidence
    status = report.form_id in evidence.status_forms
    touched = [
        rule.code
        for rule in evidence.rules.values()
        if (status and rule.code in kb.related_codes(report.subject))
        or any(s.form == report.form_id for s in rule.reports)
    ] if report.subject in kb.indicators or not status else []  # fmt: skip
    tasks = {t for code in touched for t in evidence.rules[code].tasks if t not in skip}
    if not tasks:
        return []
    current = await ReportRepo(db).latest(commune_id=commune.id, forms=evidence_forms(kb))
    progress = await load_progress(db, None)
    out: list[tuple[str, list[str]]] = []
    for task_id in sorted(tasks):
        without = {k: m for k, m in progress.marks.items() if k != (task_id, commune.id)}
        board = derive_board(
            kb, Progress(without, -1, None), current, [commune], report.report_date
        )
        served = [r.code for r in evidence.serving(task_id) if not kb.indicators[r.code].children]
        missing = [
            kb.indicators[c].label
            for c in served
            if board.standing(commune.id, c) is not Standing.MET
        ]
        out.append((task_id, missing))
    return out


async def _mark(
    db: Store,
    task_id: str,
    report: Report,
    *,
    done: bool,
    note: str | None,
    say_figure: bool = False,
) -> TaskMark | None:
    """Done: completes the task unless it is done already. Not done: opens a task that was
    done, or (``say_figure``) records the figure on one still open; a blocked task keeps its
    reason."""
    repo = TaskProgressRepo(db)
    key = (task_id, report.commune_id)
    current = await repo.current_of(key)
    is_done = current is not None and current.status is TaskStatus.DONE
    if done:
        if is_done:
            return None
    else:
        blocked = current is not None and current.status is TaskStatus.BLOCKED
        if blocked or (not is_done and not say_figure):
            return None
    return await repo.mark(
        key,
        TaskStatus.DONE if done else TaskStatus.IN_PROGRESS,
        by_user=report.submitted_by,
        channel=report.channel,
        now=report.submitted_at,
        note=None if done else (note or "")[:MAX_NOTE] or None,
        report_id=report.id,
    )


def _shortfall(
    tr: Tr, kb: KnowledgeBase, form: Form, report: Report, values: dict[str, object]
) -> str:
    """ "BC-000013: Tỷ lệ tham gia BHYT 80,2% — mục tiêu trên 85%": the figures under target."""
    parts = [
        f"{figure_name(tr, form, t.field)} {figure_text(tr, kb, form, t.field, values)} — "
        + tr("mục tiêu {target}", target=target_phrase(tr, form, t))
        for t in form.targets
        if target_met(t, values) is False
    ]
    return f"{report.number}: " + "; ".join(parts)
