"""Subscriptions, jobs and deliveries (migration 0004)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Row, Store
from storage.leases import free_claims_of_gone
from storage.timeutil import parse_iso, utc_iso


@dataclass(frozen=True)
class Subscription:
    channel: str
    chat_id: str
    lang: str


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    title: str
    created_at: dt.datetime
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class Recipient:
    channel: str
    chat_id: str
    user_id: int | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    job_id: int
    channel: str
    chat_id: str
    user_id: int | None
    payload: dict[str, Any]
    progress: int
    attempts: int

    @classmethod
    def from_row(cls, row: Row) -> PendingDelivery:
        return cls(
            row["id"],
            row["job_id"],
            row["channel"],
            row["chat_id"],
            row["user_id"],
            json.loads(row["payload"]),
            row["progress"],
            row["attempts"],
        )


class SubscriptionRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def add(
        self, channel: str, chat_id: str, lang: str, user_id: int, now: dt.datetime
    ) -> bool:
        """``False`` if the chat was already subscribed."""
        changed = await self.db.execute(
            "INSERT INTO subscriptions (channel, chat_id, lang, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (channel, chat_id, lang, user_id, utc_iso(now)),
        )
        return changed == 1

    async def remove(self, channel: str, chat_id: str) -> bool:
        changed = await self.db.execute(
            "DELETE FROM subscriptions WHERE channel = ? AND chat_id = ?", (channel, chat_id)
        )
        return changed == 1

    async def remove_private(self, channel: str, chat_id: str | None) -> int:
        """Forget a person's own chat (not the groups they subscribed for the office)."""
        if chat_id is None:
            return 0
        return await self.db.execute(
            "DELETE FROM subscriptions WHERE channel = ? AND chat_id = ?", (channel, chat_id)
        )

    async def all(self) -> list[Subscription]:
        rows = await self.db.fetchall("SELECT channel, chat_id, lang FROM subscriptions")
        return [Subscription(r["channel"], r["chat_id"], r["lang"]) for r in rows]


class SendingRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def first_run(self, now: dt.datetime) -> dt.datetime:
        """When the scheduler first ran on this database (recorded now if it never did)."""
        await self.db.execute(
            "INSERT INTO scheduler_state (name, value) VALUES ('first_run', ?)"
            " ON CONFLICT DO NOTHING",
            (utc_iso(now),),
        )
        row = await self.db.fetchone("SELECT value FROM scheduler_state WHERE name = 'first_run'")
        assert row is not None
        return parse_iso(row["value"])

    async def job(self, key: str) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE key = ?", (key,))
        if row is None:
            return None
        done = row["completed_at"]
        return Job(
            row["id"],
            row["kind"],
            row["key"],
            row["title"],
            parse_iso(row["created_at"]),
            parse_iso(done) if done else None,
        )

    async def create_job(
        self,
        kind: str,
        key: str,
        title: str,
        recipients: list[Recipient],
        now: dt.datetime,
        created_by: int | None = None,
    ) -> int | None:
        """The job and every delivery, in one transaction; ``None`` if the key exists already."""
        async with self.db.transaction():
            # Another instance may create the same job at the same moment: one of them does.
            created = await self.db.write_returning(
                "INSERT INTO jobs (kind, key, title, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING id",
                (kind, key, title, created_by, utc_iso(now)),
            )
            if not created:
                return None
            job_id = int(created[0][0])
            await self.db.executemany(
                "INSERT INTO deliveries (job_id, channel, chat_id, user_id, payload)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    (
                        job_id,
                        r.channel,
                        r.chat_id,
                        r.user_id,
                        json.dumps(r.payload, ensure_ascii=False),
                    )
                    for r in recipients
                ],
            )
            if not recipients:
                await self.db.execute(
                    "UPDATE jobs SET completed_at = ? WHERE id = ?", (utc_iso(now), job_id)
                )
        return job_id

    async def claim(
        self,
        channels: set[str],
        owner: str,
        now: dt.datetime,
        lease: dt.timedelta,
        limit: int = 500,
    ) -> list[PendingDelivery]:
        """Take pending deliveries to send: those nobody claimed, those this sender claimed,
        and those whose claim was not renewed within ``lease`` (their sender died). One
        statement, so two senders never take the same delivery."""
        if not channels:
            return []
        marks = ",".join("?" for _ in channels)
        rows = await self.db.write_returning(
            "UPDATE deliveries SET claimed_by = ?, claimed_at = ? WHERE id IN ("  # noqa: S608
            " SELECT id FROM deliveries WHERE status = 'pending'"
            f" AND channel IN ({marks})"
            " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)"
            f" ORDER BY id LIMIT ?{self.db.dialect.skip_locked()}) RETURNING *",
            [owner, utc_iso(now), *sorted(channels), owner, utc_iso(now - lease), limit],
        )
        return sorted((PendingDelivery.from_row(r) for r in rows), key=lambda d: d.id)

    async def release_abandoned(self) -> int:
        """Free the claims of senders that ran on this machine and are gone (killed,
        crashed), so their deliveries need not wait out the lease."""
        return await free_claims_of_gone(self.db, "deliveries")

    async def renew(self, delivery_id: int, owner: str, now: dt.datetime) -> bool:
        """Keep the claim alive; ``False`` if another sender has taken the delivery over (or
        it is no longer pending): then this sender must not send it."""
        changed = await self.db.execute(
            "UPDATE deliveries SET claimed_at = ? WHERE id = ? AND claimed_by = ?"
            " AND status = 'pending'",
            (utc_iso(now), delivery_id, owner),
        )
        return changed == 1

    async def cancel_for(self, user_id: int, channel: str, chat_id: str | None) -> int:
        """Cancel what is still waiting to go to a person (by user, or to their own chat)."""
        return await self.db.execute(
            "UPDATE deliveries SET status = 'cancelled', last_error = 'access revoked'"
            " WHERE status = 'pending' AND (user_id = ? OR (channel = ? AND chat_id = ?))",
            (user_id, channel, chat_id),
        )

    async def advance(self, delivery_id: int, progress: int) -> None:
        await self.db.execute(
            "UPDATE deliveries SET progress = ? WHERE id = ?", (progress, delivery_id)
        )

    async def finish(
        self, delivery_id: int, status: str, now: dt.datetime, error: str | None = None
    ) -> None:
        await self.db.execute(
            "UPDATE deliveries SET status = ?, last_error = ?, sent_at = ?,"
            " attempts = attempts + 1 WHERE id = ?",
            (status, error[:300] if error else None, utc_iso(now), delivery_id),
        )

    async def retry_later(self, delivery_id: int, error: str) -> int:
        """Count a failed attempt; returns the attempts made so far."""
        await self.db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error[:300], delivery_id),
        )
        return int(
            await self.db.fetchval("SELECT attempts FROM deliveries WHERE id = ?", (delivery_id,))
        )

    async def complete_jobs(self, now: dt.datetime) -> None:
        await self.db.execute(
            "UPDATE jobs SET completed_at = ? WHERE completed_at IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.job_id = jobs.id AND d.status = 'pending')",
            (utc_iso(now),),
        )

    async def recent_jobs(self, limit: int = 3) -> list[Job]:
        rows = await self.db.fetchall("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
        return [
            Job(
                r["id"],
                r["kind"],
                r["key"],
                r["title"],
                parse_iso(r["created_at"]),
                parse_iso(r["completed_at"]) if r["completed_at"] else None,
            )
            for r in rows
        ]

    async def outcome(self, job_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT status, count(*) AS n FROM deliveries WHERE job_id = ? GROUP BY status",
            (job_id,),
        )
        return {r["status"]: r["n"] for r in rows}

    async def not_reached(self, job_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT d.*, u.display_name FROM deliveries d LEFT JOIN users u ON u.id = d.user_id"
            " WHERE d.job_id = ? AND d.status IN ('failed', 'unreachable') ORDER BY d.id",
            (job_id,),
        )

    async def count_sent(self, job_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM deliveries WHERE job_id = ? AND status = 'sent'", (job_id,)
            )
        )
