"""Open dialogs and the last offered choices, per user."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.timeutil import parse_iso, utc_iso


@dataclass(frozen=True)
class DialogRow:
    user_id: int
    kind: str
    state: dict[str, Any]
    started_at: dt.datetime
    updated_at: dt.datetime


class DialogRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> DialogRow | None:
        row = await self.db.fetchone("SELECT * FROM dialogs WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return DialogRow(
            row["user_id"],
            row["kind"],
            json.loads(row["state"]),
            parse_iso(row["started_at"]),
            parse_iso(row["updated_at"]),
        )

    async def save(self, user_id: int, kind: str, state: dict[str, Any], now: dt.datetime) -> None:
        stamp = utc_iso(now)
        await self.db.execute(
            "INSERT INTO dialogs (user_id, kind, state, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET kind = excluded.kind,"
            " state = excluded.state, updated_at = excluded.updated_at,"
            " started_at = CASE WHEN dialogs.kind = excluded.kind THEN dialogs.started_at"
            " ELSE excluded.started_at END",
            (user_id, kind, json.dumps(state, ensure_ascii=False), stamp, stamp),
        )

    async def delete(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM dialogs WHERE user_id = ?", (user_id,))

    async def count(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM dialogs"))


class MenuRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: int) -> tuple[list[tuple[str, str]], dt.datetime] | None:
        row = await self.db.fetchone("SELECT * FROM menus WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        choices = [(label, action) for label, action in json.loads(row["choices"])]
        return choices, parse_iso(row["created_at"])

    async def save(self, user_id: int, choices: list[tuple[str, str]], now: dt.datetime) -> None:
        await self.db.execute(
            "INSERT INTO menus (user_id, choices, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET choices = excluded.choices,"
            " created_at = excluded.created_at",
            (user_id, json.dumps(choices, ensure_ascii=False), utc_iso(now)),
        )

    async def clear(self, user_id: int) -> None:
        await self.db.execute("DELETE FROM menus WHERE user_id = ?", (user_id,))
