"""A report is evidence for the commune's tasks (``evidence.yaml``, ``completions``): one meeting
every target of its form completes the commune's share of those tasks; one below target leaves
them open, with the figure. Either way the change is a task mark whose source is the report, so
the history of the task says why it changed (and ``/viec``, reminders and the read model all see
the same state)."""

from __future__ import annotations

from handlers.i18n import Tr
from handlers.report_view import figure_name, figure_text, target_phrase
from knowledge.base import KnowledgeBase
from knowledge.form_rules import compute_all, target_met
from knowledge.forms import Form
from storage.db import Store
from storage.reports import Report
from storage.tasks import TaskMark, TaskProgressRepo, TaskStatus

MAX_NOTE = 300


async def record_report_evidence(
    kb: KnowledgeBase, db: Store, tr: Tr, form: Form, report: Report
) -> list[TaskMark]:
    """The marks this report makes (call inside the report's transaction)."""
    if kb.evidence is None or report.meets_target is None:
        return []
    repo = TaskProgressRepo(db)
    marks: list[TaskMark] = []
    for task_id in kb.evidence.completions.get(form.id, ()):
        key = (task_id, report.commune_id)
        current = await repo.current_of(key)
        if report.meets_target:
            if current is not None and current.status is TaskStatus.DONE:
                continue  # already done: the history keeps who finished it first
            status, note = TaskStatus.DONE, None
        else:
            if current is not None and current.status is TaskStatus.BLOCKED:
                continue  # the commune's own word on what holds it up stays in view
            status, note = TaskStatus.IN_PROGRESS, _shortfall(tr, kb, form, report)
        marks.append(
            await repo.mark(
                key,
                status,
                by_user=report.submitted_by,
                channel=report.channel,
                now=report.submitted_at,
                note=note,
                report_id=report.id,
            )
        )
    return marks


def _shortfall(tr: Tr, kb: KnowledgeBase, form: Form, report: Report) -> str:
    """ "BC-000013: Tỷ lệ tham gia BHYT 80,2% — mục tiêu trên 85%": the figures under target."""
    values = compute_all(form, report.answers) | report.computed
    parts = [
        f"{figure_name(tr, form, t.field)} {figure_text(tr, kb, form, t.field, values)} — "
        + tr("mục tiêu {target}", target=target_phrase(tr, form, t))
        for t in form.targets
        if target_met(t, values) is False
    ]
    return f"{report.number}: " + "; ".join(parts)[:MAX_NOTE]
