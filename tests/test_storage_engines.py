"""The repositories on both engines: the embedded SQLite default and PostgreSQL (a throwaway
cluster started for the run, never a mock). The same calls, the same results."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.communes import CommuneRepo
from storage.db import Database, DuplicateKey, StorageError
from storage.deadletters import DeadLetters
from storage.dialogs import DialogRepo
from storage.files import FileStore
from storage.invites import InviteAttempts, InviteRepo
from storage.leases import LeaseRepo
from storage.migrate import available_migrations, current_version, migrate
from storage.oauth import TokenPair, TokenRepo
from storage.pg import PgDatabase, to_dollar
from storage.reports import AuditLog, ReportRepo
from storage.sending import Recipient, SendingRepo, SubscriptionRepo
from storage.tasks import TaskProgressRepo, TaskStatus
from storage.timeutil import utc_iso
from storage.users import UserRepo
from storage.web import LinkProblem, WebLinkRepo, WebSessionRepo
from tests.conftest import fresh_pg_database

NOW = dt.datetime(2021, 10, 15, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str | None:
    """``None`` for SQLite; the cluster's URL for PostgreSQL."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_cluster"))


@pytest.fixture
async def db(engine: str | None, tmp_path: Path) -> AsyncIterator[Any]:
    if engine is None:
        async with Database(tmp_path / "s.sqlite3") as store:
            await migrate(store)
            yield store
        return
    async with fresh_pg_database(engine) as url, PgDatabase(url) as pg:
        await migrate(pg)
        yield pg


def test_both_engines_have_the_same_migrations() -> None:
    from storage.dialect import POSTGRESQL

    sqlite = [(m.version, m.name) for m in available_migrations()]
    postgresql = [(m.version, m.name) for m in available_migrations(POSTGRESQL)]
    assert sqlite == postgresql


def test_placeholders_become_numbered_outside_quoted_text() -> None:
    assert to_dollar("SELECT ? , '?', 'it''s ?', ?") == "SELECT $1 , '?', 'it''s ?', $2"


async def test_migrations_are_recorded_and_rerun_is_a_no_op(db: Any) -> None:
    assert await current_version(db) == len(available_migrations(db.dialect))
    assert await migrate(db) == []


async def _people(db: Any) -> tuple[int, int, int]:
    communes = CommuneRepo(db)
    await communes.sync([("dl", "Dân Lực", "xa"), ("td", "Thọ Dân", "xa")])
    ids = {c.code: c.id for c in await communes.all()}
    users = UserRepo(db)
    admin = await users.ensure("telegram", "1", chat_id="1", display_name="Admin")
    officer = await users.ensure("telegram", "2", chat_id="2")
    async with db.transaction():
        await users.register(officer.id, "officer", ids["dl"])
    return admin.id, officer.id, ids["dl"]


async def test_people_communes_invites_and_their_rules(db: Any) -> None:
    admin, officer, commune = await _people(db)
    users = UserRepo(db)
    assert [u.id for u in await users.officers_of(commune)] == [officer]
    user = await users.get("telegram", "2")
    assert user is not None and user.role == "officer" and user.commune_id == commune
    with pytest.raises(StorageError):  # an officer needs a commune
        await db.execute("UPDATE users SET commune_id = NULL WHERE id = ?", (officer,))
    unit = await users.ensure("zalo_bot", "abc")
    await users.register(unit.id, "unit", None, "tp")
    assert [u.id for u in await users.staff_of_unit("tp")] == [unit.id]
    assert (await users.names_of([admin, officer, 999])) == {admin: "Admin", officer: "2"}
    invites = InviteRepo(db)
    await invites.create("ABCD2345", "unit", None, admin, NOW, NOW + dt.timedelta(days=7), "tp")
    assert await invites.redeem("ABCD2345", officer, NOW)
    assert not await invites.redeem("ABCD2345", officer, NOW)  # once
    with pytest.raises(DuplicateKey):
        await invites.create("ABCD2345", "staff", None, admin, NOW, NOW)
    attempts = InviteAttempts(db, limit=2)
    assert await attempts.failed(officer, NOW) is None
    assert await attempts.failed(officer, NOW) is not None
    assert await attempts.locked_until(officer, NOW) is not None
    await users.revoke(officer)
    assert (await users.by_id(officer)).role is None  # type: ignore[union-attr]


async def test_reports_keep_history_and_the_current_one_is_found(db: Any) -> None:
    _admin, officer, commune = await _people(db)
    repo = ReportRepo(db)

    async def add(form: str, subject: str, period: str, answers: dict[str, Any], day: int) -> None:
        current = await repo.current_of(commune, form, subject, period)
        async with db.transaction():
            stored = await repo.add(
                commune_id=commune, form_id=form, subject=subject, period=period,
                answers=answers, computed={}, meets_target=answers.get("status") == "dat",
                submitted_by=officer, channel="telegram",
                now=NOW + dt.timedelta(days=day), report_date=(NOW + dt.timedelta(days=day)).date(),
            )  # fmt: skip
        # the insert reads its own version and the report it replaces, and returns the row
        assert stored.version == (1 if current is None else current.version + 1)
        assert stored.supersedes == (None if current is None else current.id)
        assert stored.answers == answers and stored.submitted_at == NOW + dt.timedelta(days=day)
        assert await repo.get(stored.id) == stored

    await add("bhyt", "", "2021-09", {"population": 100}, 0)
    await add("bhyt", "", "2021-10", {"population": 110}, 1)
    await add("bhyt", "", "2021-10", {"population": 120}, 2)  # a correction: version 2
    await add("tieu-chi", "xa:17", "", {"status": "dang"}, 1)
    await add("tieu-chi", "xa:17", "", {"status": "dat"}, 3)
    await add("tieu-chi", "xa:5", "", {"status": "dang"}, 2)
    latest = {(r.form_id, r.subject): r for r in await repo.latest()}
    assert latest["bhyt", ""].answers == {"population": 120} and latest["bhyt", ""].version == 2
    assert latest["tieu-chi", "xa:17"].answers == {"status": "dat"}
    before = await repo.latest_of(
        [(commune, "bhyt", ""), (commune, "tieu-chi", "xa:17")],
        before=(NOW + dt.timedelta(days=2)).date(),
    )
    assert before[commune, "bhyt", ""].answers == {"population": 110}
    assert before[commune, "tieu-chi", "xa:17"].answers == {"status": "dang"}
    await add("bhyt", "", "2021-08", {"population": 90}, 3)  # an earlier period, stored later
    latest = {(r.form_id, r.subject): r for r in await repo.latest(commune_id=commune)}
    assert latest["bhyt", ""].answers == {"population": 120}
    assert {r.id for r in await repo.latest(form_id="tieu-chi")} == {
        r.id for r in latest.values() if r.form_id == "tieu-chi"
    }
    assert len(await repo.history(commune, limit=10)) == 7
    assert await repo.communes_reporting_between(
        NOW.date(), (NOW + dt.timedelta(days=1)).date()
    ) == {commune}
    await AuditLog(db).add(officer, "report.add", {"n": 1}, NOW)


async def test_tasks_sending_and_claims(db: Any) -> None:
    admin, officer, commune = await _people(db)
    tasks = TaskProgressRepo(db)
    async with db.transaction():
        await tasks.mark(("t.cac-xa", commune), TaskStatus.BLOCKED, note="thiếu", by_user=officer,
                         channel="telegram", now=NOW)  # fmt: skip
        await tasks.mark(
            ("t.tp", None), TaskStatus.DONE, by_user=admin, channel="telegram", now=NOW
        )
    current = await tasks.current()
    assert current["t.cac-xa", commune].status is TaskStatus.BLOCKED
    assert [m.status for m in await tasks.history(("t.tp", None))] == [TaskStatus.DONE]
    assert await tasks.newest_id() == max(m.id for m in current.values())

    subscriptions = SubscriptionRepo(db)
    assert await subscriptions.add("telegram", "-100", "vi", admin, NOW)
    assert not await subscriptions.add("telegram", "-100", "vi", admin, NOW)  # once
    sending = SendingRepo(db)
    recipients = [
        Recipient("telegram", str(n), None, {"replies": [{"text": str(n)}]}) for n in range(5)
    ]
    job = await sending.create_job("digest", "digest:w42", "W42", recipients, NOW)
    assert job is not None
    assert await sending.create_job("digest", "digest:w42", "W42", recipients, NOW) is None
    lease = dt.timedelta(minutes=5)
    first = await sending.claim({"telegram"}, "a", NOW, lease, limit=3)
    second = await sending.claim({"telegram"}, "b", NOW, lease, limit=10)
    assert len(first) == 3 and len(second) == 2
    assert {d.id for d in first}.isdisjoint(d.id for d in second)
    assert not await sending.renew(first[0].id, "b", NOW)
    for delivery in first + second:
        await sending.finish(delivery.id, "sent", NOW)
    await sending.complete_jobs(NOW)
    assert await sending.outcome(job) == {"sent": 5}
    assert (await sending.job("digest:w42")).completed_at is not None  # type: ignore[union-attr]


async def test_dialogs_files_tokens_leases_web_and_dead_letters(db: Any) -> None:
    admin, officer, _commune = await _people(db)
    dialogs = DialogRepo(db)
    await dialogs.save(officer, "report", {"step": 1}, NOW)
    row = await dialogs.get(officer)
    assert row is not None and row.state == {"step": 1}
    await dialogs.delete(officer)
    assert await dialogs.get(officer) is None

    files = FileStore(db)
    digest = await files.put(b"\x89PNG data")
    assert await files.put(b"\x89PNG data") == digest  # stored once
    assert await files.get(digest) == b"\x89PNG data"

    tokens = TokenRepo(db, "zalo_oa")
    seed = TokenPair("a1", "r1", None)
    assert await tokens.current(seed, NOW) == seed
    await tokens.replace(TokenPair("a2", "r2", NOW + dt.timedelta(hours=25)), NOW)
    assert (await tokens.current(seed, NOW)).access_token == "a2"

    leases = LeaseRepo(db)
    ttl = dt.timedelta(seconds=60)
    assert await leases.acquire("poll:telegram", "one", NOW, ttl) is None
    assert await leases.acquire("poll:telegram", "two", NOW, ttl) == "one"
    assert await leases.acquire("poll:telegram", "two", NOW + 2 * ttl, ttl) is None

    links, sessions = WebLinkRepo(db), WebSessionRepo(db)
    token = await links.create(admin, NOW, dt.timedelta(minutes=10))
    assert await links.redeem(token, NOW) == admin
    assert await links.redeem(token, NOW) is LinkProblem.USED
    cookie, session = await sessions.open(admin, NOW, dt.timedelta(hours=12), "Firefox/1")
    assert (await sessions.current(cookie, NOW)).id == session.id  # type: ignore[union-attr]
    assert await sessions.end_all(admin, NOW) == 1
    assert await sessions.current(cookie, NOW) is None

    dead = DeadLetters(db)
    await dead.add("telegram", "u1", "boom", "{}")
    assert [d.error for d in await dead.recent()] == ["boom"]


async def test_a_failed_unit_of_work_leaves_nothing(db: Any) -> None:
    users = UserRepo(db)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await users.ensure("telegram", "77")
            raise RuntimeError("crash in the middle")
    assert await db.fetchval("SELECT count(*) FROM users WHERE external_id = '77'") == 0
    users.forget()
    assert await users.get("telegram", "77") is None


async def test_concurrent_units_of_work_do_not_mix(db: Any) -> None:
    users = UserRepo(db)

    async def one(n: int) -> None:
        async with db.transaction():
            await users.ensure("telegram", f"c{n}")
            await asyncio.sleep(0)
            await users.ensure("telegram", f"d{n}")

    await asyncio.gather(*(one(n) for n in range(20)))
    assert await db.fetchval("SELECT count(*) FROM users") == 40


async def test_two_senders_claim_disjoint_deliveries_at_once(db: Any) -> None:
    admin, _officer, _commune = await _people(db)
    recipients = [Recipient("telegram", str(n), None, {"replies": []}) for n in range(60)]
    await SendingRepo(db).create_job("digest", "digest:w43", "W43", recipients, NOW)
    other: Any = PgDatabase(db.url) if isinstance(db, PgDatabase) else Database(db.path)
    async with other:
        repos = [SendingRepo(db), SendingRepo(other)]
        lease = dt.timedelta(minutes=5)

        async def take(repo: SendingRepo, owner: str) -> list[int]:
            taken: list[int] = []
            while batch := await repo.claim({"telegram"}, owner, NOW, lease, limit=7):
                taken += [d.id for d in batch]
                for delivery in batch:
                    await repo.finish(delivery.id, "sent", NOW)
            return taken

        first, second = await asyncio.gather(take(repos[0], "a"), take(repos[1], "b"))
    assert set(first).isdisjoint(second)
    assert len(first) + len(second) == 60
    del admin


async def test_two_instances_create_a_send_out_once(db: Any) -> None:
    await _people(db)
    other: Any = PgDatabase(db.url) if isinstance(db, PgDatabase) else Database(db.path)
    recipients = [Recipient("telegram", str(n), None, {"replies": []}) for n in range(3)]
    async with other:
        made = await asyncio.gather(
            *(
                SendingRepo(store).create_job("digest", "digest:w44", "W44", recipients, NOW)
                for store in (db, other, db, other)
            )
        )
    assert len([m for m in made if m is not None]) == 1
    assert await db.fetchval("SELECT count(*) FROM deliveries") == 3


async def test_one_instance_prunes_per_hour(db: Any) -> None:
    """Instances checking at the same moment: one takes the pruning turn; an hour later one
    does again."""
    from storage.retention import take_pruning_turn

    other: Any = PgDatabase(db.url) if isinstance(db, PgDatabase) else Database(db.path)
    hour = dt.timedelta(hours=1)
    async with other:
        stores = (db, other, db, other)
        first = await asyncio.gather(*(take_pruning_turn(s, NOW, hour) for s in stores))
        soon = await take_pruning_turn(other, NOW + hour / 2, hour)
        later = NOW + hour + dt.timedelta(seconds=1)
        again = await asyncio.gather(*(take_pruning_turn(s, later, hour) for s in stores))
    assert sorted(first) == [False, False, False, True]
    assert soon is False
    assert sorted(again) == [False, False, False, True]


async def test_a_dead_instances_inbox_is_adopted_once(db: Any) -> None:
    from storage.inbox import Inbox

    other: Any = PgDatabase(db.url) if isinstance(db, PgDatabase) else Database(db.path)
    async with other:
        await Inbox(db).store("zalo_bot", [("a", '{"n": 1}'), ("b", '{"n": 2}')])
        before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        assert await Inbox(other).left_over("zalo_bot", before) == []  # not left yet
        assert await Inbox(other).adopt("zalo_bot", before) == []
        stored = utc_iso(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
        await db.execute("UPDATE inbox SET received_at = ?", (stored,))  # two minutes on
        mine, theirs = Inbox(db), Inbox(other)
        taken = await asyncio.gather(
            mine.adopt("zalo_bot", before), theirs.adopt("zalo_bot", before)
        )
        assert sorted(len(t) for t in taken) == [0, 2]  # one instance takes the batch
        taker = mine if taken[0] else theirs
        assert [key for key, _ in taken[0] or taken[1]] == ["a", "b"]
        taker.done("zalo_bot", "a")
        taker.done("zalo_bot", "b")
        await taker.flush()
        assert await db.fetchval("SELECT count(*) FROM inbox") == 0


async def test_instances_starting_together_migrate_once(engine: str | None, tmp_path: Path) -> None:
    if engine is None:
        stores: list[Any] = [Database(tmp_path / "m.sqlite3") for _ in range(3)]
        async with stores[0], stores[1], stores[2]:
            results = await asyncio.gather(*(migrate(s) for s in stores))
            assert sum(len(r) for r in results) == len(available_migrations())
        return
    async with fresh_pg_database(engine) as url:
        pools = [PgDatabase(url) for _ in range(3)]
        async with pools[0], pools[1], pools[2]:
            results = await asyncio.gather(*(migrate(p) for p in pools))
            from storage.dialect import POSTGRESQL

            assert sum(len(r) for r in results) == len(available_migrations(POSTGRESQL))
            assert await current_version(pools[0]) == len(available_migrations(POSTGRESQL))


async def test_flood_control_holds_across_instances_on_one_database(db: Any) -> None:
    from bot.channels.throttle import Throttle
    from storage.throttle import SharedBuckets

    buckets = SharedBuckets(db)
    # a burst of 3, then one message per 10 s, whichever instance the messages reach
    taken = [await buckets.take("telegram:42", 1000.0 + i * 0.1, interval=10, burst=3)
             for i in range(5)]  # fmt: skip
    assert taken == [True, True, True, False, False]
    assert await buckets.take("telegram:43", 1000.5, interval=10, burst=3)  # another person
    assert not await buckets.take("telegram:42", 1005.0, interval=10, burst=3)
    assert await buckets.take("telegram:42", 1011.0, interval=10, burst=3)  # refilled one
    one = Throttle(0.5, burst=2, channel="telegram", shared=SharedBuckets(db))
    two = Throttle(0.5, burst=2, channel="telegram", shared=SharedBuckets(db))
    verdicts = [await one.check(7), await two.check(7), await one.check(7), await two.check(7)]
    assert [v.allowed for v in verdicts] == [True, True, False, False]
    assert verdicts[2].notify and verdicts[3].notify  # each instance tells the person once


@pytest.mark.parametrize("existing", [False, True])
async def test_the_current_reports_are_what_the_history_says(
    engine: str | None, tmp_path: Path, existing: bool
) -> None:
    """The table the trigger keeps (one current report per series) is, after any sequence of
    inserts, what grouping the whole history gives; reports stored before the migration that
    creates it are taken over by it (``existing``)."""
    import random

    async def check(db: Any) -> None:
        rng = random.Random(20261206)
        _admin, officer, commune = await _people(db)
        other = await db.insert(
            "INSERT INTO communes (code, name, kind, active) VALUES (?, ?, ?, 1)",
            ("khac", "Xã khác", "xa"),
        )
        repo = ReportRepo(db)
        for n in range(120):
            async with db.transaction():
                await repo.add(
                    commune_id=rng.choice([commune, other]),
                    form_id=rng.choice(["bhyt", "tieu-chi"]),
                    subject=rng.choice(["", "xa:5"]), period=rng.choice(["2021-08", "2021-09", ""]),
                    answers={"n": n}, computed={}, meets_target=None, submitted_by=officer,
                    channel="test", now=NOW + dt.timedelta(minutes=n), report_date=NOW.date(),
                )  # fmt: skip
            if existing and n == 60:
                await migrate(db)  # the table is created over the first half, then kept
        grouped = {r.id for r in await repo.latest(before=dt.date(2100, 1, 1))}
        assert {r.id for r in await repo.latest()} == grouped
        assert len(grouped) == int(await db.fetchval("SELECT count(*) FROM reports_current"))

    up_to = 16 if existing else None
    if engine is None:
        async with Database(tmp_path / "c.sqlite3") as store:
            await migrate(store, up_to=up_to)
            await check(store)
        return
    async with fresh_pg_database(engine) as url, PgDatabase(url) as pg:
        await migrate(pg, up_to=up_to)
        await check(pg)


async def test_a_commune_renamed_elsewhere_is_seen_where_instances_share_the_database(
    db: Any,
) -> None:
    """SQLite: one process makes every change, so communes are kept in memory; PostgreSQL:
    another instance's start may rename one, so every read goes to the database."""
    repo = CommuneRepo(db)
    await repo.sync([("a", "Xã A", "xa")])
    found = await repo.by_code("a")
    assert found is not None and (await repo.get(found.id)) == found
    await CommuneRepo(db).sync([("a", "Xã A mới", "xa")])  # another instance's repository
    seen = await repo.get(found.id)
    assert seen is not None
    assert seen.name == ("Xã A mới" if db.dialect.shared else "Xã A")


async def test_a_write_left_for_later_commits_and_rolls_back_with_its_unit(db: Any) -> None:
    _admin, officer, _commune = await _people(db)
    audit = AuditLog(db)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await audit.add(officer, "undone", {}, NOW)
            raise RuntimeError("boom")
    async with db.transaction():
        await audit.add(officer, "kept", {"n": 1}, NOW)
        seen = await db.fetchall("SELECT action FROM audit_log WHERE user_id = ?", (officer,))
        assert [r["action"] for r in seen] == ["kept"]  # read in the unit: already there
    rows = await db.fetchall("SELECT action FROM audit_log WHERE user_id = ?", (officer,))
    assert [r["action"] for r in rows] == ["kept"]
