"""Faults around the bot: a database that cannot take writes, a flaky network to the platforms.

Whatever happens, a user gets a polite answer, nothing committed is lost, a dialog resumes
where it was, and the process keeps running.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.logging_setup import setup_logging
from bot.settings import load_settings
from storage.db import Database
from storage.reports import ReportRepo
from tests.fakes.telegram import RESET, FakeTelegram
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA
from tests.telegram_util import ADMIN, bot_env, running_bot
from tests.zalo_util import running_zalo, webhook_url, zalo_env

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1 or the bot as its own process

OFFICER = 811
BUSY = "Hệ thống đang bận hoặc tạm thời không ghi được dữ liệu"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@asynccontextmanager
async def read_only(db: Database) -> AsyncIterator[None]:
    """SQLite's own refusal: every write fails with 'attempt to write a readonly database'."""
    await db.execute("PRAGMA query_only = 1")
    try:
        yield
    finally:
        await db.execute("PRAGMA query_only = 0")


class _FullDisk:
    """The sqlite3 connection as it behaves on a full disk: every write raises."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self._real = real

    def _guard(self, sql: str) -> None:
        if sql.lstrip().upper().startswith(WRITES):
            raise sqlite3.OperationalError("database or disk is full")

    def execute(self, sql: str, *args: Any) -> Any:
        self._guard(sql)
        return self._real.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        self._guard(sql)
        return self._real.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@asynccontextmanager
async def disk_full(db: Database) -> AsyncIterator[None]:
    """What SQLite raises when the disk is full, raised by the driver for every write."""
    conn: Any = db.conn
    real = conn._connection  # the sqlite3 connection aiosqlite's thread runs statements on
    conn._connection = _FullDisk(real)
    try:
        yield
    finally:
        conn._connection = real


async def answer(tg: FakeTelegram, chat: int, text: str) -> str:
    before = len(tg.sent(chat))
    tg.push_text(chat, text)
    messages = await tg.wait_for(chat, before + 1)
    await asyncio.sleep(0.2)
    return "\n".join(m.text for m in tg.sent(chat)[before:]) or messages[-1].text


@pytest.mark.parametrize("fault", [read_only, disk_full], ids=["read-only", "disk-full"])
async def test_a_database_that_cannot_write_gets_a_polite_retry_and_loses_nothing(
    fault: Any, monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = fake_telegram
    async with running_bot(monkeypatch, tg, tmp_path) as runtime:
        app = runtime.app
        assert app is not None
        confirm = await answer(tg, ADMIN, "/moi Dân Lực")
        assert "Tạo mã" in confirm
        tg.press(ADMIN, tg.last(ADMIN), "Tạo mã")
        await tg.wait_for(ADMIN, 2)
        code = tg.last(ADMIN).text.split("?start=")[1].split()[0]
        assert "cán bộ xã Dân Lực" in await answer(tg, OFFICER, f"/start {code}")
        await answer(tg, OFFICER, "/baocao")
        tg.press(OFFICER, tg.last(OFFICER), "Tỷ lệ người dân tham gia BHYT")
        await asyncio.sleep(0.3)
        assert "Câu 2/2" in await answer(tg, OFFICER, "10.000")
        dialog_before = await app.db.fetchall("SELECT * FROM dialogs")
        users_before = await app.db.fetchval("SELECT count(*) FROM users")

        async with fault(app.db):
            polite = await answer(tg, OFFICER, "9.100")
            assert BUSY in polite and "không bị mất" in polite
            assert BUSY in await answer(tg, 812, "hạn BHYT")  # a new user, a write needed
        assert [dict(r) for r in await app.db.fetchall("SELECT * FROM dialogs")] == [
            dict(r) for r in dialog_before
        ]
        assert await app.db.fetchval("SELECT count(*) FROM users") == users_before

        summary = await answer(tg, OFFICER, "9.100")  # the officer tries again: same question
        assert "Tỷ lệ tham gia BHYT: 91%" in summary
        tg.press(OFFICER, tg.last(OFFICER), "Gửi báo cáo")
        await asyncio.sleep(0.4)
        assert "Đã nhận báo cáo số BC-000001" in tg.last(OFFICER).text
        async with fault(app.db):
            # Reading needs no write: the forms are offered; starting one is a write.
            assert "Chọn mẫu báo cáo" in await answer(tg, OFFICER, "/baocao")
            before = len(tg.sent(OFFICER))
            tg.press(OFFICER, tg.last(OFFICER), "Tỷ lệ người dân tham gia BHYT")
            await tg.wait_for(OFFICER, before + 1)
            assert BUSY in tg.last(OFFICER).text
        [report] = await ReportRepo(app.db).all()
        assert report.answers == {"population": 10000, "insured": 9100}


async def test_telegram_timeouts_resets_and_429_storms_do_not_stop_the_bot(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = fake_telegram
    async with running_bot(monkeypatch, tg, tmp_path) as runtime:
        runtime.retry_every = 0.5  # replies that exhausted their own retries go out later
        tg.fail_next("getUpdates", 502, "Bad Gateway", count=2)
        tg.fail_next("getUpdates", RESET, "reset", count=1)  # the connection is dropped
        tg.fail_next("sendMessage", RESET, "reset", count=1)
        tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", count=2, retry_after=1)
        tg.fail_next("sendMessage", 503, "Service Unavailable", count=1)
        tg.push_text(OFFICER, "hạn BHYT")
        [first] = await tg.wait_for(OFFICER, 1, timeout=30)
        assert "30/09/2021" in first.text
        # A storm longer than the bot's own retries: the reply waits and goes out later.
        tg.fail_next("sendMessage", 502, "Bad Gateway", count=6)
        tg.push_text(OFFICER, "ai phụ trách tiêu chí 17.4")
        await tg.wait_for(OFFICER, 2, timeout=60)
        assert "Chỉ tiêu 17.4" in tg.last(OFFICER).text
        assert not runtime.failed()


async def test_zalo_network_faults_are_retried_and_never_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    z = await FakeZaloBot().start()
    oa = await FakeZaloOA().start()
    try:
        async with running_zalo(monkeypatch, tmp_path, bot=z, oa=oa) as runtime:
            zalo_bot, zalo_oa = runtime.channel("zalo_bot"), runtime.channel("zalo_oa")
            assert zalo_bot is not None and zalo_oa is not None
            runtime.retry_every = 0.5
            zalo_bot.transport.quota_wait = 0.2  # type: ignore[attr-defined]
            zalo_oa.transport.rate_limit_wait = 0.2  # type: ignore[attr-defined]
            z.quota = 0  # 429 "quota exceeded" on every send for a while
            z.push_text("zu1", "hạn BHYT")
            await asyncio.sleep(1.5)  # retried, then left to the periodic retry
            assert "zu1" not in z.messages
            z.quota = None
            await z.wait_for("zu1", 1, timeout=20)
            assert "30/09/2021" in z.texts("zu1")[0]

            oa.rate_limit_next = 2  # −32 twice, then fine
            url = webhook_url(runtime, "/zalo/oa")
            assert await oa.post_event(url, oa.text_event("ou1", "hạn BHYT")) == 200
            await oa.wait_for("ou1", 1, timeout=20)

            z.down = True  # connections to the Zalo Bot API are reset for a while
            await asyncio.sleep(2.0)
            assert not runtime.failed()
            z.down = False
            z.push_text("zu1", "/help")
            await z.wait_for("zu1", 2, timeout=30)
            assert not runtime.failed()
    finally:
        await z.stop()
        await oa.stop()


async def test_no_secret_reaches_the_logs_even_when_everything_fails(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """All three chat channels logging at DEBUG, as ``ntm-bot run`` sets logging up, through
    errors, a token refresh and an outage: not one secret in what is written."""
    tg = fake_telegram
    z = await FakeZaloBot().start()
    oa = await FakeZaloOA().start()
    secrets = [tg.token, z.token, oa.app_secret, oa.access_token, oa.refresh_token]
    env = (
        zalo_env(tmp_path, bot=z, oa=oa)
        | bot_env(tg, tmp_path)
        | {
            "NTM_LOG_LEVEL": "DEBUG",
            "TELEGRAM_WEBHOOK_SECRET": "tg-webhook-secret-1",
        }
    )
    secrets.append("tg-webhook-secret-1")
    root = logging.getLogger()
    level = root.level
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    handler.addFilter(setup_logging("DEBUG", load_settings().secret_values()))
    root.addHandler(handler)
    try:
        async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
            tg.fail_next("getUpdates", 502, "Bad Gateway", count=2)
            tg.fail_next("sendMessage", 400, "Bad Request: chat not found")
            tg.push_text(OFFICER, "hạn BHYT")
            oa.expire_access_token()
            url = webhook_url(runtime, "/zalo/oa")
            assert await oa.post_event(url, oa.text_event("ou1", "/help")) == 200
            await oa.wait_for("ou1", 1)
            secrets += [oa.access_token, oa.refresh_token]  # the refreshed pair
            z.down = True
            await asyncio.sleep(1.5)
            z.down = False
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        await z.stop()
        await oa.stop()
    text = written.getvalue()
    assert "refreshed" in text and "getUpdates failed" in text
    leaked = [s for s in secrets if s in text or s.split(":")[-1] in text]
    assert not leaked, leaked


async def test_oversized_requests_do_not_log_the_session_or_a_link_token() -> None:
    """aiohttp quotes an oversized header or address in its error ("Got more than 8190
    bytes …") and writes every request line to the access log: the session cookie, a sign-in
    link's token and a file link's token are redacted there, even when cut short."""
    from aiohttp import web as aioweb
    from aiohttp.test_utils import TestServer

    cookie, token, file_token = "Zq3" + "x" * 40, "Tk9" + "y" * 40, "Fl7" + "z" * 30
    root = logging.getLogger()
    level = root.level
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(setup_logging("DEBUG"))
    root.addHandler(handler)

    async def page(_request: aioweb.Request) -> aioweb.Response:
        return aioweb.Response(text="ok")

    app = aioweb.Application()
    app.router.add_get("/web/login", page)
    server = TestServer(app)
    await server.start_server()
    try:
        for head in (
            b"GET /web/ HTTP/1.1\r\nHost: x\r\nCookie: ntm_session="
            + cookie.encode()
            + b"A" * 9000,
            b"GET /web/login?t=" + token.encode() + b"B" * 9000 + b" HTTP/1.1\r\nHost: x",
            b"GET /web/login?t=" + token.encode() + b" HTTP/1.1\r\nHost: x",
            b"GET /files/" + file_token.encode() + b"/bao-cao.xlsx HTTP/1.1\r\nHost: x",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(head + b"\r\n\r\n")
            await writer.drain()
            assert (await reader.read(100)).startswith(b"HTTP/1.")
            writer.close()
        await asyncio.sleep(0.1)
    finally:
        await server.close()
        root.removeHandler(handler)
        root.setLevel(level)
    text = written.getvalue()
    assert "Got more than 8190 bytes" in text and "/web/login?t=***" in text
    for secret in (cookie[:3] + "xxxx", token[:3] + "yyyy", file_token[:3] + "zzzz"):
        assert secret not in text, secret


@pytest.mark.parametrize("fault", [read_only, disk_full], ids=["read-only", "disk-full"])
async def test_healthz_says_degraded_while_the_database_cannot_be_written(
    fault: Any, monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    import aiohttp

    import bot.runner

    monkeypatch.setattr(bot.runner, "HEALTH_CACHE_SECONDS", 0.0)
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        app = runtime.app
        assert app is not None
        url = f"http://127.0.0.1:{runtime.web.port}/healthz"
        async with aiohttp.ClientSession() as http:

            async def health() -> tuple[int, dict[str, Any]]:
                async with http.get(url) as response:
                    return response.status, await response.json()

            assert await health() == (200, {**(await health())[1], "status": "ok"})
            async with fault(app.db):
                status, body = await health()
                assert status == 503 and body["status"] == "degraded"
                assert body["database"].startswith("degraded: cannot write")
            status, body = await health()
            assert status == 200 and body["database"] == "ok"
