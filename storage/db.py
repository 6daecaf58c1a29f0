"""One SQLite connection per process, shared by every repository.

SQLite allows one writer at a time and a single connection has a single transaction, so the
manager serialises access with an :class:`asyncio.Lock`. A coroutine inside
:meth:`Database.transaction` holds the lock for the whole transaction; repository calls made
from the same task (or tasks it starts) run inside that transaction without locking again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
Row = sqlite3.Row

_UNAVAILABLE_MARKERS = (
    "database or disk is full",
    "readonly database",
    "disk i/o error",
    "unable to open database",
    "database is locked",
)


class StorageError(Exception):
    """Anything that went wrong in storage."""


class StorageUnavailable(StorageError):
    """The database cannot take writes right now (disk full, read-only, locked too long).

    Nothing committed is lost; the user is asked to try again later.
    """


def _translate(exc: sqlite3.Error) -> StorageError:
    text = str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _UNAVAILABLE_MARKERS):
        return StorageUnavailable(str(exc))
    return StorageError(str(exc))


class Database:
    """Connection manager: WAL, foreign keys, busy timeout, serialised transactions."""

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._in_tx: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"ntm_db_tx_{id(self)}", default=False
        )

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> Database:
        if self._conn is not None:
            return self
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(str(self.path), isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        self._conn = conn
        return self

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("database is not open")
        return self._conn

    # -- transactions -----------------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception. Nests by joining."""
        if self._in_tx.get():
            yield self
            return
        async with self._lock:
            token = self._in_tx.set(True)
            try:
                try:
                    await self.conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise _translate(exc) from exc
                try:
                    yield self
                except BaseException:
                    await self._rollback()
                    raise
                try:
                    await self.conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    await self._rollback()
                    raise _translate(exc) from exc
            finally:
                self._in_tx.reset(token)

    async def _rollback(self) -> None:
        try:
            await self.conn.execute("ROLLBACK")
        except sqlite3.Error:  # already rolled back by SQLite (e.g. disk full)
            log.debug("rollback after failed transaction was a no-op")

    @asynccontextmanager
    async def _access(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._in_tx.get():
            yield self.conn
            return
        async with self._lock:
            yield self.conn

    # -- statements --------------------------------------------------------------------------
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        rowcount, _ = await self._run(sql, params)
        return rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one ``INSERT``; returns the new row's id."""
        rowcount, lastrowid = await self._run(sql, params)
        if rowcount < 1 or lastrowid is None:
            raise StorageError("insert did not add a row")
        return lastrowid

    async def _run(self, sql: str, params: Params) -> tuple[int, int | None]:
        async with self._access() as conn:
            try:
                cursor = await conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
            result = (int(cursor.rowcount), cursor.lastrowid)
            await cursor.close()
        return result

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._access() as conn:
            try:
                await conn.executemany(sql, rows)
            except sqlite3.Error as exc:
                raise _translate(exc) from exc

    async def executescript(self, script: str) -> None:
        async with self._access() as conn:
            try:
                await conn.executescript(script)
            except sqlite3.Error as exc:
                raise _translate(exc) from exc

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._access() as conn:
            try:
                rows = await conn.execute_fetchall(sql, params)
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
        return list(rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


async def backup_database(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with SQLite's online backup API; returns the page count.

    Safe while another process writes: the copy is taken in one step inside one read
    transaction (WAL readers do not block writers), checked with ``integrity_check`` and moved
    into place atomically, so ``target`` is either the old file or a complete, consistent copy.
    """
    return await asyncio.to_thread(_backup_sync, Path(source), Path(target))


def _backup_sync(source: Path, target: Path) -> int:
    if not source.exists():
        raise StorageError(f"không tìm thấy cơ sở dữ liệu: {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(partial))
    try:
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst, pages=-1)
        pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        status = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if status != "ok":
            raise StorageError(f"bản sao không toàn vẹn: {status}")
        dst.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        dst.close()
        partial.unlink(missing_ok=True)
        raise _translate(exc) from exc
    finally:
        src.close()
    dst.close()
    partial.replace(target)
    return pages
