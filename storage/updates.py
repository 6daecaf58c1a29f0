"""Remembers handled update ids per channel so that a redelivered update is handled once."""

from __future__ import annotations

import datetime as dt

from storage.db import Database
from storage.timeutil import utc_iso


class ProcessedUpdates:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, channel: str, update_key: str) -> bool:
        """Record the update; ``False`` if it was already recorded (a redelivery).

        Call it inside the transaction that applies the update's effects, so that the marker
        and the effects commit or roll back together.
        """
        changed = await self.db.execute(
            "INSERT OR IGNORE INTO processed_updates (channel, update_key, processed_at)"
            " VALUES (?, ?, ?)",
            (channel, update_key, utc_iso()),
        )
        return changed > 0

    async def seen(self, channel: str, update_key: str) -> bool:
        return bool(
            await self.db.fetchval(
                "SELECT 1 FROM processed_updates WHERE channel = ? AND update_key = ?",
                (channel, update_key),
            )
        )

    async def prune(self, older_than: dt.timedelta) -> int:
        """Forget markers older than any possible redelivery window."""
        cutoff = utc_iso(dt.datetime.now(dt.UTC) - older_than)
        return await self.db.execute(
            "DELETE FROM processed_updates WHERE processed_at < ?", (cutoff,)
        )
