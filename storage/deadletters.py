"""Updates that could not be handled, kept with their error and raw body (migration 0007).

A channel that meets an update it cannot parse or handle (after a few attempts) puts it here,
logs it once and goes on: one odd payload never stops a channel, and the office can see what
was not handled (``ntm-bot db deadletters``, ``/tonghop``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Store
from storage.timeutil import parse_iso, utc_iso

MAX_RAW = 100_000  # characters of the body kept: enough to read, bounded for a huge payload


@dataclass(frozen=True)
class DeadLetter:
    id: int
    channel: str
    update_key: str | None
    error: str
    raw: str
    attempts: int
    created_at: dt.datetime


class DeadLetters:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def add(
        self, channel: str, update_key: str | None, error: str, raw: str, attempts: int = 1
    ) -> None:
        await self.db.execute(
            "INSERT INTO dead_letters (channel, update_key, error, raw, attempts, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (channel, update_key, error[:2000], raw[:MAX_RAW], attempts, utc_iso()),
        )

    async def recent(self, limit: int = 20) -> list[DeadLetter]:
        rows = await self.db.fetchall(
            "SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            DeadLetter(
                r["id"],
                r["channel"],
                r["update_key"],
                r["error"],
                r["raw"],
                r["attempts"],
                parse_iso(r["created_at"]),
            )
            for r in rows
        ]

    async def count_since(self, since: dt.datetime) -> int:
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM dead_letters WHERE created_at >= ?", (utc_iso(since),)
            )
        )
