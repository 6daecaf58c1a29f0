"""The database on PostgreSQL (asyncpg): the same interface as :class:`storage.db.Database`, so
every repository runs unchanged on either engine.

The repositories write ``?`` placeholders; they become ``$1, $2, …`` here (outside quoted
text). A unit of work holds one pooled connection from its first statement to its end;
statements on their own take any connection of the pool.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from storage.db import DuplicateKey, Params, Row, StorageError, StorageUnavailable, Store
from storage.dialect import POSTGRESQL

log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?")
_COUNT = re.compile(r"(\d+)$")


def _positional(params: Params) -> Sequence[Any]:
    if isinstance(params, dict):
        raise StorageError("PostgreSQL statements take positional parameters (?)")
    return params


def to_dollar(sql: str) -> str:
    """``?`` placeholders as ``$1, $2, …`` (text in quotes is left as it is)."""
    counter = 0

    def number(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f"${counter}"

    return _PLACEHOLDER.sub(number, sql)


@dataclass
class _Tx:
    conn: Any = None
    tx: Any = None
    release: Callable[[], Any] | None = None
    active: bool = True
    broken: bool = False  # the connection was lost: closed, not reused
    rollback_hooks: list[Callable[[], None]] = field(default_factory=list)


class PgDatabase:
    dialect = POSTGRESQL

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max_size
        self._pool: Any = None
        self._tx: contextvars.ContextVar[_Tx | None] = contextvars.ContextVar(
            f"ntm_pg_tx_{id(self)}", default=None
        )

    @property
    def where(self) -> str:
        """``host:port/database``, for messages (never the user or the password)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path or '/'}"

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> PgDatabase:
        import asyncpg

        if self._pool is None:
            try:
                self._pool = await asyncpg.create_pool(
                    self.url, min_size=self.min_size, max_size=self.max_size
                )
            except (OSError, asyncpg.PostgresError) as exc:
                text = f"không kết nối được PostgreSQL ở {self.where} ({type(exc).__name__}: {exc})"
                if isinstance(_translate(exc), StorageUnavailable):
                    raise StorageUnavailable(text) from exc  # not there (yet): worth waiting
                raise StorageError(text) from exc  # a wrong password or database: it will not do
        return self

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> PgDatabase:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StorageError("database is not open")
        return self._pool

    # -- transactions -----------------------------------------------------------------------
    def _state(self) -> _Tx | None:
        state = self._tx.get()
        return state if state is not None and state.active else None

    @property
    def in_transaction(self) -> bool:
        return self._state() is not None

    @property
    def untouched(self) -> bool:
        state = self._state()
        return state is not None and state.conn is None

    def on_rollback(self, hook: Callable[[], None]) -> None:
        state = self._state()
        if state is not None:
            state.rollback_hooks.append(hook)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgDatabase]:
        """A unit of work, committed at the end and rolled back on any exception. The
        connection is taken at the first statement; nested calls join the outer one."""
        if self._state() is not None:
            yield self
            return
        state = _Tx()
        token = self._tx.set(state)
        try:
            try:
                yield self
            except BaseException:
                for hook in reversed(state.rollback_hooks):
                    hook()
                if state.tx is not None:
                    try:
                        await state.tx.rollback()
                    except Exception as exc:  # a lost connection: there is nothing to undo
                        log.info("rollback failed (%s); the connection is dropped", exc)
                        state.broken = True
                raise
            if state.tx is not None:
                try:
                    await state.tx.commit()
                except Exception as exc:
                    for hook in reversed(state.rollback_hooks):
                        hook()
                    state.broken = True
                    raise _translate(exc) from exc
        finally:
            state.active = False
            self._tx.reset(token)
            if state.conn is not None:
                await self._give_back(state.conn, broken=state.broken)

    async def _give_back(self, conn: Any, *, broken: bool = False) -> None:
        """Return a connection to the pool (a broken one is closed: the pool opens a new one
        when the server is back)."""
        if broken:
            conn.terminate()
        try:
            await self.pool.release(conn)
        except Exception as exc:  # the server went away meanwhile
            log.info("releasing a connection failed: %s", exc)

    async def _acquire(self) -> Any:
        try:
            return await self.pool.acquire()
        except Exception as exc:  # the server is down or unreachable
            raise _translate(exc) from exc

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        state = self._state()
        if state is None:
            conn = await self._acquire()
            try:
                yield conn
            finally:
                await self._give_back(conn)
            return
        if state.conn is None:
            state.conn = await self._acquire()
            state.tx = state.conn.transaction()
            try:
                await state.tx.start()
            except Exception as exc:
                state.broken = True
                raise _translate(exc) from exc
        yield state.conn

    # -- statements ---------------------------------------------------------------------------
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with self._connection() as conn:
            try:
                status = await conn.execute(to_dollar(sql), *_positional(params))
            except Exception as exc:
                raise _translate(exc) from exc
        found = _COUNT.search(status or "")
        return int(found.group(1)) if found else 0

    async def later(self, sql: str, params: Params = ()) -> None:
        """A write whose result nobody reads: run now (a PostgreSQL round trip does not
        hold a process-wide lock as SQLite's writer does, so there is nothing to save)."""
        await self.execute(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one ``INSERT``; returns the new row's id."""
        value = await self.fetchval(sql + " RETURNING id", params)
        if value is None:
            raise StorageError("insert did not add a row")
        return int(value)

    async def finish(self, sql: str, params: Params = ()) -> int:
        return await self.insert(sql, params)

    async def write_returning(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self._connection() as conn:
            try:
                await conn.executemany(to_dollar(sql), [_positional(r) for r in rows])
            except Exception as exc:
                raise _translate(exc) from exc

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as conn:
            try:
                return list(await conn.fetch(to_dollar(sql), *_positional(params)))
            except Exception as exc:
                raise _translate(exc) from exc

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def serialize(self, key: str) -> None:
        """A transaction-scoped advisory lock on the key: released when the unit of work
        commits or rolls back, whichever instance holds it."""
        if not self.in_transaction:
            raise StorageError("serialize() belongs inside a unit of work")
        await self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))


def _translate(exc: BaseException) -> Exception:
    """asyncpg's errors as the store's: a lost or refused connection (the server stopped,
    restarted, unreachable) is :class:`StorageUnavailable`, what the bot answers politely and
    tries again after."""
    import asyncpg

    if isinstance(exc, asyncpg.UniqueViolationError):
        return DuplicateKey(str(exc))
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return StorageError(f"constraint failed: {exc}")
    lost = (
        OSError,  # refused, reset, timed out
        asyncpg.PostgresConnectionError,  # cannot connect now, connection does not exist
        asyncpg.InterfaceError,  # the connection or the pool closed under us
        asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, crash shutdown
    )
    if isinstance(exc, lost):
        return StorageUnavailable(f"PostgreSQL: {type(exc).__name__}")
    if isinstance(exc, asyncpg.PostgresError):
        return StorageError(str(exc))
    return exc if isinstance(exc, Exception) else StorageError(str(exc))


def _conforms(db: PgDatabase) -> Store:  # mypy checks that both engines offer the same
    return db
