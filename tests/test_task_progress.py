"""Task progress storage: a history of marks, never overwritten; the newest one counts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storage.db import Database, StorageError
from storage.migrate import migrate
from storage.tasks import TaskProgressRepo, TaskStatus
from storage.users import UserRepo

NOW = dt.datetime(2021, 10, 15, 8, 0, tzinfo=dt.UTC)


async def test_marks_keep_their_history_and_the_newest_counts(tmp_path: Path) -> None:
    async with Database(tmp_path / "t.sqlite3") as db:
        await migrate(db)
        await db.execute("INSERT INTO communes (id, code, name, kind) VALUES (1, 'a', 'A', 'xa')")
        await db.execute("INSERT INTO communes (id, code, name, kind) VALUES (2, 'b', 'B', 'xa')")
        user = await UserRepo(db).ensure("test", "u1", chat_id="u1")
        repo = TaskProgressRepo(db)
        unit_task = ("van-ban-danh-gia.tp", None)
        await repo.mark(unit_task, TaskStatus.IN_PROGRESS, percent=40, by_user=user.id,
                        channel="test", now=NOW)  # fmt: skip
        later = NOW + dt.timedelta(days=3)
        await repo.mark(unit_task, TaskStatus.DONE, by_user=user.id, channel="test", now=later)
        await repo.mark(("bhyt.cac-xa", 1), TaskStatus.BLOCKED, note="Thiếu kinh phí",
                        by_user=user.id, channel="test", now=NOW)  # fmt: skip
        current = await repo.current()
        assert current[unit_task].status is TaskStatus.DONE and current[unit_task].at == later
        assert current[("bhyt.cac-xa", 1)].note == "Thiếu kinh phí"
        assert ("bhyt.cac-xa", 2) not in current  # commune 2 has not marked it
        history = await repo.history(unit_task)
        assert [(m.status, m.percent) for m in history] == [
            (TaskStatus.IN_PROGRESS, 40),
            (TaskStatus.DONE, None),
        ]
        assert [m.task_id for m in await repo.since(NOW + dt.timedelta(days=1))] == [
            "van-ban-danh-gia.tp"
        ]
        with pytest.raises(StorageError):  # blocked needs its reason
            await repo.mark(("bhyt.cac-xa", 2), TaskStatus.BLOCKED, by_user=user.id,
                            channel="test", now=NOW)  # fmt: skip
