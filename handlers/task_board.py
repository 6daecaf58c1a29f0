"""The tasks board the office reads in ``/tonghop`` and the weekly digest: each unit's
completion rate, what is overdue and not done (by unit, blocked ones with their reason),
the communes' shares, and what was completed in the last seven days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from babel.dates import format_date
from babel.numbers import format_percent

from handlers.i18n import Tr
from handlers.richtext import Doc, b, it
from handlers.task_view import (
    Progress,
    days_phrase,
    is_done,
    state_phrase,
    task_title,
    unit_name,
)
from knowledge.base import COMMUNES, KnowledgeBase
from knowledge.models import TaskEntry
from storage.communes import Commune
from storage.tasks import TaskMark, TaskStatus

MAX_LINES = 15


@dataclass
class UnitTally:
    unit: str
    tasks: list[TaskEntry] = field(default_factory=list)
    done: int = 0
    overdue: list[tuple[TaskEntry, TaskMark | None]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.done / len(self.tasks) if self.tasks else 1.0


def unit_tallies(kb: KnowledgeBase, progress: Progress, today: dt.date) -> list[UnitTally]:
    """Every unit with tasks (not the communes' shared ones), lowest completion first."""
    tallies: dict[str, UnitTally] = {}
    for task in kb.tasks:
        if kb.is_commune_task(task):
            continue
        tally = tallies.setdefault(task.owner, UnitTally(task.owner))
        tally.tasks.append(task)
        mark = progress.of(task.id)
        if is_done(mark):
            tally.done += 1
        elif kb.due(task) < today:
            tally.overdue.append((task, mark))
    return sorted(tallies.values(), key=lambda t: (t.rate, -len(t.overdue), t.unit))


def completed_since(kb: KnowledgeBase, progress: Progress, start: dt.datetime) -> list[TaskMark]:
    """Tasks whose current state is done, marked so at or after ``start`` (newest first)."""
    marks = [
        m
        for m in progress.marks.values()
        if m.status is TaskStatus.DONE and m.at >= start and kb.task(m.task_id) is not None
    ]
    return sorted(marks, key=lambda m: m.at, reverse=True)


def tasks_board(
    kb: KnowledgeBase,
    tr: Tr,
    progress: Progress,
    today: dt.date,
    communes: Sequence[Commune],
    week_start: dt.datetime,
) -> Doc:
    doc = Doc().add(b(tr("Việc được giao theo Kế hoạch")))
    tallies = unit_tallies(kb, progress, today)
    doc.add(b(tr("Tỷ lệ hoàn thành theo đơn vị:")))
    for tally in tallies:
        doc.bullet(
            f"{unit_name(kb, tally.unit, tr)}: {tally.done}/{len(tally.tasks)} ",
            f"({format_percent(tally.rate, locale=tr.lang)})",
        )
    overdue = [(t, task, mark) for t in tallies for task, mark in t.overdue]
    if overdue:
        doc.add(b(tr("Quá hạn, chưa hoàn thành ({count}):", count=len(overdue))))
        for _tally, task, mark in overdue[:MAX_LINES]:
            state = state_phrase(tr, mark, kb.due(task), today, progress.tz)
            doc.bullet(b(unit_name(kb, task.owner, tr)), " — ", task_title(task, tr), ": ", state)
        if len(overdue) > MAX_LINES:
            doc.add(it(tr("… và {count} việc khác.", count=len(overdue) - MAX_LINES)))
    else:
        doc.add(tr("Không có việc nào của các đơn vị quá hạn mà chưa hoàn thành."))
    blocked = [
        (task, mark)
        for t in tallies
        for task in t.tasks
        if (mark := progress.of(task.id)) is not None
        and mark.status is TaskStatus.BLOCKED
        and kb.due(task) >= today
    ]
    if blocked:  # not yet due, but stuck: worth the office's help now
        doc.add(b(tr("Vướng mắc, chưa đến hạn ({count}):", count=len(blocked))))
    for task, mark in blocked[:MAX_LINES]:
        state = state_phrase(tr, mark, kb.due(task), today, progress.tz)
        doc.bullet(b(unit_name(kb, task.owner, tr)), " — ", task_title(task, tr), ": ", state)
    shares = _commune_shares(kb, tr, progress, today, communes)
    if shares.lines:
        doc.extend(shares)
    done = completed_since(kb, progress, week_start)
    if not done:
        return doc.add(b(tr("Hoàn thành trong 7 ngày qua:")), " ", tr("chưa có việc nào."))
    doc.add(b(tr("Hoàn thành trong 7 ngày qua ({count}):", count=len(done))))
    names = {c.id: c.name for c in communes}
    for mark in done[:MAX_LINES]:
        finished = kb.task(mark.task_id)
        assert finished is not None  # completed_since keeps the plan's tasks only
        who = (
            tr("xã {name}", name=names.get(mark.commune_id, "?"))
            if mark.commune_id is not None
            else unit_name(kb, finished.owner, tr)
        )
        day = format_date(mark.at.astimezone(progress.tz).date(), "dd/MM", locale=tr.lang)
        doc.bullet(f"{day} ", b(who), " — ", task_title(finished, tr))
    if len(done) > MAX_LINES:
        doc.add(it(tr("… và {count} việc khác.", count=len(done) - MAX_LINES)))
    return doc


def _commune_shares(
    kb: KnowledgeBase, tr: Tr, progress: Progress, today: dt.date, communes: Sequence[Commune]
) -> Doc:
    """Per task every commune does: how many have finished, how many are stuck."""
    doc = Doc()
    tasks = kb.tasks_of(COMMUNES)
    if not tasks or not communes:
        return doc
    doc.add(b(tr("Việc mỗi xã phải làm:")))
    for task in tasks:
        marks = [progress.of(task.id, c.id) for c in communes]
        done = sum(1 for m in marks if is_done(m))
        blocked = sum(1 for m in marks if m is not None and m.status is TaskStatus.BLOCKED)
        late = " ⏰ " + days_phrase(tr, kb.due(task), today) if kb.due(task) < today else ""
        doc.bullet(
            task_title(task, tr),
            ": ",
            b(
                tr(
                    "{done}/{total} xã đã hoàn thành, {blocked} vướng mắc",
                    done=done,
                    total=len(communes),
                    blocked=blocked,
                )
            ),
            late if done < len(communes) else "",
        )
    return doc
