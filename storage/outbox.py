"""Replies waiting to be sent (see migration 0002)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.timeutil import utc_iso


@dataclass(frozen=True)
class OutboxItem:
    id: int
    channel: str
    chat_id: str
    payload: dict[str, Any]
    attempts: int


class OutboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, channel: str, chat_id: str, payload: dict[str, Any]) -> int:
        return await self.db.insert(
            "INSERT INTO outbox (channel, chat_id, payload, created_at) VALUES (?, ?, ?, ?)",
            (channel, chat_id, json.dumps(payload, ensure_ascii=False), utc_iso()),
        )

    async def mark_sent(self, item_id: int) -> None:
        await self.db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
            (utc_iso(), item_id),
        )

    async def mark_failed(self, item_id: int, error: str, *, final: bool) -> None:
        """Record a failed attempt; ``final`` gives up (the error stays for the office)."""
        await self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
            " status = CASE WHEN ? THEN 'failed' ELSE status END WHERE id = ?",
            (error[:500], 1 if final else 0, item_id),
        )

    async def pending(self, channel: str, limit: int = 500) -> list[OutboxItem]:
        rows = await self.db.fetchall(
            "SELECT * FROM outbox WHERE channel = ? AND status = 'pending' ORDER BY id LIMIT ?",
            (channel, limit),
        )
        return [
            OutboxItem(r["id"], r["channel"], r["chat_id"], json.loads(r["payload"]), r["attempts"])
            for r in rows
        ]

    async def prune(self, keep_days: int = 30) -> int:
        cutoff = utc_iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days))
        return await self.db.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?", (cutoff,)
        )
