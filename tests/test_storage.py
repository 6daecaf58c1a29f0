"""The database layer: migrations, transactions, backups."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from storage.communes import CommuneRepo
from storage.db import Database, DuplicateKey, StorageError, backup_database
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
        assert {"users", "communes", "processed_updates", "dialogs", "schema_migrations"} <= tables
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


async def test_a_users_change_is_cached_as_written_and_forgotten_when_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        users = UserRepo(db)
        user = await users.ensure("telegram", "1", chat_id="1")
        async with db.transaction():
            await users.set_profile(user.id, "Lê Văn An", "Công chức Văn hóa - Xã hội")
        reads: list[str] = []
        fetchall = Database.fetchall

        async def counted(self: Database, sql: str, params: object = ()) -> object:
            reads.append(sql)
            return await fetchall(self, sql, params)  # type: ignore[arg-type]

        monkeypatch.setattr(Database, "fetchall", counted)
        cached = await users.get("telegram", "1")
        assert cached is not None and cached.full_name == "Lê Văn An"
        assert reads == []  # the row written came back with the write: no read
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await users.set_profile(user.id, "Tên khác", None)
                raise RuntimeError("boom")
        again = await users.get("telegram", "1")
        assert again is not None and again.full_name == "Lê Văn An"  # the undone one is not


async def test_a_write_left_for_later_goes_with_the_next_statement_and_its_unit(
    tmp_path: Path,
) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        trips: list[str] = []
        trip = db._trip

        async def counted(kind: str, sql: str, params: object, **kw: object) -> object:
            trips.append(sql)
            return await trip(kind, sql, params, **kw)  # type: ignore[arg-type]

        db._trip = counted  # type: ignore[method-assign]
        async with db.transaction():
            await db.later("INSERT INTO t VALUES (1, 'a')")
            await db.later("INSERT INTO t VALUES (2, 'b')")
            assert trips == [] and not db.untouched  # nothing sent yet, but not untouched
            # a read in the unit sees them: they go first, in its trip
            assert await db.fetchval("SELECT count(*) FROM t") == 2
            await db.later("UPDATE t SET v = 'c' WHERE k = 2")
        assert len(trips) == 2  # the read (after BEGIN and two writes), the update + COMMIT
        assert [tuple(r) for r in await db.fetchall("SELECT * FROM t")] == [(1, "a"), (2, "c")]

        with pytest.raises(RuntimeError):
            async with db.transaction():
                await db.later("INSERT INTO t VALUES (3, 'x')")
                raise RuntimeError("boom")
        with pytest.raises(StorageError) as failed:  # a failure surfaces with the unit's
            async with db.transaction():  # next trip, as its own error (a duplicate key of
                await db.later("INSERT INTO t VALUES (4, 'y')")  # the statement would read as
                await db.later("INSERT INTO t VALUES (1, 'dup')")  # a redelivered update) …
                await db.finish("INSERT INTO t VALUES (9, 'z')")
        assert not isinstance(failed.value, DuplicateKey)
        assert await db.fetchval("SELECT count(*) FROM t") == 2  # … and undoes the unit
        async with db.transaction():  # only left for later: sent with the COMMIT
            await db.later("INSERT INTO t VALUES (5, 'z')")
        await db.later("INSERT INTO t VALUES (6, 'w')")  # outside a unit: now
        assert await db.fetchval("SELECT count(*) FROM t") == 4
        async with db.transaction():  # and with the statement that finishes a unit
            await db.later("INSERT INTO t VALUES (7, 'v')")
            await db.finish("INSERT INTO t VALUES (8, 'u')")
        assert await db.fetchval("SELECT group_concat(k) FROM t WHERE k > 6") == "7,8"

        # a write left for later while the unit's COMMIT is on its way is not lost
        real = db._trip
        late: list[str] = []

        async def committing(kind: str, sql: str, params: object, **kw: object) -> object:
            if kw.get("commit") and not late:
                late.append(sql)
                await db.later("INSERT INTO t VALUES (10, 'late')")
            return await real(kind, sql, params, **kw)  # type: ignore[arg-type]

        db._trip = committing  # type: ignore[method-assign]
        async with db.transaction():
            await db.later("INSERT INTO t VALUES (11, 'first')")
        db._trip = real  # type: ignore[method-assign]
        assert late and await db.fetchval("SELECT count(*) FROM t WHERE k IN (10, 11)") == 2


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


async def test_an_update_is_recorded_once(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        import socket

        # recorded by a process that then crashed (a process number nothing can have) …
        dead = f"{socket.gethostname()}:{int(Path('/proc/sys/kernel/pid_max').read_text()) + 1}"
        crashed = ProcessedUpdates(db, dead)
        async with db.transaction():
            first = await crashed.record("telegram", "42", "7", {"replies": []})
        assert first is not None
        async with db.transaction():
            assert await crashed.record("telegram", "42", "7", {"replies": []}) is None
        async with db.transaction():
            assert await crashed.record("zalo_bot", "42", "7", {"replies": []}) is not None
        assert await crashed.seen("telegram", "42")
        # … the bot restarted sends its unsent replies at once; one still being sent by a
        # live instance is left to it
        updates = ProcessedUpdates(db, "restarted")
        assert [p.id for p in await updates.pending("telegram")] == [first]
        assert await ProcessedUpdates(db, "other").pending("telegram") == []  # claimed now
        updates.mark_sent("telegram", "42")
        await updates.flush()
        assert await updates.pending("telegram") == []


async def test_a_transaction_that_only_reads_takes_no_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    async with Database(path) as db:
        await migrate(db)
        async with db.transaction():
            await db.fetchall("SELECT * FROM users")
            # Another connection can still write: no BEGIN IMMEDIATE was sent.
            other = sqlite3.connect(path, timeout=0.1)
            other.execute("INSERT INTO communes (code, name, kind) VALUES ('x', 'X', 'xa')")
            other.commit()
            other.close()


async def test_effects_and_record_roll_back_together(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        updates = ProcessedUpdates(db)
        users = UserRepo(db)
        async with db.transaction():
            await users.ensure("telegram", "1")
            await updates.record("telegram", "u1", "1", {"replies": []})
        # A crash before the update is recorded (its last write) leaves nothing behind.
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await users.ensure("telegram", "2")
                raise RuntimeError("crash before commit")
        assert await users.get("telegram", "2") is None
        assert not await updates.seen("telegram", "u2")
        assert not updates.recently_claimed("telegram", "u2")
        # A redelivered update: its record is refused and its effects roll back with it.
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await users.ensure("telegram", "3")
                assert await updates.record("telegram", "u1", "3", {"replies": []}) is None
                raise RuntimeError("redelivered: roll back")
        assert await users.get("telegram", "3") is None
        # The record commits what came before it, in the same trip to the database.
        async with db.transaction():
            await users.ensure("telegram", "4")
            assert await updates.record("telegram", "u4", "4", {"replies": []}) is not None
            assert not db.untouched
            other = sqlite3.connect(tmp_path / "n.sqlite3", timeout=0.1)
            found = other.execute("SELECT count(*) FROM users WHERE external_id = '4'")
            assert found.fetchone()[0] == 1  # committed already: visible to another reader
            other.close()
        assert await updates.seen("telegram", "u4")


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


async def test_inbox_keeps_a_batch_until_every_update_is_done(tmp_path: Path) -> None:
    from storage.inbox import Inbox

    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        inbox = Inbox(db)
        await inbox.store("telegram", [("1", '{"update_id": 1}'), ("2", '{"update_id": 2}')])
        await inbox.store("telegram", [("3", '{"update_id": 3}')])
        inbox.done("telegram", "1")
        inbox.done("telegram", "3")
        await inbox.flush()
        # Batch 1 still waits for update 2: a crash now replays the whole batch (1 is handled
        # again, which the processed-updates record makes harmless).
        left = await Inbox(db).left_over("telegram")
        assert [key for key, _ in left] == ["1", "2"]
        assert json.loads(left[1][1]) == {"update_id": 2}
        inbox.done("telegram", "2")
        await inbox.flush()
        assert await Inbox(db).left_over("telegram") == []
        # announced, handled and done before it is written: deleted once it is written
        inbox.expect("telegram", ["4", "5"])
        inbox.done("telegram", "4")
        inbox.done("telegram", "5")
        await inbox.flush()
        await inbox.store("telegram", [("4", '{"update_id": 4}'), ("5", '{"update_id": 5}')])
        await inbox.flush()
        assert await Inbox(db).left_over("telegram") == []


async def test_tasks_started_inside_a_transaction_do_not_use_it_afterwards(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    async with Database(path) as db:
        await migrate(db)
        go = asyncio.Event()

        async def later() -> None:
            await go.wait()
            await db.execute("INSERT INTO communes (code, name, kind) VALUES ('late', 'L', 'xa')")

        async with db.transaction():
            await db.execute("INSERT INTO communes (code, name, kind) VALUES ('a', 'A', 'xa')")
            task = asyncio.ensure_future(later())  # copies the transaction's context
        go.set()
        await task
        async with db.transaction():
            await db.execute("INSERT INTO communes (code, name, kind) VALUES ('b', 'B', 'xa')")
        # Everything is committed: another connection sees all three rows.
        other = sqlite3.connect(path)
        codes = [r[0] for r in other.execute("SELECT code FROM communes ORDER BY code")]
        other.close()
        assert codes == ["a", "b", "late"]


async def test_latest_is_the_newest_period_and_version_of_each_subject(tmp_path: Path) -> None:
    import datetime as dt

    from storage.reports import ReportRepo

    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        await db.execute("INSERT INTO communes (id, code, name, kind) VALUES (1, 'a', 'A', 'xa')")
        user = await UserRepo(db).ensure("test", "u1", chat_id="u1")
        repo = ReportRepo(db)

        async def report(period: str, rate: float, day: dt.date) -> int:
            async with db.transaction():
                stored = await repo.add(
                    commune_id=1,
                    form_id="bhyt",
                    subject="",
                    period=period,
                    answers={},
                    computed={"rate": rate},
                    meets_target=rate > 85,
                    submitted_by=user.id,
                    channel="test",
                    now=dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC),
                    report_date=day,
                )
            return stored.id

        september = await report("2021-09", 80, dt.date(2021, 9, 20))
        await report("2021-10", 84, dt.date(2021, 10, 5))
        corrected = await report("2021-10", 86, dt.date(2021, 10, 6))
        await report("2021-09", 81, dt.date(2021, 10, 7))  # a late fix of an older month
        assert [r.id for r in await repo.latest()] == [corrected]
        assert [r.id for r in await repo.latest(before=dt.date(2021, 10, 1))] == [september]


async def test_table_rebuild_migration_keeps_people_and_what_refers_to_them(
    tmp_path: Path,
) -> None:
    """0010 rebuilds users and invites (a CHECK cannot be altered): ids, dialogs, menus,
    reports and invites survive; the new role is accepted; foreign keys are back on."""
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db, up_to=9)
        now = "2021-10-01T00:00:00+00:00"
        await db.execute("INSERT INTO communes (id, code, name, kind) VALUES (1, 'x', 'X', 'xa')")
        await db.execute(
            "INSERT INTO users (id, channel, external_id, role, commune_id, created_at,"
            " updated_at, full_name) VALUES (7, 'telegram', '42', 'officer', 1, ?, ?, 'Lê A')",
            (now, now),
        )
        await db.execute(
            "INSERT INTO dialogs (user_id, kind, state, started_at, updated_at)"
            " VALUES (7, 'report', '{}', ?, ?)",
            (now, now),
        )
        await db.execute(
            "INSERT INTO menus (user_id, choices, created_at) VALUES (7, '[]', ?)", (now,)
        )
        await db.execute(
            "INSERT INTO invites (code, role, commune_id, created_by, created_at, expires_at,"
            " used_by) VALUES ('ABCD2345', 'officer', 1, 7, ?, ?, 7)",
            (now, now),
        )
        with pytest.raises(StorageError):  # before 0010 the role does not exist
            await db.execute("UPDATE users SET role = 'unit' WHERE id = 7")

        applied = await migrate(db)
        assert applied[0].name == "unit_staff"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("SELECT count(*) FROM dialogs WHERE user_id = 7") == 1
        assert await db.fetchval("SELECT count(*) FROM menus WHERE user_id = 7") == 1
        assert await db.fetchval("SELECT used_by FROM invites WHERE code = 'ABCD2345'") == 7
        user = await UserRepo(db).by_id(7)
        assert user is not None and user.full_name == "Lê A" and user.role == "officer"

        await UserRepo(db).register(7, "unit", None, "tp")
        assert [u.id for u in await UserRepo(db).staff_of_unit("tp")] == [7]
        with pytest.raises(StorageError):  # a unit's staff without a unit is refused
            await db.execute("UPDATE users SET unit_key = NULL WHERE id = 7")
        with pytest.raises(StorageError):  # references are enforced again
            await db.execute(
                "INSERT INTO dialogs (user_id, kind, state, started_at, updated_at)"
                " VALUES (99, 'x', '{}', ?, ?)",
                (now, now),
            )
        await db.execute("DELETE FROM users WHERE id = 7 AND 0")  # schema still valid
        assert await db.fetchall("PRAGMA foreign_key_check") == []


async def test_rebuild_migration_refuses_to_leave_broken_references(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db, up_to=9)
        now = "2021-10-01T00:00:00+00:00"
        await db.execute("PRAGMA foreign_keys = OFF")
        await db.execute(  # a dangling row an old bug could have left behind
            "INSERT INTO menus (user_id, choices, created_at) VALUES (5, '[]', ?)", (now,)
        )
        await db.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(StorageError, match="broken reference"):
            await migrate(db)
        assert await current_version(db) == 9  # rolled back: the schema is as it was
        assert await db.fetchval("PRAGMA foreign_keys") == 1


async def test_a_lease_has_one_holder_until_it_expires(tmp_path: Path) -> None:
    from storage.leases import LeaseRepo

    ttl = dt.timedelta(seconds=60)
    now = dt.datetime(2021, 10, 15, 8, tzinfo=dt.UTC)
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        leases = LeaseRepo(db)
        assert await leases.acquire("poll:telegram", "a", now, ttl) is None
        assert await leases.acquire("poll:telegram", "b", now, ttl) == "a"
        assert await leases.acquire("poll:telegram", "a", now + ttl / 2, ttl) is None  # renewed
        assert await leases.acquire("poll:telegram", "b", now + ttl, ttl) == "a"  # still held
        assert await leases.acquire("poll:telegram", "b", now + 2 * ttl, ttl) is None  # expired
        assert await leases.take_from("poll:telegram", "b", "c", now, ttl)
        await leases.release("poll:telegram", "b")  # not theirs any more: nothing happens
        assert await leases.acquire("poll:telegram", "a", now, ttl) == "c"
        await leases.release("poll:telegram", "c")
        assert await leases.acquire("poll:telegram", "a", now, ttl) is None


def test_a_dead_process_on_this_machine_holds_nothing() -> None:
    import os
    import socket

    from storage.leases import process_gone as _gone

    # a process number no process can have (above the kernel's maximum)
    dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    host = socket.gethostname()
    assert _gone(f"{host}:{dead}")
    assert not _gone(f"{host}:{os.getpid()}")  # this one runs
    assert not _gone(f"another-host:{dead}")  # elsewhere: only the lease's expiry decides
    assert not _gone("first")  # a configured instance name
    assert _gone(f"{host}:{dead}:a1b2c3")  # one of several holders in that process
    assert not _gone(f"{host}:{os.getpid()}:a1b2c3")
    assert not _gone("bot1:sender")


async def test_communes_are_read_once_and_forgotten_when_the_plan_reloads(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.sqlite3") as db:
        await migrate(db)
        repo = CommuneRepo(db)
        await repo.sync([("a", "Xã A", "xa")])
        commune = await repo.get((await repo.by_code("a")).id)  # type: ignore[union-attr]
        assert commune is not None and commune.name == "Xã A"
        await db.execute("UPDATE communes SET name = 'changed behind its back'")
        assert (await repo.get(commune.id)) == commune  # the cached row: no database trip
        await repo.sync([("a", "Xã A mới", "xa")])
        renamed = await repo.get(commune.id)
        assert renamed is not None and renamed.name == "Xã A mới"
        assert await repo.get(10_000) is None
