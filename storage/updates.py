"""Handled updates and their replies (see migration 0002).

Recording an update is also the redelivery check: the row's ``(channel, update_key)`` is
unique, and it is written in the same transaction as the update's effects, so a redelivered
update can never take effect twice. The row then holds the replies until they are sent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from storage.db import DuplicateKey, SoonFlush, Store
from storage.leases import free_claims_of_gone, instance_name, process_gone
from storage.timeutil import utc_iso


@dataclass(frozen=True)
class PendingUpdate:
    id: int
    channel: str
    update_key: str
    chat_id: str
    replies: dict[str, Any]
    attempts: int


# Replies are sent within moments of being recorded: one claimed longer ago than this was left
# by an instance that died before sending it.
REPLY_LEASE = dt.timedelta(seconds=60)


class ProcessedUpdates:
    """Handled updates and their replies.

    An update with effects is recorded in its own transaction (:meth:`record`). An update that
    changed nothing (a question, a menu) is recorded in the next batch (:meth:`record_later`):
    a crash before that batch only means it may be answered once more after restart.
    "Sent" confirmations are batched the same way. A batch is written every ``FLUSH_DELAY``
    seconds, in a couple of statements however many updates it holds.
    """

    RECENT = 20_000
    FLUSH_DELAY = 0.05

    def __init__(self, db: Store, owner: str | None = None) -> None:
        self.db = db
        # The instance handling updates here: it claims the replies it records and sends them.
        self.owner = owner or instance_name()
        self.lease = REPLY_LEASE
        self._recent: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._later: dict[tuple[str, str], list[Any]] = {}
        self._acks: list[tuple[str, str, str]] = []
        self._soon = SoonFlush(self.flush, self.FLUSH_DELAY)

    async def record(
        self, channel: str, update_key: str, chat_id: str, replies: dict[str, Any]
    ) -> int | None:
        """Record a handled update with its replies: the last write of its transaction.

        Returns the row id, or ``None`` if this update was recorded before (a redelivery);
        the caller must then roll the transaction back.
        """
        try:
            now = utc_iso()
            row_id = await self.db.finish(
                "INSERT INTO processed_updates (channel, update_key, chat_id, replies,"
                " created_at, claimed_by, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    channel,
                    update_key,
                    chat_id,
                    json.dumps(replies, ensure_ascii=False),
                    now,
                    self.owner,
                    now,
                ),
            )
        except DuplicateKey:
            return None
        key = (channel, update_key)
        self._remember(key)
        self.db.on_rollback(lambda: self._recent.pop(key, None))
        return row_id

    def record_later(
        self, channel: str, update_key: str, chat_id: str, replies: dict[str, Any]
    ) -> None:
        """Record an update that changed nothing, with the next batch."""
        key = (channel, update_key)
        self._remember(key)
        self._later[key] = [channel, update_key, chat_id, replies, utc_iso(), "pending", None]
        # (written with the batch, claimed by this instance like a recorded update)
        self._soon.request()

    def _remember(self, key: tuple[str, str]) -> None:
        self._recent[key] = None
        if len(self._recent) > self.RECENT:
            self._recent.popitem(last=False)

    def recently_claimed(self, channel: str, update_key: str) -> bool:
        """Handled by this process lately (no database access: a cheap early check)."""
        return (channel, update_key) in self._recent

    async def seen(self, channel: str, update_key: str) -> bool:
        return bool(
            await self.db.fetchval(
                "SELECT 1 FROM processed_updates WHERE channel = ? AND update_key = ?",
                (channel, update_key),
            )
        )

    # -- delivery --------------------------------------------------------------------------
    async def take_over(self, channel: str, update_key: str) -> PendingUpdate | bool:
        """For a redelivered update: its replies if they are unsent and their claim ran out
        (the instance that handled it died: they are now this instance's to send); ``True``
        when they went out (or gave up for good); ``False`` while their sender may still be
        at it."""
        row = await self.db.fetchone(
            "SELECT id, status, claimed_by, claimed_at FROM processed_updates"
            " WHERE channel = ? AND update_key = ?",
            (channel, update_key),
        )
        if row is None or row["status"] != "pending":
            return True
        holder, since = row["claimed_by"], row["claimed_at"]
        now = dt.datetime.now(dt.UTC)
        abandoned = (  # this instance's own are on their way (or retried when they fail)
            holder is None
            or process_gone(str(holder))
            or (since is not None and since < utc_iso(now - self.lease))
        )
        if not abandoned:
            return False
        taken = await self.db.write_returning(
            "UPDATE processed_updates SET claimed_by = ?, claimed_at = ? WHERE id = ?"
            " AND status = 'pending' AND claimed_by IS NOT DISTINCT FROM ?"
            " RETURNING id, channel, update_key, chat_id, replies, attempts",
            (self.owner, utc_iso(now), row["id"], holder),
        )
        if not taken:
            return False  # another instance took it first
        r = taken[0]
        return PendingUpdate(
            r["id"], r["channel"], r["update_key"], r["chat_id"], json.loads(r["replies"]),
            r["attempts"],
        )  # fmt: skip

    async def confirm_sent(self, channel: str, update_key: str) -> None:
        """The replies went out. With several instances on a shared database (PostgreSQL)
        this is written at once: another instance takes over replies still marked unsent
        after their claim's lease, and a batched mark could come too late. On SQLite (one
        process) it goes with the next batch (:meth:`mark_sent`)."""
        if not self.db.dialect.shared or (channel, update_key) in self._later:
            self.mark_sent(channel, update_key)
            return
        await self.db.execute(
            "UPDATE processed_updates SET status = 'sent', sent_at = ?, attempts = attempts + 1"
            " WHERE channel = ? AND update_key = ?",
            (utc_iso(), channel, update_key),
        )

    def mark_sent(self, channel: str, update_key: str) -> None:
        """Record that the replies went out (written with the next batch).

        A crash before the batch only means the replies are sent again after restart
        (at-least-once, as the platforms deliver updates).
        """
        stamp = utc_iso()
        waiting = self._later.get((channel, update_key))
        if waiting is not None:
            waiting[5], waiting[6] = "sent", stamp
        else:
            self._acks.append((stamp, channel, update_key))
        self._soon.request()

    async def flush(self) -> None:
        """Write the waiting records and confirmations now (also at shutdown)."""
        while self._later:
            records, self._later = list(self._later.values()), {}
            try:
                await self.db.executemany(
                    "INSERT INTO processed_updates (channel, update_key, chat_id,"
                    " replies, created_at, status, sent_at, claimed_by, claimed_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [
                        (c, k, chat, json.dumps(r, ensure_ascii=False), at, status, sent,
                         self.owner, at)
                        for c, k, chat, r, at, status, sent in records
                    ],
                )  # fmt: skip
            except Exception:
                for record in records:  # kept for the next flush
                    self._later.setdefault((record[0], record[1]), record)
                raise
        while self._acks:
            batch, self._acks = self._acks[:500], self._acks[500:]
            try:
                await self.db.executemany(
                    "UPDATE processed_updates SET status = 'sent', sent_at = ?,"
                    " attempts = attempts + 1 WHERE channel = ? AND update_key = ?",
                    batch,
                )
            except Exception:
                self._acks = batch + self._acks  # kept for the next flush
                raise

    async def mark_failed(self, channel: str, update_key: str, error: str, *, final: bool) -> None:
        """Record a failed attempt; ``final`` gives up (the error stays for the office)."""
        await self.flush()
        await self.db.execute(
            "UPDATE processed_updates SET attempts = attempts + 1, last_error = ?,"
            " status = CASE WHEN ? THEN 'failed' ELSE status END"
            " WHERE channel = ? AND update_key = ?",
            (error[:500], 1 if final else 0, channel, update_key),
        )

    async def pending(
        self,
        channel: str,
        limit: int = 500,
        *,
        failed_only: bool = False,
    ) -> list[PendingUpdate]:
        """Claim replies recorded but not confirmed sent, oldest first: those nobody is
        sending (unclaimed; claimed by a process of this machine that is gone; or claimed
        longer ago than ``lease`` by an instance that died) and this instance's own whose
        sending failed. ``failed_only``: only those whose sending already failed.
        (``lease``: how long a claim holds, ``REPLY_LEASE`` unless configured.)"""
        await free_claims_of_gone(self.db, "processed_updates", " AND channel = ?", (channel,))
        now = dt.datetime.now(dt.UTC)
        rows = await self.db.write_returning(
            "UPDATE processed_updates SET claimed_by = ?, claimed_at = ? WHERE id IN ("  # noqa: S608
            " SELECT id FROM processed_updates WHERE channel = ? AND status = 'pending'"
            " AND attempts >= ? AND (claimed_by IS NULL OR claimed_at < ?"
            " OR (claimed_by = ? AND attempts >= 1))"
            f" ORDER BY id LIMIT ?{self.db.dialect.skip_locked()})"
            " RETURNING id, channel, update_key, chat_id, replies, attempts",
            (
                self.owner,
                utc_iso(now),
                channel,
                1 if failed_only else 0,
                utc_iso(now - self.lease),
                self.owner,
                limit,
            ),
        )
        rows = sorted(rows, key=lambda r: r["id"])
        return [
            PendingUpdate(
                r["id"],
                r["channel"],
                r["update_key"],
                r["chat_id"],
                json.loads(r["replies"]),
                r["attempts"],
            )
            for r in rows
        ]
