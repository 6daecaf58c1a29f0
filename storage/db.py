"""One SQLite connection per process, shared by every repository.

SQLite allows one writer at a time and a single connection has a single transaction, so the
manager serialises access with an :class:`asyncio.Lock`.

:meth:`Database.transaction` is lazy: it takes the lock at its first statement and sends
``BEGIN IMMEDIATE`` at its first write, then keeps both until it ends. A unit of work that only
reads caches costs no database round trip at all, and :meth:`Database.finish` lets a unit of
work whose single write is its last statement run it without ``BEGIN``/``COMMIT``. Every
round trip goes through aiosqlite's worker thread and lets other tasks run, so fewer of them
inside the lock means shorter waits for everyone.

Repository calls made from the task inside a transaction (or tasks it starts) join it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

from storage.dialect import SQLITE, Dialect

log = logging.getLogger(__name__)

T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]
Row = Any  # sqlite3.Row or asyncpg's Record: both read by name (row["id"]) and by position

_UNAVAILABLE_MARKERS = (
    "database or disk is full",
    "readonly database",
    "disk i/o error",
    "unable to open database",
    "database is locked",
)


class StorageError(Exception):
    """Anything that went wrong in storage."""


class DuplicateKey(StorageError):
    """A row with this unique key exists already."""


class StorageUnavailable(StorageError):
    """The database cannot take writes right now (disk full, read-only, locked too long).

    Nothing committed is lost; the user is asked to try again later.
    """


def background(job: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Start ``job`` as a task outside any transaction of the caller (a fresh context)."""
    return asyncio.get_running_loop().create_task(job, context=contextvars.Context())


class SoonFlush:
    """Runs ``flush`` once, ``delay`` seconds after it was first asked for since the last run:
    how the repositories that batch small writes (menus, sent marks, the inbox) write them.

    A flush that fails (a locked or full disk) keeps its rows (each ``flush`` puts back what it
    could not write) and is tried again with backoff until it succeeds: nothing is lost and no
    task dies with an exception nobody retrieves.
    """

    MAX_BACKOFF = 30.0

    def __init__(self, flush: Callable[[], Awaitable[None]], delay: float) -> None:
        self._flush = flush
        self.delay = delay
        self._task: asyncio.Task[None] | None = None
        self.failures = 0

    def request(self) -> None:
        if self._task is None or self._task.done():
            self._task = background(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(self.delay)
        wait = max(self.delay, 0.05)
        while True:
            try:
                await self._flush()
            except Exception as exc:  # a storage fault, or a bug: either way, keep the rows
                self.failures += 1
                wait = min(wait * 2, self.MAX_BACKOFF)
                log.warning(
                    "a batched write failed (%s: %s); trying again in %.1f s",
                    type(exc).__name__,
                    exc,
                    wait,
                )
                await asyncio.sleep(wait)
                continue
            if self.failures:
                log.info("the batched write went through after %d failure(s)", self.failures)
                self.failures = 0
            return


def _translate(exc: sqlite3.Error) -> StorageError:
    text = str(exc).lower()
    if isinstance(exc, sqlite3.IntegrityError) and "unique constraint failed" in text:
        return DuplicateKey(str(exc))
    if isinstance(exc, sqlite3.OperationalError) and any(m in text for m in _UNAVAILABLE_MARKERS):
        return StorageUnavailable(str(exc))
    return StorageError(str(exc))


@dataclass
class _TxState:
    active: bool = True
    locked: bool = False
    begun: bool = False
    finishing: bool = False
    # writes whose result nobody reads, sent with the unit's next trip (see Database.later)
    pending: list[tuple[str, Any]] = field(default_factory=list)
    rollback_hooks: list[Callable[[], None]] = field(default_factory=list)


class Store(Protocol):
    """What the repositories need of a database: :class:`Database` (SQLite, the default) and
    :class:`storage.pg.PgDatabase` (PostgreSQL) both provide it."""

    dialect: Dialect

    @property
    def in_transaction(self) -> bool: ...

    @property
    def untouched(self) -> bool: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...

    def on_rollback(self, hook: Callable[[], None]) -> None: ...

    async def open(self) -> Any: ...

    async def close(self) -> None: ...

    async def execute(self, sql: str, params: Params = ()) -> int: ...

    async def later(self, sql: str, params: Params = ()) -> None:
        """A write whose result nobody reads: in a unit of work it may wait for the unit's
        next statement (or its end) and go with it; it still commits or rolls back with it."""

    async def insert(self, sql: str, params: Params = ()) -> int: ...

    async def finish(self, sql: str, params: Params = ()) -> int: ...

    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any: ...

    async def serialize(self, key: str) -> None:
        """Inside a unit of work: no other unit of work with the same key runs until this one
        ends, in any process sharing the database (one chat's updates, in order)."""


class Database:
    """Connection manager: WAL, foreign keys, busy timeout, serialised transactions.

    aiosqlite runs the connection's statements one at a time, in the order they were queued.
    A statement that stands alone (outside a transaction) is queued directly when no
    transaction is open — checking that and queueing it happen without yielding to the event
    loop, so no ``BEGIN`` can come between — and waits for the lock only while one is open.
    Transactions hold the lock from their first statement to their end.
    """

    dialect = SQLITE

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path) if str(path) != ":memory:" else Path(":memory:")
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._tx: contextvars.ContextVar[_TxState | None] = contextvars.ContextVar(
            f"ntm_db_tx_{id(self)}", default=None
        )

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> Database:
        if self._conn is not None:
            return self
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = await self._connect()
        return self

    async def _connect(self) -> aiosqlite.Connection:
        try:
            conn = await aiosqlite.connect(str(self.path), isolation_level=None)
            conn.row_factory = sqlite3.Row
            await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        return conn

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
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
        """A unit of work, committed at the end and rolled back on any exception.

        The lock is taken at the first statement, ``BEGIN IMMEDIATE`` is sent before the
        first write. Nested calls join the outer transaction.
        """
        if self._state() is not None:
            yield self
            return
        state = _TxState()
        token = self._tx.set(state)
        try:
            try:
                yield self
            except BaseException:
                await self._rollback(state)
                raise
            if state.begun or state.pending:
                try:
                    if state.pending:  # the writes left for the end go with the COMMIT
                        await self._statement("none", "", (), write=True, commit=True)
                    else:
                        await self._trip("run", "COMMIT", ())
                    while state.pending:  # left for later while the COMMIT was on its way
                        state.begun = False
                        await self._statement("none", "", (), write=True, commit=True)
                except StorageError:
                    await self._rollback(state)
                    raise
            state.rollback_hooks.clear()
        finally:
            # Tasks started inside the transaction copied this context; marking the state
            # inactive keeps them from acting as if they were still inside it.
            state.active = False
            self._tx.reset(token)
            if state.locked:
                self._lock.release()

    def _state(self) -> _TxState | None:
        state = self._tx.get()
        return state if state is not None and state.active else None

    @property
    def in_transaction(self) -> bool:
        return self._state() is not None

    @property
    def untouched(self) -> bool:
        """Inside a transaction that has not used the database yet (it changed nothing)."""
        state = self._state()
        return state is not None and not state.locked and not state.begun and not state.pending

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` if the current transaction rolls back (caches forget what it wrote)."""
        state = self._state()
        if state is not None:
            state.rollback_hooks.append(hook)

    async def _rollback(self, state: _TxState) -> None:
        state.pending.clear()  # never sent
        hooks, state.rollback_hooks = state.rollback_hooks, []
        for hook in reversed(hooks):
            hook()
        if not state.begun:
            return
        state.begun = False
        try:
            await self._trip("run", "ROLLBACK", ())
        except StorageError:  # already rolled back by SQLite (e.g. disk full)
            log.debug("rollback after failed transaction was a no-op")

    async def _statement(
        self, kind: str, sql: str, params: Any, *, write: bool, commit: bool = False
    ) -> Any:
        """Run one statement in the current unit of work (or on its own outside one).

        A transaction's ``BEGIN IMMEDIATE`` goes with its first write, and the ``COMMIT``
        of :meth:`finish` with its last, in the same trip to the database thread: each trip
        is a turn of the event loop with the lock held, and under load a turn is several
        other people's work (bench/reports.py).
        """
        state = self._state()
        if state is None or (state.finishing and not state.locked):  # on its own: autocommit
            if self._lock.locked():  # a transaction is open: do not land inside it
                async with self._lock:
                    return await self._trip(kind, sql, params)
            # queued before this task yields: before any later BEGIN
            return await self._trip(kind, sql, params)
        if not state.locked:
            await self._lock.acquire()
            state.locked = True
        begin = (write or bool(state.pending)) and not state.begun and not state.finishing
        if begin:
            state.begun = True  # set first: if the statement fails, the rollback undoes BEGIN
        pending, state.pending = state.pending, []
        return await self._trip(kind, sql, params, begin=begin, commit=commit, before=pending)

    async def _trip(
        self,
        kind: str,
        sql: str,
        params: Any,
        *,
        begin: bool = False,
        commit: bool = False,
        before: list[tuple[str, Any]] | None = None,
    ) -> Any:
        conn = self.conn
        try:
            # aiosqlite's own way to run a function on the connection's thread (its execute
            # and execute_fetchall are built on it; the pinned versions all have it).
            return await conn._execute(  # type: ignore[no-untyped-call]
                _in_thread, conn, kind, sql, params, begin, commit, before or ()
            )
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        except _DeferredFailed as failed:
            # a write left for later failed: its own error, never taken for the statement's
            # (a duplicate key there would read as "this update was handled before")
            error = _translate(failed.cause)
            if type(error) is DuplicateKey:
                error = StorageError(f"a deferred write failed: {failed.cause}")
            raise error from failed.cause

    async def finish(self, sql: str, params: Params = ()) -> int:
        """Run the last statement of the current transaction and commit; returns its row id.

        If nothing was written before it, it runs on its own (autocommit: one statement is
        atomic); otherwise ``COMMIT`` follows it in the same trip. Either way nothing may be
        written in the transaction after it.
        """
        state = self._state()
        if state is None:
            return await self.insert(sql, params)
        if state.begun or state.pending:
            rowcount, lastrowid = await self._statement("run", sql, params, write=True, commit=True)
            state.begun = False  # committed
            return _inserted(rowcount, lastrowid)
        state.finishing = True
        try:
            return await self.insert(sql, params)
        finally:
            state.finishing = False

    # -- statements --------------------------------------------------------------------------
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        rowcount, _ = await self._statement("run", sql, params, write=True)
        return int(rowcount)

    async def later(self, sql: str, params: Params = ()) -> None:
        """A write whose result nobody reads. In a unit of work it goes to the database with
        the unit's next statement, or its ``COMMIT``, in the same trip to SQLite's thread (a
        step's dialog and audit rows cost no trips of their own); reads in the unit still see
        it, as it always runs before them. Outside one it runs now. A failure surfaces at that
        next statement and rolls the unit back like any other."""
        state = self._state()
        if state is None or state.finishing:
            await self.execute(sql, params)
            return
        state.pending.append((sql, params))

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one ``INSERT``; returns the new row's id."""
        rowcount, lastrowid = await self._statement("run", sql, params, write=True)
        return _inserted(rowcount, lastrowid)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._statement("many", sql, list(rows), write=True)

    async def executescript(self, script: str) -> None:
        await self._statement("script", script, (), write=True)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await self._statement("rows", sql, params, write=False)
        return rows

    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one writing statement with ``RETURNING`` and return its rows (on its own it
        is atomic: one statement, one write lock)."""
        rows: list[Row] = await self._statement("rows", sql, params, write=True)
        return rows

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def serialize(self, key: str) -> None:
        """SQLite has one writer at a time: inside a unit of work, take the write lock now
        (``BEGIN IMMEDIATE``), so what it reads next no other process changes before it ends."""
        state = self._state()
        if state is None:
            raise StorageError("serialize() belongs inside a unit of work")
        if not state.begun:
            await self._statement("rows", "SELECT 1", (), write=True)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class _DeferredFailed(Exception):
    """A write left for later (:meth:`Database.later`) failed in the trip it went with."""

    def __init__(self, cause: sqlite3.Error) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _inserted(rowcount: int, lastrowid: int | None) -> int:
    if rowcount < 1 or lastrowid is None:
        raise StorageError("insert did not add a row")
    return lastrowid


def _in_thread(
    conn: aiosqlite.Connection,
    kind: str,
    sql: str,
    params: Any,
    begin: bool,
    commit: bool,
    before: Iterable[tuple[str, Any]],
) -> Any:
    """One trip's work on the connection's own thread: ``BEGIN IMMEDIATE`` first if asked,
    the writes deferred to this trip, the statement, ``COMMIT`` after it if asked. ``kind``:
    "run" (row count and row id), "many", "rows" (every row), "script" or "none"."""
    raw = conn._conn
    if begin:
        raw.execute("BEGIN IMMEDIATE")
    for deferred_sql, deferred_params in before:
        try:
            raw.execute(deferred_sql, deferred_params)
        except sqlite3.Error as exc:
            raise _DeferredFailed(exc) from exc
    result: Any = None
    if kind == "none":
        pass
    elif kind == "rows":
        result = raw.execute(sql, params).fetchall()
    elif kind == "many":
        raw.executemany(sql, params)
    elif kind == "script":
        raw.executescript(sql)
    else:
        cursor = raw.execute(sql, params)
        result = (cursor.rowcount, cursor.lastrowid)
    if commit:
        raw.execute("COMMIT")
    return result


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
    except BaseException as exc:  # a failed check too: no half-made copy, no open file
        dst.close()
        partial.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            raise _translate(exc) from exc
        raise
    finally:
        src.close()
    dst.close()
    partial.replace(target)
    return pages


def _conforms(db: Database) -> Store:  # mypy checks that both engines offer the same
    return db
