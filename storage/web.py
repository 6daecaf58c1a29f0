"""Sign-in links and browser sessions of the web view (migration 0011).

A link is a random token sent in the chat; it works once, for a few minutes, and opens a
session (another random token, in an HttpOnly cookie). Only SHA-256 hashes of tokens are
stored, so a copy of the database signs nobody in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from storage.db import Row, Store
from storage.invites import FailedAttempts
from storage.timeutil import parse_iso, utc_iso

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LinkProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class WebSession:
    id: int
    user_id: int
    csrf: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_seen_at: dt.datetime
    user_agent: str | None

    @classmethod
    def from_row(cls, row: Row) -> WebSession:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            csrf=row["csrf"],
            created_at=parse_iso(row["created_at"]),
            expires_at=parse_iso(row["expires_at"]),
            last_seen_at=parse_iso(row["last_seen_at"]),
            user_agent=row["user_agent"],
        )


class WebLinkRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def create(self, user_id: int, now: dt.datetime, ttl: dt.timedelta) -> str:
        """A new one-time token for ``user_id`` (returned once, stored as a hash)."""
        token = new_token()
        await self.db.execute(
            "INSERT INTO web_links (token_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (token_hash(token), user_id, utc_iso(now), utc_iso(now + ttl)),
        )
        return token

    async def redeem(self, token: str, now: dt.datetime) -> int | LinkProblem:
        """The user the link signs in (and it is used up), or why it does not."""
        digest = token_hash(token)
        changed = await self.db.execute(
            "UPDATE web_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
            " AND expires_at > ?",
            (utc_iso(now), digest, utc_iso(now)),
        )
        row = await self.db.fetchone(
            "SELECT user_id, used_at, expires_at FROM web_links WHERE token_hash = ?", (digest,)
        )
        if row is None:
            return LinkProblem.UNKNOWN
        if changed == 1:
            return int(row["user_id"])
        if row["used_at"] is not None:
            return LinkProblem.USED
        return LinkProblem.EXPIRED


class WebSessionRepo:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def open(
        self, user_id: int, now: dt.datetime, lifetime: dt.timedelta, user_agent: str | None
    ) -> tuple[str, WebSession]:
        """A new session: its cookie token (returned once) and the session."""
        token = new_token()
        session_id = await self.db.insert(
            "INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at,"
            " last_seen_at, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                token_hash(token),
                user_id,
                secrets.token_urlsafe(24),
                utc_iso(now),
                utc_iso(now + lifetime),
                utc_iso(now),
                (user_agent or "")[:200] or None,
            ),
        )
        row = await self.db.fetchone("SELECT * FROM web_sessions WHERE id = ?", (session_id,))
        assert row is not None
        return token, WebSession.from_row(row)

    async def current(self, token: str, now: dt.datetime) -> WebSession | None:
        """The live session of a cookie token (``None``: unknown, ended or expired)."""
        row = await self.db.fetchone(
            "SELECT * FROM web_sessions WHERE token_hash = ? AND ended_at IS NULL"
            " AND expires_at > ?",
            (token_hash(token), utc_iso(now)),
        )
        return WebSession.from_row(row) if row else None

    async def seen(self, session: WebSession, now: dt.datetime) -> None:
        """Note activity (at most once a minute per session: reads stay reads)."""
        if now - session.last_seen_at >= dt.timedelta(minutes=1):
            await self.db.execute(
                "UPDATE web_sessions SET last_seen_at = ? WHERE id = ?", (utc_iso(now), session.id)
            )

    async def live(self, user_id: int, now: dt.datetime) -> list[WebSession]:
        rows = await self.db.fetchall(
            "SELECT * FROM web_sessions WHERE user_id = ? AND ended_at IS NULL"
            " AND expires_at > ? ORDER BY last_seen_at DESC",
            (user_id, utc_iso(now)),
        )
        return [WebSession.from_row(r) for r in rows]

    async def end(self, session_id: int, now: dt.datetime) -> None:
        await self.db.execute(
            "UPDATE web_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
            (utc_iso(now), session_id),
        )

    async def end_all(self, user_id: int, now: dt.datetime) -> int:
        """End every session of a person (sign-out everywhere, revocation)."""
        return await self.db.execute(
            "UPDATE web_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
            (utc_iso(now), user_id),
        )


class SignInAttempts(FailedAttempts):
    """Wrong, used or expired sign-in links per client address."""

    table = "web_attempts"
    key = "client"
