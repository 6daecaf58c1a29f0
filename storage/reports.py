"""Reports with full history (migration 0003) and the audit log."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database, Row
from storage.timeutil import parse_iso, utc_iso

_LATEST = (
    "SELECT * FROM (SELECT r.*, row_number() OVER (PARTITION BY commune_id, form_id, subject,"
    " period ORDER BY version DESC) AS newest FROM reports r{where}) WHERE newest = 1"
)


@dataclass(frozen=True)
class Report:
    id: int
    commune_id: int
    form_id: str
    subject: str
    period: str
    version: int
    supersedes: int | None
    answers: dict[str, Any]
    computed: dict[str, Any]
    meets_target: bool | None
    submitted_by: int
    channel: str
    submitted_at: dt.datetime
    report_date: dt.date

    @property
    def number(self) -> str:
        """The receipt number officers quote: BC-000123."""
        return report_number(self.id)

    @classmethod
    def from_row(cls, row: Row) -> Report:
        meets = row["meets_target"]
        return cls(
            id=row["id"],
            commune_id=row["commune_id"],
            form_id=row["form_id"],
            subject=row["subject"],
            period=row["period"],
            version=row["version"],
            supersedes=row["supersedes"],
            answers=json.loads(row["answers"]),
            computed=json.loads(row["computed"]),
            meets_target=None if meets is None else bool(meets),
            submitted_by=row["submitted_by"],
            channel=row["channel"],
            submitted_at=parse_iso(row["submitted_at"]),
            report_date=dt.date.fromisoformat(row["report_date"]),
        )


def report_number(report_id: int) -> str:
    return f"BC-{report_id:06d}"


class ReportRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        *,
        commune_id: int,
        form_id: str,
        subject: str,
        period: str,
        answers: dict[str, Any],
        computed: dict[str, Any],
        meets_target: bool | None,
        submitted_by: int,
        channel: str,
        now: dt.datetime,
        report_date: dt.date,
    ) -> Report:
        """Store a report as the next version of its series (call inside a transaction)."""
        previous = await self.db.fetchone(
            "SELECT id, version FROM reports WHERE commune_id = ? AND form_id = ? AND subject = ?"
            " AND period = ? ORDER BY version DESC LIMIT 1",
            (commune_id, form_id, subject, period),
        )
        version = 1 if previous is None else previous["version"] + 1
        report_id = await self.db.insert(
            "INSERT INTO reports (commune_id, form_id, subject, period, version, supersedes,"
            " answers, computed, meets_target, submitted_by, channel, submitted_at, report_date)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                commune_id,
                form_id,
                subject,
                period,
                version,
                None if previous is None else previous["id"],
                json.dumps(answers, ensure_ascii=False),
                json.dumps(computed, ensure_ascii=False),
                None if meets_target is None else int(meets_target),
                submitted_by,
                channel,
                utc_iso(now),
                report_date.isoformat(),
            ),
        )
        report = await self.get(report_id)
        assert report is not None
        return report

    async def get(self, report_id: int) -> Report | None:
        row = await self.db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        return Report.from_row(row) if row else None

    async def latest(
        self, *, commune_id: int | None = None, form_id: str | None = None
    ) -> list[Report]:
        """The newest version of every series (optionally of one commune or form)."""
        conditions: list[str] = []
        params: list[Any] = []
        if commune_id is not None:
            conditions.append("commune_id = ?")
            params.append(commune_id)
        if form_id is not None:
            conditions.append("form_id = ?")
            params.append(form_id)
        where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = await self.db.fetchall(
            _LATEST.format(where=where) + " ORDER BY submitted_at DESC", params
        )
        return [Report.from_row(r) for r in rows]

    async def history(self, commune_id: int, limit: int = 20) -> list[Report]:
        rows = await self.db.fetchall(
            "SELECT * FROM reports WHERE commune_id = ? ORDER BY submitted_at DESC, id DESC"
            " LIMIT ?",
            (commune_id, limit),
        )
        return [Report.from_row(r) for r in rows]

    async def all(self) -> list[Report]:
        rows = await self.db.fetchall(
            "SELECT * FROM reports ORDER BY commune_id, form_id, subject, period, version"
        )
        return [Report.from_row(r) for r in rows]

    async def communes_reporting_between(self, first: dt.date, last: dt.date) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT commune_id FROM reports WHERE report_date BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat()),
        )
        return {r["commune_id"] for r in rows}


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, user_id: int | None, action: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        await self.db.execute(
            "INSERT INTO audit_log (at, user_id, action, detail) VALUES (?, ?, ?, ?)",
            (utc_iso(now), user_id, action, json.dumps(detail, ensure_ascii=False)),
        )
