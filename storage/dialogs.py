"""Open dialogs and the last offered choices, per user."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import SoonFlush, Store
from storage.timeutil import parse_iso, utc_iso


@dataclass(frozen=True)
class DialogRow:
    user_id: int
    kind: str
    state: dict[str, Any]
    started_at: dt.datetime
    updated_at: dt.datetime


class _WriteThroughCache:
    """Per-user cache of one row kind (``None`` = known absent), forgotten on rollback."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self._cache: dict[int, Any] = {}
        # Instances sharing the database (PostgreSQL) each see the others' writes only in
        # the database: the cache is then written but never trusted for reads.
        self.trust_cache = not db.dialect.shared

    def _set(self, user_id: int, value: Any) -> None:
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[user_id] = value
        self.db.on_rollback(lambda: self._cache.pop(user_id, None))

    def forget(self) -> None:
        self._cache.clear()


class DialogRepo(_WriteThroughCache):
    async def get(self, user_id: int) -> DialogRow | None:
        if self.trust_cache and user_id in self._cache:
            cached: DialogRow | None = self._cache[user_id]
            return cached
        row = await self.db.fetchone("SELECT * FROM dialogs WHERE user_id = ?", (user_id,))
        dialog = None
        if row is not None:
            dialog = DialogRow(
                row["user_id"],
                row["kind"],
                json.loads(row["state"]),
                parse_iso(row["started_at"]),
                parse_iso(row["updated_at"]),
            )
        self._cache[user_id] = dialog
        return dialog

    async def save(self, user_id: int, kind: str, state: dict[str, Any], now: dt.datetime) -> None:
        previous = self._cache.get(user_id)
        started = previous.started_at if previous is not None and previous.kind == kind else now
        self._set(user_id, DialogRow(user_id, kind, json.loads(json.dumps(state)), started, now))
        stamp = utc_iso(now)
        await self.db.later(
            "INSERT INTO dialogs (user_id, kind, state, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind,"
            " state = excluded.state, updated_at = excluded.updated_at,"
            " started_at = CASE WHEN dialogs.kind = excluded.kind THEN dialogs.started_at"
            " ELSE excluded.started_at END",
            (user_id, kind, json.dumps(state, ensure_ascii=False), stamp, stamp),
        )

    async def delete(self, user_id: int) -> None:
        if self.trust_cache and user_id in self._cache and self._cache[user_id] is None:
            return
        self._set(user_id, None)
        await self.db.later("DELETE FROM dialogs WHERE user_id = ?", (user_id,))

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM dialogs"))


MenuEntry = tuple[str, ...]  # (label, action) or (label, action, memo)


class MenuRepo(_WriteThroughCache):
    """The choices last offered to each user.

    A menu is a hint (which option "2" means), shown or replaced by almost every reply, so its
    rows are written in batches every ``FLUSH_DELAY`` seconds rather than in each update's
    transaction; the in-process cache is what the conversation reads. A crash may lose the
    latest menu change; a delayed "clear" never removes a newer menu (it carries a time).
    """

    FLUSH_DELAY = 0.05

    def __init__(self, db: Store) -> None:
        super().__init__(db)
        self._writes: dict[int, tuple[str, str | None, str]] = {}
        self._soon = SoonFlush(self.flush, self.FLUSH_DELAY)

    async def get(self, user_id: int) -> tuple[list[tuple[str, str]], dt.datetime] | None:
        """The (label, action) pairs last offered, and when."""
        menu = await self._menu(user_id)
        if menu is None:
            return None
        entries, created = menu
        return [(entry[0], entry[1]) for entry in entries], created

    async def memo(self, user_id: int, action: str) -> str | None:
        """What was noted with a choice still on offer ("xem thêm": the question)."""
        menu = await self._menu(user_id)
        for entry in menu[0] if menu else []:
            if entry[1] == action and len(entry) > 2:
                return entry[2]
        return None

    async def _menu(self, user_id: int) -> tuple[list[MenuEntry], dt.datetime] | None:
        if self.trust_cache and user_id in self._cache:
            cached: tuple[list[MenuEntry], dt.datetime] | None = self._cache[user_id]
            return cached
        row = await self.db.fetchone("SELECT * FROM menus WHERE user_id = ?", (user_id,))
        menu = None
        if row is not None:
            entries = [tuple(entry) for entry in json.loads(row["choices"])]
            menu = (entries, parse_iso(row["created_at"]))
        self._cache[user_id] = menu
        return menu

    async def save(self, user_id: int, choices: list[MenuEntry], now: dt.datetime) -> None:
        """``choices``: (label, action) or (label, action, memo)."""
        self._cache[user_id] = (list(choices), now)
        self._write(user_id, ("save", json.dumps(choices, ensure_ascii=False), utc_iso(now)))
        if not self.trust_cache:  # another instance may get the person's answer to it
            await self.flush()

    async def clear(self, user_id: int, now: dt.datetime) -> None:
        if self.trust_cache and user_id in self._cache and self._cache[user_id] is None:
            return
        self._cache[user_id] = None
        self._write(user_id, ("clear", None, utc_iso(now)))
        if not self.trust_cache:
            await self.flush()

    def _write(self, user_id: int, write: tuple[str, str | None, str]) -> None:
        self._writes[user_id] = write

        def undo() -> None:  # the update that showed (or hid) this menu was rolled back
            self._writes.pop(user_id, None)
            self._cache.pop(user_id, None)

        self.db.on_rollback(undo)
        self._soon.request()

    async def flush(self) -> None:
        while self._writes:
            writes, self._writes = self._writes, {}
            saves = [(uid, data, at) for uid, (op, data, at) in writes.items() if op == "save"]
            clears = [(uid, at) for uid, (op, _, at) in writes.items() if op == "clear"]
            try:
                if saves:
                    await self.db.executemany(
                        "INSERT INTO menus (user_id, choices, created_at) VALUES (?, ?, ?)"
                        " ON CONFLICT (user_id) DO UPDATE SET choices = excluded.choices,"
                        " created_at = excluded.created_at",
                        saves,
                    )
                if clears:
                    await self.db.executemany(
                        "DELETE FROM menus WHERE user_id = ? AND created_at <= ?", clears
                    )
            except Exception:
                for uid, write in writes.items():  # kept for the next flush
                    self._writes.setdefault(uid, write)
                raise
