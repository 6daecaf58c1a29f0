"""Keeping the database bounded: what is old enough to forget, forgotten.

- ``processed_updates``: the redelivery record and the replies of each update. Platforms
  redeliver within minutes or hours; after ``keep_updates`` an update (whose replies were sent
  or given up) is forgotten.
- ``shared_files``: links expire (their own TTL); expired ones are removed, and so are the
  stored bytes (``blobs``) nothing refers to any more: no link and no delivery still to send.
- ``media``: a photo sent but never attached to a report (the dialog was abandoned) is
  forgotten after ``keep_unattached``; its bytes with it (in ``blobs``, or the files beside a
  SQLite database), unless another row still refers to them. Nothing a report refers to is
  ever removed, and stored bytes younger than ``FRESH`` are left alone (a photo's bytes are
  written just before its row).
- ``dead_letters``: kept ``keep_dead_letters`` for the office to look at.
- ``invite_attempts``: counters whose window and cool-down are long over.

Reports, the audit log, jobs and their deliveries are the office's record and are never pruned.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.db import Store
from storage.media import DIGESTS_SQL, DiskMedia, media_store
from storage.timeutil import utc_iso

FRESH = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Pruned:
    updates: int
    shared_files: int
    blobs: int
    dead_letters: int
    invite_attempts: int
    media: int = 0
    media_files: int = 0

    @property
    def total(self) -> int:
        return (
            self.updates + self.shared_files + self.blobs + self.dead_letters + self.invite_attempts
            + self.media + self.media_files
        )  # fmt: skip


async def take_pruning_turn(db: Store, now: dt.datetime, every: dt.timedelta) -> bool:
    """Whether this instance prunes now: the one whose single statement moves the shared
    "last pruned" mark forward. Of several instances on one database, one prunes per
    ``every``; the others find the mark recent and skip."""
    taken = await db.write_returning(
        "INSERT INTO scheduler_state (name, value) VALUES ('last_prune', ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        " WHERE scheduler_state.value <= ? RETURNING name",
        (utc_iso(now), utc_iso(now - every)),
    )
    return bool(taken)


async def prune(
    db: Store,
    now: dt.datetime,
    *,
    keep_updates: dt.timedelta,
    keep_dead_letters: dt.timedelta,
    keep_unattached: dt.timedelta = dt.timedelta(days=3),
    fresh: dt.timedelta = FRESH,
) -> Pruned:
    """``now`` is the district's clock; stored bytes are dated by the machine's (``fresh``)."""
    moment = utc_iso(now)
    written_before = dt.datetime.now(dt.UTC) - fresh
    media = await db.execute(
        "DELETE FROM media WHERE created_at < ? AND NOT EXISTS"
        " (SELECT 1 FROM report_media l WHERE l.media_id = media.id) AND NOT EXISTS"
        " (SELECT 1 FROM task_media t WHERE t.media_id = media.id)",
        (utc_iso(now - keep_unattached),),
    )
    updates = await db.execute(
        "DELETE FROM processed_updates WHERE status != 'pending' AND created_at < ?",
        (utc_iso(now - keep_updates),),
    )
    files = await db.execute("DELETE FROM shared_files WHERE expires_at <= ?", (moment,))
    referred = db.dialect.contains("d.payload", "blobs.sha256")
    blobs = await db.execute(
        "DELETE FROM blobs WHERE NOT EXISTS"  # noqa: S608 - the dialect's own fragment
        " (SELECT 1 FROM shared_files f WHERE f.sha256 = blobs.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d"
        f" WHERE d.status = 'pending' AND {referred})"
        " AND NOT EXISTS (SELECT 1 FROM media m WHERE m.sha256 = blobs.sha256)"
        " AND NOT EXISTS (SELECT 1 FROM media t WHERE t.thumb_sha256 = blobs.sha256)"
        " AND (created_at IS NULL OR created_at < ?)",
        (utc_iso(written_before),),
    )
    media_files = await prune_media_files(db, written_before)
    letters = await db.execute(
        "DELETE FROM dead_letters WHERE created_at < ?", (utc_iso(now - keep_dead_letters),)
    )
    stale = utc_iso(now - dt.timedelta(days=1))
    attempts = await db.execute(
        "DELETE FROM invite_attempts WHERE coalesce(locked_until, first_failed, '') < ?"
        " AND coalesce(first_failed, '') < ?",
        (stale, stale),
    )
    return Pruned(updates, files, blobs, letters, attempts, media, media_files)


async def prune_media_files(db: Store, older_than: dt.datetime) -> int:
    """Files beside a SQLite database that no media row refers to (and older than a moment)."""
    store = media_store(db)
    if not isinstance(store, DiskMedia):
        return 0  # in ``blobs``: pruned with them
    kept = {r[0] for r in await db.fetchall(DIGESTS_SQL)}
    return await store.sweep(kept, older_than)
