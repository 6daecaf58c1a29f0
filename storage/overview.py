"""What the office's overview asks the database besides the reports themselves: marks that
say whether anything changed since it was last read, and two counts. Kept here so the web
pages hold no SQL."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Store


@dataclass(frozen=True)
class DataMarks:
    newest_report: int  # the highest report id
    reports: int  # how many reports (one committed late with a lower id changes this)
    communes: str  # how many communes, and which are active
    people: str  # when anyone's name, role or commune last changed


class OverviewQueries:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def marks(self) -> DataMarks:
        row = await self.db.fetchone(
            "SELECT (SELECT coalesce(max(id), 0) FROM reports) AS newest,"
            " (SELECT count(*) FROM reports) AS reports,"
            " (SELECT count(*) || ':' || coalesce(sum(id * active), 0) FROM communes)"
            " AS communes,"
            " (SELECT max(updated_at) FROM users) AS people"
        )
        assert row is not None
        return DataMarks(
            int(row["newest"]), int(row["reports"]), str(row["communes"]), str(row["people"])
        )

    async def communes_never_reported(self) -> int:
        """Active communes with no report at all."""
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM communes c WHERE active = 1 AND NOT EXISTS"
                " (SELECT 1 FROM reports_current r WHERE r.commune_id = c.id)"
            )
        )

    async def current_reports_of(self, form_id: str) -> int:
        """How many communes' current reports are on ``form_id``."""
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM reports_current WHERE form_id = ?", (form_id,)
            )
        )

    async def reports_marking_tasks(self, after: int, upto: int) -> set[int | None]:
        """The reports behind the task marks ``after`` < id ≤ ``upto`` (``None``: a mark
        made by hand)."""
        rows = await self.db.fetchall(
            "SELECT report_id FROM task_progress WHERE id > ? AND id <= ?", (after, upto)
        )
        return {row["report_id"] for row in rows}
