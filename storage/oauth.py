"""OAuth token pairs kept across restarts (migration 0006).

Zalo OA refresh tokens are single-use: the pair a refresh returns must be stored before the
new access token is used, or a crash would leave the bot with a spent refresh token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from storage.db import Store
from storage.timeutil import parse_iso, utc_iso


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None


def seed_of(access_token: str, refresh_token: str | None) -> str:
    """Identifies the pair given in the settings without storing it twice."""
    return hashlib.sha256(f"{access_token}\n{refresh_token or ''}".encode()).hexdigest()


class TokenRepo:
    def __init__(self, db: Store, provider: str) -> None:
        self.db = db
        self.provider = provider

    async def current(self, seed: TokenPair, now: dt.datetime) -> TokenPair:
        """The stored pair; the settings' pair when nothing is stored or it was changed there."""
        marker = seed_of(seed.access_token, seed.refresh_token)
        row = await self.db.fetchone(
            "SELECT * FROM oauth_tokens WHERE provider = ?", (self.provider,)
        )
        if row is not None and row["seed"] == marker:
            expires = row["expires_at"]
            return TokenPair(
                row["access_token"], row["refresh_token"], parse_iso(expires) if expires else None
            )
        await self.db.execute(
            "INSERT INTO oauth_tokens (provider, access_token, refresh_token, expires_at, seed,"
            " updated_at) VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (provider) DO UPDATE SET"
            " access_token = excluded.access_token, refresh_token = excluded.refresh_token,"
            " expires_at = NULL, seed = excluded.seed, updated_at = excluded.updated_at",
            (self.provider, seed.access_token, seed.refresh_token, marker, utc_iso(now)),
        )
        return seed

    async def replace(self, pair: TokenPair, now: dt.datetime) -> None:
        """Store a refreshed pair (one statement: either the old pair or the new one)."""
        await self.db.execute(
            "UPDATE oauth_tokens SET access_token = ?, refresh_token = ?, expires_at = ?,"
            " updated_at = ? WHERE provider = ?",
            (
                pair.access_token,
                pair.refresh_token,
                utc_iso(pair.expires_at) if pair.expires_at else None,
                utc_iso(now),
                self.provider,
            ),
        )
