"""Leases (migration 0013): one holder at a time for a named piece of work, renewed while
held, taken over once expired."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Sequence
from typing import Any

from storage.db import Store
from storage.timeutil import utc_iso


class LeaseRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def acquire(
        self, name: str, owner: str, now: dt.datetime, ttl: dt.timedelta
    ) -> str | None:
        """Take or renew the lease; ``None`` when ``owner`` holds it now, else who does."""
        await self.db.execute(
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
            " expires_at = excluded.expires_at"
            " WHERE leases.owner = excluded.owner OR leases.expires_at < ?",
            (name, owner, utc_iso(now + ttl), utc_iso(now)),
        )
        holder = await self.db.fetchval("SELECT owner FROM leases WHERE name = ?", (name,))
        return None if holder == owner else str(holder)

    async def take_from(
        self, name: str, old: str, owner: str, now: dt.datetime, ttl: dt.timedelta
    ) -> bool:
        """Take the lease from a holder known to be gone (a dead process on this machine)."""
        changed = await self.db.execute(
            "UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND owner = ?",
            (owner, utc_iso(now + ttl), name, old),
        )
        return changed == 1

    async def expires(self, name: str) -> str | None:
        """When the lease runs out (as stored): it moves each time its holder renews it."""
        value = await self.db.fetchval("SELECT expires_at FROM leases WHERE name = ?", (name,))
        return None if value is None else str(value)

    async def release(self, name: str, owner: str) -> None:
        await self.db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))


def instance_name(configured: str | None = None) -> str:
    """This instance: ``NTM_INSTANCE_ID`` if set, else ``host:pid``."""
    return configured or f"{socket.gethostname()}:{os.getpid()}"


def process_gone(holder: str) -> bool:
    """A holder named ``host:pid`` (or ``host:pid:…``, several holders in one process) that
    was a process on this machine and no longer runs (a crash, a kill)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def free_claims_of_gone(
    db: Store, table: str, scope: str = "", params: Sequence[Any] = ()
) -> int:
    """Free the claims (``claimed_by``) on the pending rows of ``table`` (replies,
    deliveries) held by processes of this machine that are gone: they need not wait out
    their lease. ``scope``: more conditions (`` AND channel = ?``) with their ``params``.
    Returns how many rows were freed."""
    holders = await db.fetchall(
        f"SELECT DISTINCT claimed_by FROM {table}"  # noqa: S608 - the code's own names
        f" WHERE status = 'pending' AND claimed_by IS NOT NULL{scope}",
        tuple(params),
    )
    freed = 0
    for row in holders:
        if process_gone(str(row["claimed_by"])):
            freed += await db.execute(
                f"UPDATE {table} SET claimed_by = NULL"  # noqa: S608 - the code's own names
                f" WHERE status = 'pending' AND claimed_by = ?{scope}",
                (row["claimed_by"], *params),
            )
    return freed
