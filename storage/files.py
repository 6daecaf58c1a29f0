"""Stored file contents (``blobs``) and expiring links to them (``shared_files``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from storage.db import Store
from storage.timeutil import utc_iso


@dataclass(frozen=True)
class SharedFile:
    data: bytes
    filename: str
    mime: str


class FileStore:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def put(self, data: bytes) -> str:
        """Store bytes once; returns their SHA-256, which names them. Stored again, they are
        young again: the retention job leaves them to whatever is about to refer to them."""
        digest = hashlib.sha256(data).hexdigest()
        await self.db.execute(
            "INSERT INTO blobs (sha256, data, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (sha256) DO UPDATE SET created_at = excluded.created_at",
            (digest, data, utc_iso(dt.datetime.now(dt.UTC))),
        )
        return digest

    async def get(self, digest: str) -> bytes | None:
        data = await self.db.fetchval("SELECT data FROM blobs WHERE sha256 = ?", (digest,))
        return None if data is None else bytes(data)

    async def share(
        self, data: bytes, filename: str, mime: str, *, now: dt.datetime, ttl: dt.timedelta
    ) -> str:
        """A new unguessable token for a link to ``data`` that works until ``now + ttl``."""
        digest = await self.put(data)
        token = secrets.token_urlsafe(24)
        await self.db.execute(
            "INSERT INTO shared_files (token, sha256, filename, mime, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token, digest, filename, mime, utc_iso(now + ttl)),
        )
        return token

    async def shared(self, token: str, now: dt.datetime) -> SharedFile | None:
        row = await self.db.fetchone(
            "SELECT b.data, f.filename, f.mime FROM shared_files f JOIN blobs b USING (sha256)"
            " WHERE f.token = ? AND f.expires_at > ?",
            (token, utc_iso(now)),
        )
        if row is None:
            return None
        return SharedFile(bytes(row["data"]), row["filename"], row["mime"])
