"""One-time invite codes (migration 0003)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Database, Row
from storage.timeutil import parse_iso, utc_iso


@dataclass(frozen=True)
class Invite:
    code: str
    role: str
    commune_id: int | None
    created_by: int
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> Invite:
        return cls(
            row["code"],
            row["role"],
            row["commune_id"],
            row["created_by"],
            parse_iso(row["created_at"]),
            parse_iso(row["expires_at"]),
            row["used_by"],
        )


class InviteRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        code: str,
        role: str,
        commune_id: int | None,
        created_by: int,
        now: dt.datetime,
        expires_at: dt.datetime,
    ) -> None:
        await self.db.execute(
            "INSERT INTO invites (code, role, commune_id, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (code, role, commune_id, created_by, utc_iso(now), utc_iso(expires_at)),
        )

    async def get(self, code: str) -> Invite | None:
        row = await self.db.fetchone("SELECT * FROM invites WHERE code = ?", (code,))
        return Invite.from_row(row) if row else None

    async def redeem(self, code: str, user_id: int, now: dt.datetime) -> bool:
        """Use the code once; ``False`` if it was used or has expired meanwhile."""
        changed = await self.db.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL"
            " AND expires_at > ?",
            (user_id, utc_iso(now), code, utc_iso(now)),
        )
        return changed == 1
