"""How a task's state reads, the same in /viec, answers, reminders and the digest:
"đã hoàn thành 12/11/2021", "đang thực hiện (60%)", "vướng mắc: thiếu kinh phí",
"còn 5 ngày", "quá hạn 3 ngày"."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from babel.dates import format_date

from handlers.i18n import Tr
from knowledge.base import KnowledgeBase
from knowledge.models import TaskEntry
from storage.db import Store
from storage.reports import report_number
from storage.tasks import TaskKey, TaskMark, TaskProgressRepo, TaskStatus


def local_date(mark: TaskMark, tz: dt.tzinfo | None) -> dt.date:
    return mark.at.astimezone(tz).date()


def days_phrase(tr: Tr, due: dt.date, today: dt.date) -> str:
    left = (due - today).days
    if left > 0:
        return tr("còn {n} ngày", n=left)
    if left == 0:
        return tr("hạn hôm nay")
    return tr("quá hạn {n} ngày", n=-left)


def state_phrase(
    tr: Tr, mark: TaskMark | None, due: dt.date, today: dt.date, tz: dt.tzinfo | None
) -> str:
    """The task's state in a few words; an open task says how much time is left."""
    if mark is not None and mark.status is TaskStatus.DONE:
        day = format_date(local_date(mark, tz), "dd/MM/yyyy", locale=tr.lang)
        if mark.report_id is not None:  # completed by a report meeting its targets
            return tr("đã hoàn thành {date} (theo báo cáo {number})", date=day,
                      number=report_number(mark.report_id))  # fmt: skip
        return tr("đã hoàn thành {date}", date=day)
    timing = days_phrase(tr, due, today)
    if mark is None or mark.status is TaskStatus.OPEN:
        return tr("chưa cập nhật, {timing}", timing=timing)
    if mark.status is TaskStatus.BLOCKED:
        return tr("vướng mắc: {reason} ({timing})", reason=mark.note or "", timing=timing)
    if mark.percent is not None:
        return tr("đang thực hiện ({percent}%), {timing}", percent=mark.percent, timing=timing)
    if mark.note:  # what was said of it (a figure under target, for a report's mark)
        return tr("đang thực hiện ({note}), {timing}", note=mark.note, timing=timing)
    return tr("đang thực hiện, {timing}", timing=timing)


def is_done(mark: TaskMark | None) -> bool:
    return mark is not None and mark.status is TaskStatus.DONE


def task_title(task: TaskEntry, tr: Tr) -> str:
    return task.what_en if tr.en else task.what


def unit_name(kb: KnowledgeBase, key: str, tr: Tr) -> str:
    unit = kb.unit(key)
    return unit.name_en if tr.en else unit.name


def owner_name(kb: KnowledgeBase, task: TaskEntry, tr: Tr) -> str:
    return unit_name(kb, task.owner, tr)


@dataclass(frozen=True)
class Progress:
    """The newest mark of every task, as of one moment; ``version`` (the newest mark's id)
    tells cached answers apart."""

    marks: Mapping[TaskKey, TaskMark]
    version: int
    tz: dt.tzinfo | None

    def of(self, task_id: str, commune_id: int | None = None) -> TaskMark | None:
        return self.marks.get((task_id, commune_id))

    def done_on(self, mark: TaskMark) -> dt.date:
        return local_date(mark, self.tz)


# The last snapshot per database: marks are only ever added, so the newest id says whether it
# is still current, and a question costs one indexed lookup instead of reading every mark.
_snapshots: weakref.WeakKeyDictionary[Store, Progress] = weakref.WeakKeyDictionary()


async def load_progress(db: Store, tz: dt.tzinfo | None) -> Progress:
    repo = TaskProgressRepo(db)
    version = await repo.newest_id()
    cached = _snapshots.get(db)
    if cached is not None and cached.version == version and cached.tz == tz:
        return cached
    progress = Progress(await repo.current(), version, tz)
    _snapshots[db] = progress
    return progress
