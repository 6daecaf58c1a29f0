"""Moving a district to PostgreSQL: every table of an existing SQLite database copied into an
empty (migrated) PostgreSQL database, in one transaction, with a count check; the identity
sequences continue after the copied ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import Database, StorageError
from storage.media import DIGESTS_SQL, media_folder, media_store
from storage.pg import PgDatabase

# Parents before children (foreign keys); every table the migrations create.
TABLES = (
    "communes", "users", "dialogs", "menus", "processed_updates", "inbox", "invites",
    "reports", "audit_log", "subscriptions", "jobs", "deliveries", "blobs", "scheduler_state",
    "oauth_tokens", "shared_files", "invite_attempts", "dead_letters", "task_progress",
    "web_links", "web_sessions", "web_attempts", "leases", "throttle", "media", "report_media",
    "task_media",
)  # fmt: skip
# Kept by triggers on the target as the tables above are copied, then checked against them.
DERIVED = ("reports_current",)
BATCH = 2000


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


async def copy_sqlite_to_postgresql(source: Database, target: PgDatabase) -> list[Copied]:
    """Copy every table; refuses a target that already holds data."""
    names = {
        r[0] for r in await source.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
    }
    missing = names - set(TABLES) - set(DERIVED) - {"schema_migrations", "sqlite_sequence"}
    if missing:
        raise StorageError(f"tables this copy does not know: {sorted(missing)}")
    for table in TABLES:
        if await target.fetchval(f"SELECT count(*) FROM {table}"):  # noqa: S608 - known names
            raise StorageError(f"the target database is not empty ({table} has rows)")
    copied: list[Copied] = []
    async with target.transaction():
        for table in TABLES:
            if table not in names:
                continue
            columns = await _columns(target, table)
            listed = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            order = await _key_columns(source, table)
            offset, count = 0, 0
            while True:
                rows = await source.fetchall(
                    f"SELECT {listed} FROM {table} ORDER BY {order} LIMIT ? OFFSET ?",  # noqa: S608
                    (BATCH, offset),
                )
                if not rows:
                    break
                await target.executemany(
                    f"INSERT INTO {table} ({listed}) VALUES ({marks})",  # noqa: S608
                    [tuple(_value(v) for v in row) for row in rows],
                )
                offset += len(rows)
                count += len(rows)
            there = await target.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            if there != count:
                raise StorageError(f"{table}: {count} rows read but {there} written")
            if "id" in columns:
                await target.fetchval(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
            copied.append(Copied(table, count))
        for table in DERIVED:
            there = await target.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            here = await source.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
            if there != here:
                raise StorageError(f"{table}: {here} rows here but {there} rebuilt there")
        if "media" in names:
            copied.append(Copied("media files", await _copy_media(source, target)))
    return copied


async def _copy_media(source: Database, target: PgDatabase) -> int:
    """The photos' bytes: from the files beside the SQLite database into the shared table."""
    files, shared = media_store(source), media_store(target)
    rows = await source.fetchall(DIGESTS_SQL + " ORDER BY 1")
    for row in rows:
        data = await files.get(row[0])
        if data is None:
            raise StorageError(f"media file {row[0]} is missing from {media_folder(source.path)}")
        if await shared.put(data) != row[0]:
            raise StorageError(f"media file {row[0]} does not match its name (damaged)")
    return len(rows)


async def _key_columns(source: Database, table: str) -> str:
    """The primary key's columns (a stable order to read in batches)."""
    info = await source.fetchall(f"PRAGMA table_info({table})")
    keys = sorted((int(r["pk"]), str(r["name"])) for r in info if int(r["pk"]))
    return ", ".join(name for _, name in keys) or "rowid"


async def _columns(target: PgDatabase, table: str) -> list[str]:
    rows = await target.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " ORDER BY ordinal_position",
        (table,),
    )
    return [str(r[0]) for r in rows]


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value
