"""Progress on the plan's tasks (migration 0009): a history of marks, the newest one counts."""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from storage.db import Row, Store
from storage.timeutil import parse_iso, utc_iso


class TaskStatus(StrEnum):
    OPEN = "open"  # not started, or reopened by the office
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "blocked"  # with the reason in the note


# A task of every commune is tracked per commune; a unit's task has no commune.
TaskKey = tuple[str, int | None]

# The newest mark's id per database this process alone writes (SQLite): known without asking,
# so a question (which reads the marks' version) does not touch the database and its update
# is recorded with the next batch instead of a commit of its own. Several instances on one
# database (PostgreSQL) ask every time: another one may have marked something.
_newest: weakref.WeakKeyDictionary[Store, int] = weakref.WeakKeyDictionary()


def _forget(db: Store) -> None:
    _newest.pop(db, None)


@dataclass(frozen=True)
class TaskMark:
    id: int
    task_id: str
    commune_id: int | None
    status: TaskStatus
    percent: int | None
    note: str | None
    by_user: int
    channel: str
    at: dt.datetime
    report_id: int | None = None  # the report that made this mark (evidence.yaml completions)

    @property
    def key(self) -> TaskKey:
        return (self.task_id, self.commune_id)

    @classmethod
    def from_row(cls, row: Row) -> TaskMark:
        return cls(
            id=row["id"],
            task_id=row["task_id"],
            commune_id=row["commune_id"],
            status=TaskStatus(row["status"]),
            percent=row["percent"],
            note=row["note"],
            by_user=row["by_user"],
            channel=row["channel"],
            at=parse_iso(row["at"]),
            report_id=row["report_id"],
        )


class TaskProgressRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def mark(
        self,
        key: TaskKey,
        status: TaskStatus,
        *,
        by_user: int,
        channel: str,
        now: dt.datetime,
        percent: int | None = None,
        note: str | None = None,
        report_id: int | None = None,
    ) -> TaskMark:
        """Record a change (call inside the update's transaction)."""
        task_id, commune_id = key
        mark_id = await self.db.insert(
            "INSERT INTO task_progress (task_id, commune_id, status, percent, note, by_user,"
            " channel, at, report_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                task_id,
                commune_id,
                status.value,
                percent,
                note,
                by_user,
                channel,
                utc_iso(now),
                report_id,
            ),
        )
        if not self.db.dialect.shared:
            _newest[self.db] = max(_newest.get(self.db, 0), mark_id)
            self.db.on_rollback(partial(_forget, self.db))  # ask again
        return TaskMark(
            mark_id, task_id, commune_id, status, percent, note, by_user, channel, now, report_id
        )

    async def current_of(self, key: TaskKey) -> TaskMark | None:
        """The newest mark of one task (of one commune's share)."""
        task_id, commune_id = key
        row = await self.db.fetchone(
            "SELECT * FROM task_progress WHERE task_id = ? AND commune_id IS NOT DISTINCT FROM ?"
            " ORDER BY id DESC LIMIT 1",
            (task_id, commune_id),
        )
        return TaskMark.from_row(row) if row else None

    async def current(self) -> dict[TaskKey, TaskMark]:
        """The newest mark of every task that has one."""
        rows = await self.db.fetchall(
            "SELECT p.* FROM task_progress p JOIN (SELECT max(id) AS newest FROM task_progress"
            " GROUP BY task_id, commune_id) m ON p.id = m.newest"
        )
        marks = [TaskMark.from_row(r) for r in rows]
        return {m.key: m for m in marks}

    async def newest_id(self) -> int:
        """Changes whenever a mark is added (marks are never updated or deleted)."""
        known = None if self.db.dialect.shared else _newest.get(self.db)
        if known is not None:
            return known
        newest = int(await self.db.fetchval("SELECT coalesce(max(id), 0) FROM task_progress"))
        if not self.db.dialect.shared:
            _newest[self.db] = newest
            self.db.on_rollback(partial(_forget, self.db))  # it saw its own marks
        return newest

    async def history(self, key: TaskKey) -> list[TaskMark]:
        task_id, commune_id = key
        rows = await self.db.fetchall(
            "SELECT * FROM task_progress WHERE task_id = ? AND commune_id IS NOT DISTINCT FROM ?"
            " ORDER BY id",
            (task_id, commune_id),
        )
        return [TaskMark.from_row(r) for r in rows]

    async def since(self, start: dt.datetime) -> list[TaskMark]:
        """Every mark made at or after ``start``, oldest first (what changed this week)."""
        rows = await self.db.fetchall(
            "SELECT * FROM task_progress WHERE at >= ? ORDER BY id", (utc_iso(start),)
        )
        return [TaskMark.from_row(r) for r in rows]

    async def all(self) -> list[TaskMark]:
        """Every mark ever made, oldest first (the export's history)."""
        rows = await self.db.fetchall("SELECT * FROM task_progress ORDER BY id")
        return [TaskMark.from_row(r) for r in rows]
