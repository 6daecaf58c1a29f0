"""Per-user flood control, the same on every channel.

A token bucket per user: ``burst`` messages at once, then one per ``interval`` seconds. A
message over the limit is dropped; the user gets a polite notice at most once per
``notice_every`` seconds, and the log gets one line per burst (when it ends), not one per
dropped message. It also slows down anyone guessing invite codes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable
from dataclasses import dataclass

from storage.db import StorageError, Store
from storage.throttle import SharedBuckets

log = logging.getLogger(__name__)
FORGET_AFTER = 60.0  # seconds a full bucket is kept once the map grows large


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: float = float("-inf")
    dropped: int = 0
    first_dropped: float = 0.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    notify: bool  # dropped, and the user has not been told recently


class Throttle:
    def __init__(
        self,
        interval: float,
        *,
        burst: int = 5,
        notice_every: float = 10.0,
        channel: str = "",
        shared: SharedBuckets | None = None,
    ) -> None:
        self.interval = interval
        self.burst = burst
        self.notice_every = notice_every
        self.channel = channel
        # Several instances on one database: the buckets live there, so the limit holds
        # whichever instance a person's messages reach.
        self.shared = shared
        self._buckets: dict[Hashable, _Bucket] = {}

    async def check(self, user: Hashable) -> Verdict:
        """:meth:`allow`, against the shared buckets when there are several instances."""
        if self.shared is None or self.interval <= 0:
            return self.allow(user)
        key = f"{self.channel}:{user}"
        try:
            allowed = await self.shared.take(
                key, time.time(), interval=self.interval, burst=self.burst
            )
        except StorageError:  # the database is away: this instance's own bucket meanwhile
            return self.allow(user)
        if allowed:
            return Verdict(True, False)
        now = time.monotonic()
        bucket = self._buckets.setdefault(user, _Bucket(0.0, now))
        notify = now - bucket.warned >= self.notice_every
        if notify:
            bucket.warned = now
        return Verdict(False, notify)

    def allow(self, user: Hashable, now: float | None = None) -> Verdict:
        if self.interval <= 0:
            return Verdict(True, False)
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(user)
        if bucket is None:
            if len(self._buckets) > 50_000:
                self._forget_idle(now)
            bucket = self._buckets[user] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) / self.interval)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.dropped:
                self._summarise(user, bucket, now)
            return Verdict(True, False)
        if not bucket.dropped:
            bucket.first_dropped = now
        bucket.dropped += 1
        notify = now - bucket.warned >= self.notice_every
        if notify:
            bucket.warned = now
        return Verdict(False, notify)

    def _summarise(self, user: Hashable, bucket: _Bucket, now: float) -> None:
        log.info(
            "%sflood control: dropped %d messages from user %s over %.1f s",
            f"{self.channel}: " if self.channel else "",
            bucket.dropped,
            user,
            now - bucket.first_dropped,
        )
        bucket.dropped = 0

    def _forget_idle(self, now: float) -> None:
        for user, bucket in list(self._buckets.items()):
            if now - bucket.updated >= FORGET_AFTER:
                if bucket.dropped:
                    self._summarise(user, bucket, now)
                del self._buckets[user]


def shared_buckets(db: Store) -> SharedBuckets | None:
    """The shared buckets when instances may share the database (PostgreSQL); one process on
    SQLite keeps its buckets in memory (no write per message)."""
    return SharedBuckets(db) if db.dialect.shared else None
