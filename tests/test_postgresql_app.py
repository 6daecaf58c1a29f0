"""The whole bot on PostgreSQL: the conversations, reports, tasks, office views and exports
run unchanged on the second engine; `ntm-bot db migrate`, `db backup` and `db copy` work on it."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from storage.dialect import POSTGRESQL
from storage.migrate import available_migrations
from storage.pg import PgDatabase
from tests.cli_util import run_cli
from tests.conftest import fresh_pg_database
from tests.harness import harness

pytestmark = pytest.mark.slow  # a PostgreSQL cluster


async def test_a_district_day_on_postgresql(pg_cluster: str, tmp_path: Path) -> None:
    async with fresh_pg_database(pg_cluster) as url, harness(tmp_path, database_url=url) as h:
        assert isinstance(h.app.db, PgDatabase)
        await h.register("admin", "o1", "Dân Lực", name="Lê Văn An")
        await h.say("o1", "/baocao")
        await h.tap("o1", "Tỷ lệ người dân tham gia BHYT")
        await h.say("o1", "12.500")
        await h.say("o1", "10.600")
        await h.tap("o1", "Gửi báo cáo")
        assert "Đã nhận báo cáo số BC-000001" in h.last("o1")
        await h.say("o1", "/baocao bhyt")  # a correction: version 2 of the series
        await h.say("o1", "12.500")
        await h.say("o1", "11.000")
        await h.tap("o1", "Gửi báo cáo")
        assert "thay cho báo cáo BC-000001" in h.last("o1")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        await h.tap("o1", "Đã hoàn thành")
        assert "đã hoàn thành" in h.last("o1")
        summary = "\n".join(r.text for r in await h.say("admin", "/tonghop"))
        assert "Đã báo cáo trong tuần: 1/34 xã, thị trấn" in summary and "Dân Lực: 88%" in summary
        await h.say("admin", "/xa Dân Lực")
        assert "12.500 người" in h.last("admin") and "Lê Văn An" in h.last("admin")
        replies = await h.say("admin", "/xuat")
        xlsx = next(r.document.data for r in replies if r.document is not None)
        book = load_workbook(io.BytesIO(xlsx))
        rows = list(book["Tỷ lệ tham gia BHYT"].iter_rows(min_row=2, values_only=True))
        assert len(rows) == 2
        await h.say("o1", "hạn BHYT")
        assert "30/09/2021" in h.last("o1")


async def test_the_cli_migrates_backs_up_and_copies_a_district(
    pg_cluster: str, tmp_path: Path
) -> None:
    sqlite = tmp_path / "district.sqlite3"
    async with harness(tmp_path, db_name="district.sqlite3") as h:  # a district on SQLite
        await h.register("admin", "o1", "Thọ Dân")
        await h.say("o1", "/baocao bhyt")
        await h.say("o1", "9.000")
        await h.say("o1", "8.000")
        await h.tap("o1", "Gửi báo cáo")
        assert "BC-000001" in h.last("o1")
    async with fresh_pg_database(pg_cluster) as url:
        env = {"NTM_DATABASE_URL": url}
        done = run_cli("db", "migrate", env=env)
        assert done.returncode == 0, done.stderr
        latest = len(available_migrations(POSTGRESQL))
        assert f"lược đồ CSDL ở phiên bản {latest}: PostgreSQL" in done.stdout
        assert "postgres@" not in done.stdout  # the address, not the credentials

        copied = run_cli("db", "copy", "--to", url, env={"NTM_DB_PATH": str(sqlite)})
        assert copied.returncode == 0, copied.stderr
        assert "reports: 1 dòng" in copied.stdout and "số dòng khớp" in copied.stdout
        again = run_cli("db", "copy", "--to", url, env={"NTM_DB_PATH": str(sqlite)})
        assert again.returncode != 0 and "not empty" in again.stderr  # never over a district

        async with harness(tmp_path, database_url=url) as h:  # the district, now on PostgreSQL
            await h.say("admin", "/xa Thọ Dân")
            assert "BC-000001" in h.last("admin") and "9.000 người" in h.last("admin")
            await h.say("o1", "/cuatoi")  # the officer kept their role and commune
            assert "Xã Thọ Dân" in h.last("o1")
            await h.say("o1", "/baocao bhyt")  # new ids continue after the copied ones
            await h.say("o1", "9.100")
            await h.say("o1", "8.100")
            await h.tap("o1", "Gửi báo cáo")
            assert "BC-000002" in h.last("o1")

        backup = tmp_path / "district.dump"
        dumped = run_cli("db", "backup", str(backup), env=env)
        assert dumped.returncode == 0, dumped.stderr
        listing = subprocess.run(
            ["pg_restore", "--list", str(backup)], capture_output=True, text=True, check=True
        )
        assert "TABLE DATA public reports" in listing.stdout


def test_a_wrong_database_url_is_explained() -> None:
    done = run_cli("db", "migrate", env={"NTM_DATABASE_URL": "mysql://x"})
    assert done.returncode != 0
    assert "NTM_DATABASE_URL" in done.stderr and "postgresql://" in done.stderr


def test_a_database_that_cannot_be_reached_is_named_without_the_password(
    pg_cluster: str,
) -> None:
    from tests.telegram_util import free_port

    port = free_port()  # nothing listens there
    done = run_cli(
        "db",
        "migrate",
        env={"NTM_DATABASE_URL": f"postgresql://ntm:s3cret-pw@127.0.0.1:{port}/ntm"},
    )
    assert done.returncode == 1
    assert f"không kết nối được PostgreSQL ở 127.0.0.1:{port}/ntm" in done.stderr
    missing = pg_cluster.rsplit("/", 1)[0].replace("postgres@", "postgres:s3cret-pw@") + "/nowhere"
    done = run_cli("db", "migrate", env={"NTM_DATABASE_URL": missing})
    assert done.returncode == 1 and 'database "nowhere" does not exist' in done.stderr
    for output in (done.stderr, done.stdout):
        assert "s3cret-pw" not in output and "Traceback" not in output


async def test_instances_on_one_database_handle_an_update_once_and_a_chat_in_order(
    pg_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from bot.app import open_app
    from bot.settings import load_settings
    from handlers.types import Incoming

    async with fresh_pg_database(pg_cluster) as url:
        monkeypatch.setenv("NTM_DATABASE_URL", url)
        monkeypatch.setenv("NTM_TODAY", "2021-10-15")
        async with open_app(load_settings()) as one, open_app(load_settings()) as two:
            # the same update delivered to both instances at once: answered once
            update = Incoming("telegram", "500", "500", text="hạn BHYT", update_key="u-1")
            results = await asyncio.gather(
                one.processor.process(update), two.processor.process(update)
            )
            answered = [r for r in results if r is not None]
            assert len(answered) == 1 and "30/09/2021" in answered[0].replies[0].text
            count = "SELECT count(*) FROM processed_updates WHERE update_key = 'u-1'"
            assert await one.db.fetchval(count) == 1

            # one chat's units of work never overlap across instances
            entered = asyncio.Event()
            release = asyncio.Event()

            async def first() -> None:
                async with one.db.transaction():
                    await one.db.serialize("chat:telegram:500")
                    entered.set()
                    await release.wait()

            holder = asyncio.ensure_future(first())
            await entered.wait()

            async def second() -> None:
                async with two.db.transaction():
                    await two.db.serialize("chat:telegram:500")

            waiting = asyncio.ensure_future(second())
            other_chat = asyncio.ensure_future(_other_chat(two))
            await asyncio.wait_for(other_chat, 10)  # another chat is not held up
            await asyncio.sleep(0.3)
            assert not waiting.done()  # the same chat waits for the first unit of work
            release.set()
            await asyncio.wait_for(asyncio.gather(holder, waiting), 10)


async def _other_chat(app: object) -> None:
    db = app.db  # type: ignore[attr-defined]
    async with db.transaction():
        await db.serialize("chat:telegram:501")


async def test_a_report_dialog_moves_between_instances_and_is_stored_once(
    pg_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each message of a person's report reaches another instance; the dialog lives in the
    database, and the confirmation delivered to both at once stores one report."""
    import asyncio
    import itertools

    from bot.app import open_app
    from bot.settings import load_settings
    from handlers.types import Incoming
    from storage.reports import ReportRepo

    async with fresh_pg_database(pg_cluster) as url:
        monkeypatch.setenv("NTM_DATABASE_URL", url)
        monkeypatch.setenv("NTM_TODAY", "2021-10-15")
        async with open_app(load_settings()) as one, open_app(load_settings()) as two:
            communes = {c.name: c.id for c in await one.deps.communes.all()}
            officer = await one.deps.users.ensure("telegram", "900", chat_id="900")
            await one.deps.users.register(officer.id, "officer", communes["Dân Lực"])
            await one.deps.users.set_profile(officer.id, "Lê Văn An", "Công chức")
            keys = (f"r-{n}" for n in itertools.count())

            async def say(app: object, text: str) -> str:
                incoming = Incoming("telegram", "900", "900", text=text, update_key=next(keys))
                delivery = await app.processor.process(incoming)  # type: ignore[attr-defined]
                assert delivery is not None
                return "\n".join(r.text for r in delivery.replies)

            assert "Câu 1/2" in await say(one, "/baocao bhyt")
            assert "Câu 2/2" in await say(two, "12.500")
            summary_delivery = await one.processor.process(
                Incoming("telegram", "900", "900", text="10.600", update_key=next(keys))
            )
            assert summary_delivery is not None
            send = next(
                c.action
                for r in summary_delivery.replies
                for c in r.flat_choices()
                if c.label.startswith("Gửi báo cáo")
            )
            tap = Incoming("telegram", "900", "900", action=send, kind="action", update_key="tap")
            results = await asyncio.gather(one.processor.process(tap), two.processor.process(tap))
            done = [r for r in results if r is not None]
            assert len(done) == 1 and "BC-000001" in done[0].replies[0].text
            reports = await ReportRepo(one.db).all()
            assert [(r.version, r.answers["population"]) for r in reports] == [(1, 12500)]
            await say(two, "/cuatoi")  # the other instance has seen this person as an officer
            await one.deps.users.revoke(officer.id)  # revoked on one instance …
            denied = await say(two, "/baocao")  # … counts on the other at once
            assert "chưa đăng ký là cán bộ xã" in denied


async def test_a_zalo_update_a_dead_instance_acknowledged_is_handled_by_another(
    pg_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Zalo webhook is answered once the update is stored, before it is handled. If that
    instance then dies (its machine gone, never restarted), another takes the update over once
    the lease has passed: handled once, answered, and the stored copy removed."""
    import asyncio
    import datetime as dt
    import json
    from typing import Any

    from bot.app import open_app
    from bot.channels.zalo import bot_api
    from bot.channels.zalo.service import ZaloService
    from bot.settings import load_settings
    from handlers.types import Reply
    from storage.inbox import Inbox
    from storage.timeutil import utc_iso

    class Recorder:
        channel = bot_api.CHANNEL

        def __init__(self) -> None:
            self.sent: list[tuple[str, str]] = []

        def parts(self, reply: Reply) -> list[Any]:
            return [reply.text]

        async def send_part(self, chat_id: str, part: Any) -> None:
            self.sent.append((chat_id, part))

    update = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "zm-1",
            "date": 1634280000000,
            "text": "hạn BHYT",
            "from": {"id": "zu-7", "display_name": "A", "is_bot": False},
            "chat": {"id": "zu-7", "chat_type": "PRIVATE"},
        },
    }
    async with fresh_pg_database(pg_cluster) as url:
        monkeypatch.setenv("NTM_DATABASE_URL", url)
        monkeypatch.setenv("NTM_TODAY", "2021-10-15")
        async with open_app(load_settings()) as dead, open_app(load_settings()) as alive:
            # what the first instance did before it was killed: stored, acknowledged to Zalo
            await Inbox(dead.db).store(bot_api.CHANNEL, [("zm-1", json.dumps(update))])

            def service(app: Any, transport: Recorder) -> ZaloService:
                return ZaloService(
                    bot_api.CHANNEL, app.processor, transport, Inbox(app.db),
                    bot_api.incoming_of, bot_api.update_key,
                )  # fmt: skip

            here, elsewhere = Recorder(), Recorder()
            taker, other = service(alive, here), service(alive, elsewhere)
            assert await taker.adopt_abandoned() == 0  # too recent: it may still be handling it
            await taker.replay()  # an instance starting now leaves it alone too
            assert await alive.db.fetchval("SELECT count(*) FROM inbox") == 1
            # two minutes on (the lease is one): nobody handled it
            await alive.db.execute(
                "UPDATE inbox SET received_at = ?",
                (utc_iso(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)),),
            )
            adopted = await asyncio.gather(taker.adopt_abandoned(), other.adopt_abandoned())
            assert sorted(adopted) == [0, 1]  # taken by one instance
            for each in (taker, other):
                await each.queue.drain()
                await each.inbox.flush()
            sent = here.sent + elsewhere.sent
            assert len(sent) == 1 and sent[0][0] == "zu-7" and "30/09/2021" in sent[0][1]
            assert await alive.db.fetchval("SELECT count(*) FROM inbox") == 0
