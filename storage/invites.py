"""One-time invite codes (migration 0003)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Row, Store
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
    revoked: bool = False
    unit_key: str | None = None

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
            row["revoked_at"] is not None,
            row["unit_key"],
        )


class InviteRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def create(
        self,
        code: str,
        role: str,
        commune_id: int | None,
        created_by: int,
        now: dt.datetime,
        expires_at: dt.datetime,
        unit_key: str | None = None,
    ) -> None:
        await self.db.execute(
            "INSERT INTO invites (code, role, commune_id, unit_key, created_by, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (code, role, commune_id, unit_key, created_by, utc_iso(now), utc_iso(expires_at)),
        )

    async def get(self, code: str) -> Invite | None:
        row = await self.db.fetchone("SELECT * FROM invites WHERE code = ?", (code,))
        return Invite.from_row(row) if row else None

    async def redeem(self, code: str, user_id: int, now: dt.datetime) -> bool:
        """Use the code once; ``False`` if it was used, withdrawn or has expired meanwhile."""
        changed = await self.db.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL"
            " AND revoked_at IS NULL AND expires_at > ?",
            (user_id, utc_iso(now), code, utc_iso(now)),
        )
        return changed == 1

    async def pending(self, now: dt.datetime) -> list[Invite]:
        """Codes nobody has used yet that still work, newest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM invites WHERE used_by IS NULL AND revoked_at IS NULL"
            " AND expires_at > ? ORDER BY created_at DESC",
            (utc_iso(now),),
        )
        return [Invite.from_row(r) for r in rows]

    async def withdraw(self, code: str, by: int, now: dt.datetime) -> bool:
        """Make an unused code useless; ``False`` if it was used or withdrawn already."""
        changed = await self.db.execute(
            "UPDATE invites SET revoked_at = ?, revoked_by = ? WHERE code = ?"
            " AND used_by IS NULL AND revoked_at IS NULL",
            (utc_iso(now), by, code),
        )
        return changed == 1


class FailedAttempts:
    """Failures per key: ``limit`` failures within ``window`` lock the key for ``cooldown``
    (kept in the database, so a restart does not reset a guesser's count). Subclasses name
    the table and its key column."""

    table = ""
    key = ""

    def __init__(
        self,
        db: Store,
        *,
        limit: int = 5,
        window: dt.timedelta = dt.timedelta(minutes=15),
        cooldown: dt.timedelta = dt.timedelta(minutes=15),
    ) -> None:
        self.db = db
        self.limit = limit
        self.window = window
        self.cooldown = cooldown

    async def locked_until(self, who: int | str, now: dt.datetime) -> dt.datetime | None:
        row = await self.db.fetchone(
            f"SELECT locked_until FROM {self.table} WHERE {self.key} = ?",  # noqa: S608 - class constants
            (who,),
        )
        if row is None or row["locked_until"] is None:
            return None
        until = parse_iso(row["locked_until"])
        return until if until > now else None

    async def failed(self, who: int | str, now: dt.datetime) -> dt.datetime | None:
        """Count a failure; the end of the cool-down if this one started it."""
        row = await self.db.fetchone(
            f"SELECT failures, first_failed FROM {self.table} WHERE {self.key} = ?",  # noqa: S608
            (who,),
        )
        failures, first = 0, now
        if row is not None and row["first_failed"] is not None:
            started = parse_iso(row["first_failed"])
            if now - started <= self.window:
                failures, first = int(row["failures"]), started
        failures += 1
        until = now + self.cooldown if failures >= self.limit else None
        if until is not None:
            failures, first_iso = 0, None
        else:
            first_iso = utc_iso(first)
        await self.db.execute(
            f"INSERT INTO {self.table} ({self.key}, failures, first_failed, locked_until)"  # noqa: S608
            f" VALUES (?, ?, ?, ?) ON CONFLICT ({self.key}) DO UPDATE SET"
            " failures = excluded.failures, first_failed = excluded.first_failed,"
            " locked_until = excluded.locked_until",
            (who, failures, first_iso, utc_iso(until) if until else None),
        )
        return until

    async def succeeded(self, who: int | str) -> None:
        await self.db.execute(
            f"DELETE FROM {self.table} WHERE {self.key} = ?",  # noqa: S608 - class constants
            (who,),
        )


class InviteAttempts(FailedAttempts):
    """Wrong invite codes per user."""

    table = "invite_attempts"
    key = "user_id"
