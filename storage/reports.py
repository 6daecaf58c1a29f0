"""Reports with full history (migration 0003) and the audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import Row, StorageError, Store
from storage.timeutil import parse_iso, utc_iso

# The current report of each (commune, form, subject) is its latest period's latest version
# (``Dialect.newest_ids``). Period labels sort chronologically within a form (``2021-09`` <
# ``2021-10``, ``2021-W09``).


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
    def __init__(self, db: Store) -> None:
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
        """Store a report as the next version of its series (call inside a transaction).

        One statement: the version and the report it supersedes are read by the insert
        itself, and the stored row comes back with it (one trip to the database, not three).
        """
        key = (commune_id, form_id, subject, period)
        rows = await self.db.write_returning(
            "INSERT INTO reports (commune_id, form_id, subject, period, version, supersedes,"
            " answers, computed, meets_target, submitted_by, channel, submitted_at, report_date)"
            " VALUES (?, ?, ?, ?,"
            " (SELECT COALESCE(MAX(version), 0) + 1 FROM reports WHERE commune_id = ?"
            " AND form_id = ? AND subject = ? AND period = ?),"
            " (SELECT id FROM reports WHERE commune_id = ? AND form_id = ? AND subject = ?"
            " AND period = ? ORDER BY version DESC LIMIT 1),"
            " ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                *key,
                *key,
                *key,
                json.dumps(answers, ensure_ascii=False),
                json.dumps(computed, ensure_ascii=False),
                None if meets_target is None else int(meets_target),
                submitted_by,
                channel,
                utc_iso(now),
                report_date.isoformat(),
            ),
        )
        if not rows:
            raise StorageError("insert did not add a row")
        return Report.from_row(rows[0])

    async def current_of(
        self, commune_id: int, form_id: str, subject: str, period: str
    ) -> Report | None:
        """The newest version of one series (what a new report would replace)."""
        row = await self.db.fetchone(
            "SELECT * FROM reports WHERE commune_id = ? AND form_id = ? AND subject = ?"
            " AND period = ? ORDER BY version DESC LIMIT 1",
            (commune_id, form_id, subject, period),
        )
        return Report.from_row(row) if row else None

    async def get(self, report_id: int) -> Report | None:
        row = await self.db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        return Report.from_row(row) if row else None

    async def latest(
        self,
        *,
        commune_id: int | None = None,
        form_id: str | None = None,
        forms: Iterable[str] | None = None,
        before: dt.date | None = None,
    ) -> list[Report]:
        """The current report of every commune, form and subject: the newest period's newest
        version (of one commune, one form or these forms; as it stood before ``before``)."""
        conditions: list[str] = []
        params: list[Any] = []
        if forms is not None:
            wanted = sorted(set(forms))
            if not wanted:
                return []
            conditions.append(f"form_id IN ({', '.join('?' for _ in wanted)})")
            params.extend(wanted)
        if commune_id is not None:
            conditions.append("commune_id = ?")
            params.append(commune_id)
        if form_id is not None:
            conditions.append("form_id = ?")
            params.append(form_id)
        if before is None:  # kept current by a trigger (migration 0017): one row per series
            where = (" WHERE " + " AND ".join(f"c.{c}" for c in conditions)) if conditions else ""
            rows = await self.db.fetchall(
                "SELECT r.* FROM reports_current c JOIN reports r ON r.id = c.report_id"  # noqa: S608
                f"{where} ORDER BY r.submitted_at DESC",
                params,
            )
            return [Report.from_row(r) for r in rows]
        conditions.insert(0, "report_date < ?")
        params.insert(0, before.isoformat())
        where = " WHERE " + " AND ".join(conditions)
        newest = self.db.dialect.newest_ids("reports", where)
        rows = await self.db.fetchall(
            f"SELECT r.* FROM reports r JOIN ({newest}) m ON r.id = m.newest"  # noqa: S608
            " ORDER BY submitted_at DESC",
            params,
        )
        return [Report.from_row(r) for r in rows]

    async def current_for(
        self, commune_ids: Iterable[int], *, forms: Iterable[str] | None = None
    ) -> list[Report]:
        """The current report of every form and subject of these communes (of these forms)."""
        ids = sorted(set(commune_ids))
        wanted = sorted(set(forms)) if forms is not None else None
        if not ids or wanted == []:
            return []
        found: list[Report] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = (
                "SELECT r.* FROM reports_current c JOIN reports r ON r.id = c.report_id"  # noqa: S608
                f" WHERE c.commune_id IN ({', '.join('?' for _ in chunk)})"
            )
            params: list[Any] = list(chunk)
            if wanted is not None:
                sql += f" AND c.form_id IN ({', '.join('?' for _ in wanted)})"
                params += wanted
            rows = await self.db.fetchall(sql + " ORDER BY r.submitted_at DESC", params)
            found.extend(Report.from_row(r) for r in rows)
        return found

    async def added_since(self, after_id: int) -> list[Report]:
        """Reports stored with an id above ``after_id``, in id order."""
        rows = await self.db.fetchall("SELECT * FROM reports WHERE id > ? ORDER BY id", (after_id,))
        return [Report.from_row(r) for r in rows]

    async def latest_of(
        self, series: Iterable[tuple[int, str, str]], *, before: dt.date
    ) -> dict[tuple[int, str, str], Report]:
        """The current report of each named (commune, form, subject) as it stood before a date."""
        wanted = json.dumps(sorted(set(series)), ensure_ascii=False)
        dialect = self.db.dialect
        newest = dialect.newest_ids(
            "reports JOIN wanted USING (commune_id, form_id, subject)", " WHERE report_date < ?"
        )
        rows = await self.db.fetchall(
            f"WITH wanted AS ({dialect.series_table()})"  # noqa: S608 - constant fragments
            f" SELECT r.* FROM reports r JOIN ({newest}) m ON r.id = m.newest",
            (wanted, before.isoformat()),
        )
        reports = (Report.from_row(r) for r in rows)
        return {(r.commune_id, r.form_id, r.subject): r for r in reports}

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

    async def submitted_since(self, first: dt.date) -> list[Report]:
        rows = await self.db.fetchall(
            "SELECT * FROM reports WHERE report_date >= ? ORDER BY submitted_at",
            (first.isoformat(),),
        )
        return [Report.from_row(r) for r in rows]

    async def communes_reporting_between(self, first: dt.date, last: dt.date) -> set[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT commune_id FROM reports WHERE report_date BETWEEN ? AND ?",
            (first.isoformat(), last.isoformat()),
        )
        return {r["commune_id"] for r in rows}


class AuditLog:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def add(
        self, user_id: int | None, action: str, detail: dict[str, Any], now: dt.datetime
    ) -> None:
        await self.db.later(
            "INSERT INTO audit_log (at, user_id, action, detail) VALUES (?, ?, ?, ?)",
            (utc_iso(now), user_id, action, json.dumps(detail, ensure_ascii=False)),
        )
