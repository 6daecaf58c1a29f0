"""Numbered schema migrations (``storage/migrations/NNNN_name.sql``), applied in order, once.

Each file runs in its own transaction together with its row in ``schema_migrations``, so a
failed migration leaves the schema as it was. ``PRAGMA user_version`` mirrors the latest number.

A migration that rebuilds a table (SQLite cannot alter a CHECK constraint) starts with the line
``-- migrate: foreign_keys=off``: it then runs with foreign keys off, so dropping the old table
neither fails nor cascades into the tables that refer to it, and ``PRAGMA foreign_key_check``
must find nothing before it commits (SQLite's documented 12-step table rebuild).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from importlib import resources

from storage.db import StorageError, Store
from storage.dialect import SQLITE, Dialect

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
FOREIGN_KEYS_OFF = "-- migrate: foreign_keys=off"
MIGRATION_LOCK = "ntm:migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def rebuilds_tables(self) -> bool:
        """Runs with foreign keys off (``-- migrate: foreign_keys=off`` on its first line)."""
        return self.sql.lstrip().startswith(FOREIGN_KEYS_OFF)


def available_migrations(dialect: Dialect = SQLITE) -> list[Migration]:
    """Every migration shipped with the package for the engine (``migrations/`` for SQLite,
    ``migrations/postgresql/`` numbered alike), ordered by number (gaps are an error)."""
    found: list[Migration] = []
    folder = resources.files("storage").joinpath("migrations")
    if dialect.name != "sqlite":
        folder = folder.joinpath(dialect.name)
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise StorageError(f"migration numbers must be 1..N without gaps: {migration.name}")
    return found


async def current_version(db: Store) -> int:
    if db.dialect.name == "sqlite":
        exists = await db.fetchval(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        )
    else:
        exists = await db.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return 0
    return int(await db.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))


async def migrate(db: Store, *, up_to: int | None = None) -> list[Migration]:
    """Apply pending migrations (up to ``up_to``, all by default); returns those applied
    (empty when the schema is current)."""
    async with db.transaction():
        await db.serialize(MIGRATION_LOCK)  # instances starting together migrate one by one
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
    applied: list[Migration] = []
    for migration in available_migrations(db.dialect):
        if up_to is not None and migration.version > up_to:
            break
        if await db.fetchval(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        ):
            continue
        rebuild = migration.rebuilds_tables and db.dialect.name == "sqlite"
        if rebuild:
            await db.execute("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction
        try:
            done_here = await _apply(db, migration)
        finally:
            if rebuild:
                await db.execute("PRAGMA foreign_keys = ON")
        if done_here:
            log.info("applied migration %04d_%s", migration.version, migration.name)
            applied.append(migration)
    return applied


async def _apply(db: Store, migration: Migration) -> bool:
    """Apply one migration; ``False`` if another process applied it meanwhile."""
    async with db.transaction():
        await db.serialize(MIGRATION_LOCK)
        done = await db.fetchval(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        )
        if done:
            return False
        for statement in split_statements(migration.sql, db.dialect.name):
            await db.execute(statement)
        if migration.rebuilds_tables and db.dialect.name == "sqlite":
            broken = await db.fetchall("PRAGMA foreign_key_check")
            if broken:
                first = dict(broken[0])
                raise StorageError(
                    f"migration {migration.version:04d}_{migration.name} would leave "
                    f"{len(broken)} broken reference(s), e.g. {first}"
                )
        await db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, dt.datetime.now(dt.UTC).isoformat()),
        )
        if db.dialect.name == "sqlite":
            await db.execute(f"PRAGMA user_version = {migration.version}")
    return True


def split_statements(sql: str, dialect: str = "sqlite") -> list[str]:
    """Split a migration into statements: SQLite's by ``sqlite3.complete_statement`` (it knows
    quotes and trigger bodies), PostgreSQL's at a line ending in ``;`` outside a ``$$`` body."""
    import sqlite3

    def complete(text: str) -> bool:
        if dialect == "sqlite":
            return sqlite3.complete_statement(text)
        code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        return code.count("$$") % 2 == 0 and code.rstrip().endswith(";")

    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if not buffer and line.strip().startswith("--"):
            continue
        buffer += line
        if complete(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise StorageError(f"incomplete SQL statement in migration: {buffer.strip()[:60]}")
    return statements
