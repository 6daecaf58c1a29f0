"""Received updates waiting to be handled (see migration 0002).

A batch from a polling API is stored as one row before it is confirmed to the platform and
deleted once every update in it was handled, so the queue costs two statements per batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from storage.db import SoonFlush, Store
from storage.timeutil import utc_iso


class Inbox:
    DONE_DELAY = 0.05

    def __init__(self, db: Store) -> None:
        self.db = db
        self._open: dict[tuple[str, str], set[str]] = {}  # batch → updates not yet handled
        self._batch_of: dict[tuple[str, str], tuple[str, str]] = {}
        self._finished: list[tuple[str, str]] = []
        self._soon = SoonFlush(self.flush, self.DONE_DELAY)

    async def store(self, channel: str, updates: Iterable[tuple[str, str]]) -> None:
        """Keep a batch of ``(update_key, body)`` pairs until every one of them is handled."""
        items = list(updates)
        if not items:
            return
        batch = (channel, items[0][0])
        # The bodies are JSON already: embed them rather than quoting them as strings.
        body = "[" + ",".join(f"[{json.dumps(key)},{raw}]" for key, raw in items) + "]"
        await self.db.execute(
            "INSERT INTO inbox (channel, update_key, body, received_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (channel, batch[1], body, utc_iso()),
        )
        self._open[batch] = {key for key, _ in items}
        for key, _ in items:
            self._batch_of[(channel, key)] = batch

    def done(self, channel: str, update_key: str) -> None:
        batch = self._batch_of.pop((channel, update_key), None)
        if batch is None:
            return
        waiting = self._open.get(batch)
        if waiting is None:
            return
        waiting.discard(update_key)
        if not waiting:
            del self._open[batch]
            self._finished.append(batch)
            self._soon.request()

    async def flush(self) -> None:
        while self._finished:
            batch, self._finished = self._finished, []
            try:
                await self.db.executemany(
                    "DELETE FROM inbox WHERE channel = ? AND update_key = ?", batch
                )
            except Exception:
                self._finished = batch + self._finished
                raise

    async def left_over(self, channel: str) -> list[tuple[str, str]]:
        """Updates of batches a crash left unfinished, in arrival order (some may have been
        handled already; the processed-updates record makes handling them again harmless)."""
        rows = await self.db.fetchall(
            "SELECT update_key, body FROM inbox WHERE channel = ? ORDER BY id", (channel,)
        )
        updates: list[tuple[str, str]] = []
        for row in rows:
            try:
                batch = json.loads(row["body"])
                updates.extend((str(key), json.dumps(raw)) for key, raw in batch)
            except (ValueError, TypeError):  # damaged: handed on whole, to be set aside
                updates.append((row["update_key"], row["body"]))
        return updates

    async def clear_left_over(self, channel: str) -> None:
        await self.db.execute("DELETE FROM inbox WHERE channel = ?", (channel,))
