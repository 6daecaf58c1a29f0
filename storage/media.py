"""Photos and documents kept as evidence: their bytes once per content (a media store) and a
``media`` row per sender saying what they are; ``report_media`` links them to reports.

Where the bytes live:

- **SQLite**: files beside the database (``<name>-media/ab/abcdef…``), written to a temporary
  name and renamed, so a crash leaves no half file; the database stays small and quick to back
  up, and ``db backup`` copies the folder with it.
- **PostgreSQL**: the ``blobs`` table, which every instance shares; nothing else to run,
  back up or give permissions to (an S3-compatible store would be one more service for a
  district office to keep). A district's evidence is a few gigabytes, well within it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from storage.db import Database, Row, Store
from storage.files import FileStore
from storage.photo_check import Checked
from storage.timeutil import utc_iso

log = logging.getLogger(__name__)


class MediaStore(Protocol):
    async def put(self, data: bytes) -> str:
        """Keep ``data`` once; its SHA-256, which names it."""
        ...

    async def get(self, digest: str) -> bytes | None: ...


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DiskMedia:
    """Files named by their SHA-256 under ``root`` (two-letter folders)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / digest[:2] / digest

    async def put(self, data: bytes) -> str:
        digest = _digest(data)
        await asyncio.to_thread(self._write, digest, data)
        return digest

    def _write(self, digest: str, data: bytes) -> None:
        target = self.path(digest)
        if target.exists():
            try:  # written again: young again, so the retention job leaves it to its new row
                os.utime(target)
                return
            except FileNotFoundError:
                pass  # pruned this very moment: write it anew
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, digest: str) -> bytes | None:
        try:
            return await asyncio.to_thread(self.path(digest).read_bytes)
        except (FileNotFoundError, ValueError):
            return None

    async def sweep(self, kept: set[str], older_than: dt.datetime) -> int:
        """Remove the files not in ``kept`` written before ``older_than``; how many."""
        limit = older_than.timestamp()

        def remove() -> int:
            removed = 0
            for path in self.root.glob("??/*") if self.root.is_dir() else ():
                try:  # a file may be renamed or written again while the folder is walked
                    if path.name in kept or path.stat().st_mtime >= limit:
                        continue
                    path.unlink()
                except FileNotFoundError:
                    continue
                removed += 1
            return removed

        return await asyncio.to_thread(remove)


class DatabaseMedia:
    """The ``blobs`` table (shared by every instance on PostgreSQL), through the file store
    the send-outs use."""

    def __init__(self, db: Store) -> None:
        self.db = db
        self.files = FileStore(db)

    async def put(self, data: bytes) -> str:
        return await self.files.put(data)

    async def get(self, digest: str) -> bytes | None:
        return await self.files.get(digest)


# Every stored file a media row needs: the photo and its thumbnail.
DIGESTS_SQL = (
    "SELECT sha256 FROM media UNION SELECT thumb_sha256 FROM media WHERE thumb_sha256 IS NOT NULL"
)


def media_folder(db_path: Path) -> Path:
    """Where a SQLite database's media files live: ``data/ntm.db`` → ``data/ntm-media``."""
    return db_path.with_name(db_path.stem + "-media")


def media_store(db: Store) -> MediaStore:
    """Files beside a SQLite database on disk; the database itself otherwise (PostgreSQL, and
    an in-memory SQLite database, which has nowhere on disk)."""
    if isinstance(db, Database) and str(db.path) != ":memory:":
        return DiskMedia(media_folder(db.path))
    return DatabaseMedia(db)


@dataclass(frozen=True)
class Media:
    id: int
    sha256: str
    thumb_sha256: str | None
    mime: str
    size: int
    width: int | None
    height: int | None
    taken_at: dt.datetime | None
    latitude: float | None
    longitude: float | None
    filename: str
    user_id: int
    created_at: str

    @property
    def is_picture(self) -> bool:
        return self.mime.startswith("image/")

    @classmethod
    def of(cls, row: Row) -> Media:
        taken = row["taken_at"]
        return cls(
            id=int(row["id"]),
            sha256=row["sha256"],
            thumb_sha256=row["thumb_sha256"],
            mime=row["mime"],
            size=int(row["size"]),
            width=row["width"],
            height=row["height"],
            taken_at=dt.datetime.fromisoformat(taken) if taken else None,
            latitude=row["latitude"],
            longitude=row["longitude"],
            filename=row["filename"],
            user_id=int(row["user_id"]),
            created_at=row["created_at"],
        )


@dataclass(frozen=True)
class Linked:
    """A photo in a report: which field, in which order."""

    report_id: int
    field: str
    position: int
    media: Media


@dataclass(frozen=True)
class Evidence:
    """A photo as evidence: in a standing report's field (``report_id``, with what the report
    is about), or with a task mark (``mark_id``, ``task_id``)."""

    media: Media
    commune_id: int
    submitted_by: int
    submitted_at: str
    position: int
    report_id: int | None = None
    field: str = ""
    form_id: str = ""
    subject: str = ""
    mark_id: int | None = None
    task_id: str = ""


class MediaRepo:
    def __init__(self, db: Store, store: MediaStore | None = None) -> None:
        self.db = db
        self.store = store if store is not None else media_store(db)

    async def add(
        self, checked: Checked, *, user_id: int, filename: str, now: dt.datetime
    ) -> Media:
        """Keep a checked file sent by ``user_id``; the same file sent again is the same row.
        The bytes are written first: a crash in between leaves an orphan, never a row
        without its file."""
        digest = await self.store.put(checked.data)
        thumb = await self.store.put(checked.thumbnail) if checked.thumbnail else None
        await self.db.execute(
            "INSERT INTO media (sha256, thumb_sha256, mime, size, width, height, taken_at,"
            " latitude, longitude, filename, user_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, sha256)"
            " DO UPDATE SET created_at = excluded.created_at",  # sent again: young again
            (
                digest,
                thumb,
                checked.mime,
                len(checked.data),
                checked.width,
                checked.height,
                checked.taken_at.isoformat() if checked.taken_at else None,
                checked.latitude,
                checked.longitude,
                filename[:200],
                user_id,
                utc_iso(now),
            ),
        )
        row = await self.db.fetchone(
            "SELECT * FROM media WHERE user_id = ? AND sha256 = ?", (user_id, digest)
        )
        assert row is not None
        return Media.of(row)

    async def get(self, media_id: int) -> Media | None:
        row = await self.db.fetchone("SELECT * FROM media WHERE id = ?", (media_id,))
        return None if row is None else Media.of(row)

    async def many(self, ids: Iterable[int]) -> dict[int, Media]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ", ".join("?" for _ in wanted)
        rows = await self.db.fetchall(
            f"SELECT * FROM media WHERE id IN ({marks})",  # noqa: S608 (placeholders only)
            wanted,
        )
        return {int(r["id"]): Media.of(r) for r in rows}

    async def waiting(self, user_id: int, now: dt.datetime) -> int:
        """Photos ``user_id`` sent in the last three days that no report or mark took."""
        return int(
            await self.db.fetchval(
                "SELECT count(*) FROM media m WHERE m.user_id = ? AND m.created_at > ?"
                " AND NOT EXISTS (SELECT 1 FROM report_media l WHERE l.media_id = m.id)"
                " AND NOT EXISTS (SELECT 1 FROM task_media t WHERE t.media_id = m.id)",
                (user_id, utc_iso(now - dt.timedelta(days=3))),
            )
        )

    async def still_kept(
        self, media_ids: Sequence[int], user_id: int, commune_id: int | None = None
    ) -> list[int]:
        """Those of ``media_ids`` that are still kept and were sent by ``user_id`` — or are
        already in a report of ``commune_id`` (a correction keeps its predecessor's) — in
        order: a photo held in a dialog for days may have been forgotten meanwhile."""
        wanted = sorted(set(media_ids))
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = await self.db.fetchall(
            f"SELECT id FROM media WHERE id IN ({marks}) AND (user_id = ? OR EXISTS"  # noqa: S608
            " (SELECT 1 FROM report_media l JOIN reports r ON r.id = l.report_id"
            " WHERE l.media_id = media.id AND r.commune_id = ?))",
            [*wanted, user_id, commune_id if commune_id is not None else -1],
        )
        found = {int(r["id"]) for r in rows}
        return [i for i in media_ids if i in found]

    async def link(self, report_id: int, field: str, media_ids: Sequence[int]) -> None:
        """Attach photos to a report (in the report's transaction)."""
        await self.db.executemany(
            "INSERT INTO report_media (report_id, field, position, media_id) VALUES (?, ?, ?, ?)",
            [(report_id, field, position, media_id) for position, media_id in enumerate(media_ids)],
        )

    async def of_reports(self, report_ids: Iterable[int]) -> list[Linked]:
        wanted = sorted(set(report_ids))
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        sql = (
            "SELECT l.report_id, l.field, l.position, m.* FROM report_media l"  # noqa: S608
            f" JOIN media m ON m.id = l.media_id WHERE l.report_id IN ({marks})"
            " ORDER BY l.report_id, l.field, l.position"
        )
        rows = await self.db.fetchall(sql, wanted)
        return [
            Linked(int(r["report_id"]), r["field"], int(r["position"]), Media.of(r)) for r in rows
        ]

    async def evidence(self, commune_ids: Iterable[int] | None = None) -> list[Evidence]:
        """Photos in the reports that stand (no correction replaced them), of these communes
        (every commune: ``None``), oldest report first."""
        where, params = "", []
        if commune_ids is not None:
            wanted = sorted(set(commune_ids))
            if not wanted:
                return []
            where = f" AND r.commune_id IN ({', '.join('?' for _ in wanted)})"
            params = wanted
        sql = (
            "SELECT r.commune_id, r.form_id, r.subject, r.submitted_at, r.submitted_by,"  # noqa: S608
            " l.report_id, l.field, l.position, m.* FROM report_media l"
            " JOIN reports r ON r.id = l.report_id JOIN media m ON m.id = l.media_id"
            " WHERE NOT EXISTS (SELECT 1 FROM reports n WHERE n.supersedes = r.id)"
            f"{where} ORDER BY r.commune_id, l.report_id, l.field, l.position"
        )
        rows = await self.db.fetchall(sql, params)
        found = [
            Evidence(
                Media.of(r),
                int(r["commune_id"]),
                int(r["submitted_by"]),
                r["submitted_at"],
                int(r["position"]),
                report_id=int(r["report_id"]),
                field=r["field"],
                form_id=r["form_id"],
                subject=r["subject"],
            )
            for r in rows
        ]
        where = where.replace("r.commune_id", "p.commune_id")
        sql = (
            "SELECT p.commune_id, p.task_id, p.by_user, p.at, l.mark_id, l.position, m.*"  # noqa: S608
            " FROM task_media l JOIN task_progress p ON p.id = l.mark_id"
            " JOIN media m ON m.id = l.media_id WHERE p.commune_id IS NOT NULL"
            f"{where} ORDER BY p.commune_id, l.mark_id, l.position"
        )
        for r in await self.db.fetchall(sql, params):
            found.append(
                Evidence(
                    Media.of(r),
                    int(r["commune_id"]),
                    int(r["by_user"]),
                    r["at"],
                    int(r["position"]),
                    mark_id=int(r["mark_id"]),
                    task_id=r["task_id"],
                )
            )
        return found

    async def link_mark(self, mark_id: int, media_ids: Sequence[int]) -> None:
        """Attach photos to a task mark (in the mark's transaction)."""
        await self.db.executemany(
            "INSERT INTO task_media (mark_id, position, media_id) VALUES (?, ?, ?)",
            [(mark_id, position, media_id) for position, media_id in enumerate(media_ids)],
        )

    async def of_mark(self, mark_id: int) -> list[Media]:
        rows = await self.db.fetchall(
            "SELECT m.* FROM task_media l JOIN media m ON m.id = l.media_id"
            " WHERE l.mark_id = ? ORDER BY l.position",
            (mark_id,),
        )
        return [Media.of(r) for r in rows]

    async def communes_of(self, media_id: int) -> set[int]:
        """The communes whose reports or task marks hold this photo (who may see it)."""
        rows = await self.db.fetchall(
            "SELECT r.commune_id FROM report_media l JOIN reports r ON r.id = l.report_id"
            " WHERE l.media_id = ? UNION SELECT p.commune_id FROM task_media t"
            " JOIN task_progress p ON p.id = t.mark_id"
            " WHERE t.media_id = ? AND p.commune_id IS NOT NULL",
            (media_id, media_id),
        )
        return {int(r["commune_id"]) for r in rows}

    async def content(self, media: Media, *, thumbnail: bool = False) -> bytes | None:
        digest = media.thumb_sha256 if thumbnail else media.sha256
        return await self.store.get(digest) if digest else None


def backup_media(source_db: Path, backup_db: Path) -> int:
    """Copy the media files a SQLite backup refers to into the folder beside it
    (``backup.sqlite3`` → ``backup-media/``); files already there are kept (they never change:
    their name is their content's hash). Returns how many files the backup refers to."""
    import shutil
    import sqlite3

    connection = sqlite3.connect(f"file:{backup_db}?mode=ro", uri=True)
    try:
        has_media = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='media'"
        ).fetchone()[0]
        rows = connection.execute(DIGESTS_SQL).fetchall() if has_media else []
    finally:
        connection.close()
    source, target = DiskMedia(media_folder(source_db)), DiskMedia(media_folder(backup_db))
    copied = 0
    for (digest,) in rows:
        there = target.path(digest)
        if there.exists():
            copied += 1
            continue
        there.parent.mkdir(parents=True, exist_ok=True)
        partial = there.with_name(".part-" + digest)
        try:
            shutil.copyfile(source.path(digest), partial)
        except FileNotFoundError:
            log.warning("media file %s is missing; the backup goes on without it", digest)
            continue
        partial.replace(there)
        copied += 1
    return copied
