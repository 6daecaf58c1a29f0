"""Received updates waiting to be handled (see migration 0002).

A batch from a polling API is stored as one row before it is confirmed to the platform and
deleted once every update in it was handled and the row was written, so the queue costs two
statements per batch. Its updates may be handled while the row is being written: a batch
finished before its row is written is deleted only after the write.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from storage.db import Row, SoonFlush, Store
from storage.timeutil import utc_iso


class Inbox:
    DONE_DELAY = 0.05

    def __init__(self, db: Store) -> None:
        self.db = db
        self._open: dict[tuple[str, str], set[str]] = {}  # batch → updates not yet handled
        self._batch_of: dict[tuple[str, str], tuple[str, str]] = {}
        self._finished: list[tuple[str, str]] = []
        self._writing: set[tuple[str, str]] = set()  # batches whose row is being written
        self._soon = SoonFlush(self.flush, self.DONE_DELAY)

    def expect(self, channel: str, keys: list[str]) -> None:
        """A batch about to be stored: its updates may be handled (and done) before
        :meth:`store` writes it (the poller starts them first, and confirms them to the
        platform only once it is written)."""
        if not keys:
            return
        batch = (channel, keys[0])
        self._open[batch] = set(keys)
        for key in keys:
            self._batch_of[(channel, key)] = batch
        self._writing.add(batch)

    async def store(self, channel: str, updates: Iterable[tuple[str, str]]) -> None:
        """Keep a batch of ``(update_key, body)`` pairs until every one of them is handled."""
        items = list(updates)
        if not items:
            return
        batch = (channel, items[0][0])
        # The bodies are JSON already: embed them rather than quoting them as strings.
        body = "[" + ",".join(f"[{json.dumps(key)},{raw}]" for key, raw in items) + "]"
        if batch not in self._writing:  # (not announced by expect(): known from now on)
            self.expect(channel, [key for key, _ in items])
        try:
            await self.db.execute(
                "INSERT INTO inbox (channel, update_key, body, received_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (channel, batch[1], body, utc_iso()),
            )
        except BaseException:
            self._open.pop(batch, None)
            for key, _ in items:
                self._batch_of.pop((channel, key), None)
            if batch in self._finished:  # handled already: there is no row to delete
                self._finished.remove(batch)
            raise
        finally:
            self._writing.discard(batch)
        if batch in self._finished:
            self._soon.request()  # handled while it was written: its row can go now

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
        while True:
            # (a batch whose row is still being written is deleted after the write)
            ready = [b for b in self._finished if b not in self._writing]
            if not ready:
                return
            self._finished = [b for b in self._finished if b in self._writing]
            try:
                await self.db.executemany(
                    "DELETE FROM inbox WHERE channel = ? AND update_key = ?", ready
                )
            except Exception:
                self._finished = ready + self._finished
                raise

    async def left_over(
        self, channel: str, received_before: dt.datetime | None = None
    ) -> list[tuple[str, str]]:
        """Updates of batches a crash left unfinished, in arrival order (some may have been
        handled already; the processed-updates record makes handling them again harmless).
        ``received_before``: only those (where other instances share the database, newer
        batches are theirs, being handled)."""
        sql, params = "SELECT update_key, body FROM inbox WHERE channel = ?", [channel]
        if received_before is not None:
            sql, params = sql + " AND received_at < ?", [channel, utc_iso(received_before)]
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [update for row in rows for update in _unpack(row)]

    async def clear_left_over(
        self, channel: str, received_before: dt.datetime | None = None
    ) -> None:
        if received_before is None:
            await self.db.execute("DELETE FROM inbox WHERE channel = ?", (channel,))
        else:
            await self.db.execute(
                "DELETE FROM inbox WHERE channel = ? AND received_at < ?",
                (channel, utc_iso(received_before)),
            )

    async def adopt(self, channel: str, received_before: dt.datetime) -> list[tuple[str, str]]:
        """Batches stored before ``received_before`` and still unfinished: their instance
        acknowledged them to the platform and died. This instance takes them (one statement
        moves their time to now, so no other instance takes them too) and deletes each batch
        once it has handled every update in it, as with its own."""
        rows = await self.db.write_returning(
            "UPDATE inbox SET received_at = ? WHERE channel = ? AND received_at < ?"
            " RETURNING id, update_key, body",
            (utc_iso(), channel, utc_iso(received_before)),
        )
        updates: list[tuple[str, str]] = []
        for row in sorted(rows, key=lambda r: int(r["id"])):
            batch = (channel, str(row["update_key"]))
            items = _unpack(row)
            self._open[batch] = {key for key, _ in items}
            for key, _ in items:
                self._batch_of[(channel, key)] = batch
            updates += items
        return updates


def _unpack(row: Row) -> list[tuple[str, str]]:
    """A stored batch's ``(update_key, body)`` pairs."""
    try:
        batch = json.loads(row["body"])
        return [(str(key), json.dumps(raw)) for key, raw in batch]
    except (ValueError, TypeError):  # damaged: handed on whole, to be set aside
        return [(str(row["update_key"]), str(row["body"]))]
