"""The database layer: migrations, transactions, backups."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from storage.db import Database, StorageError, backup_database
from storage.migrate import available_migrations, current_version, migrate, split_statements
from storage.updates import ProcessedUpdates
from storage.users import UserRepo


async def test_fresh_migration_creates_schema(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        applied = await migrate(db)
        assert [m.version for m in applied] == [m.version for m in available_migrations()]
        assert await current_version(db) == len(available_migrations())
        assert await db.fetchval("PRAGMA user_version") == len(available_migrations())
        tables = {
            r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"users", "communes", "processed_updates", "schema_migrations"} <= tables
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1


async def test_rerun_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    async with Database(path) as db:
        await migrate(db)
    async with Database(path) as db:
        assert await migrate(db) == []
        count = await db.fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(available_migrations())


async def test_database_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ntm.sqlite3"
    async with Database(path) as db:
        await migrate(db)
    assert path.exists()


def test_statement_splitter_keeps_semicolons_in_strings() -> None:
    sql = "-- comment\nCREATE TABLE t (a TEXT DEFAULT ';');\nINSERT INTO t VALUES ('x;y');\n"
    assert split_statements(sql) == [
        "CREATE TABLE t (a TEXT DEFAULT ';');",
        "INSERT INTO t VALUES ('x;y');",
    ]
    with pytest.raises(StorageError):
        split_statements("CREATE TABLE t (a")


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        users = UserRepo(db)
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await users.ensure("telegram", "1", chat_id="1")
                raise RuntimeError("boom")
        assert await users.get("telegram", "1") is None
        async with db.transaction():
            await users.ensure("telegram", "1", chat_id="1")
        assert await users.get("telegram", "1") is not None


async def test_concurrent_transactions_are_serialised(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        await db.execute("CREATE TABLE counter (n INTEGER)")
        await db.execute("INSERT INTO counter VALUES (0)")

        async def bump() -> None:
            async with db.transaction():
                n = await db.fetchval("SELECT n FROM counter")
                await asyncio.sleep(0)  # another task would interleave here without the lock
                await db.execute("UPDATE counter SET n = ?", (n + 1,))

        await asyncio.gather(*(bump() for _ in range(50)))
        assert await db.fetchval("SELECT n FROM counter") == 50


async def test_redelivered_update_is_claimed_once(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        updates = ProcessedUpdates(db)
        assert await updates.claim("telegram", "42")
        assert not await updates.claim("telegram", "42")
        assert await updates.claim("zalo_bot", "42")  # ids are per channel


def _writer(path: Path, stop: threading.Event, written: list[int]) -> None:
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    n = 0
    while not stop.is_set():
        with conn:
            conn.execute("INSERT INTO load (v) VALUES (?)", ("x" * 200,))
        n += 1
        written.append(n)
    conn.close()


async def test_backup_while_writing_is_consistent_and_restores(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    async with Database(source) as db:
        await migrate(db)
        await db.execute("CREATE TABLE load (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    stop = threading.Event()
    written: list[int] = []
    thread = threading.Thread(target=_writer, args=(source, stop, written))
    thread.start()
    try:
        while len(written) < 200:
            time.sleep(0.01)
        target = tmp_path / "backup" / "copy.sqlite3"
        pages = await backup_database(source, target)
        during = len(written)
    finally:
        stop.set()
        thread.join()
    assert pages > 0
    assert len(written) > during or during > 0
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = copy.execute("SELECT count(*), max(id) FROM load").fetchone()
    copy.close()
    assert rows[0] == rows[1]  # a prefix of the writes: no gaps, nothing half-written
    assert 200 <= rows[0] <= len(written)
    # The copy is a working database: migrations see it as current.
    async with Database(target) as restored:
        assert await migrate(restored) == []
    assert not (target.parent / "copy.sqlite3.partial").exists()


async def test_backup_of_missing_database_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="không tìm thấy"):
        await backup_database(tmp_path / "none.sqlite3", tmp_path / "b.sqlite3")
