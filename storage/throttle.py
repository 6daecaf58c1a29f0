"""Token buckets in the database (migration 0015): flood control that holds across the
instances sharing a database. One statement per message: refill since the last message, take
a token if there is one, and say whether there was."""

from __future__ import annotations

from storage.db import Store


class SharedBuckets:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def take(self, key: str, now: float, *, interval: float, burst: int) -> bool:
        """Whether ``key`` may send now (``now``: seconds, the same clock for every instance)."""
        least = "least" if self.db.dialect.name == "postgresql" else "min"
        refilled = f"{least}(?, throttle.tokens + (excluded.updated - throttle.updated) / ?)"
        rows = await self.db.write_returning(
            "INSERT INTO throttle (key, tokens, updated, allowed) VALUES (?, ?, ?, 1)"  # noqa: S608
            " ON CONFLICT (key) DO UPDATE SET"
            f" tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END,"
            f" allowed = CASE WHEN {refilled} >= 1 THEN 1 ELSE 0 END,"
            " updated = excluded.updated RETURNING allowed",
            (
                key, float(burst - 1), now,
                float(burst), interval, float(burst), interval,
                float(burst), interval, float(burst), interval,
            ),
        )  # fmt: skip
        return bool(rows and rows[0][0])
