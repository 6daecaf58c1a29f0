"""A PostgreSQL outage: the bot stays up, answers politely while it cannot work, says so on
/healthz, and carries on by itself once the database is back — with Telegram polling, with
Telegram's webhook and with Zalo's; the scheduler and the sender keep running too."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storage.reports import ReportRepo
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot
from tests.pg_util import require_or_skip, stoppable_cluster
from tests.telegram_util import ADMIN, running_bot, text_update
from tests.zalo_util import ZALO_ADMIN, number_of, running_zalo, zalo_env

pytestmark = pytest.mark.slow  # a real PostgreSQL server, stopped and started again

OFFICER = 831
BUSY = "tạm thời không ghi được dữ liệu"
SECRET = "outage-secret"


async def _eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def _health(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz") as response,
    ):
        return response.status, await response.json()


class TelegramPeople:
    """People writing to the bot on Telegram (polling or webhook)."""

    def __init__(self, fake: FakeTelegram, webhook: str | None = None) -> None:
        self.fake = fake
        self.webhook = webhook
        self.update_id = 500_000

    async def say(self, who: int, text: str, expect: str, timeout: float = 20) -> str:
        before = len(self.fake.sent(who))
        if self.webhook is None:
            self.fake.push_text(who, text)
        else:
            self.update_id += 1
            await self._post(text_update(who, text, self.update_id))
        return await self._until(who, before, expect, text, timeout)

    async def press(self, who: int, label: str, expect: str) -> str:
        message = next(
            m
            for m in reversed(self.fake.sent(who))
            if any(b.startswith(label) for b, _ in m.buttons)
        )
        before = len(self.fake.sent(who))
        if self.webhook is None:
            self.fake.press(who, message, label)
        else:
            data = next(d for b, d in message.buttons if b.startswith(label))
            self.update_id += 1
            await self._post(
                {"update_id": self.update_id, **self.fake.callback_query(who, message, data)}
            )
        return await self._until(who, before, expect, label, 20)

    async def _post(self, update: dict[str, Any]) -> None:
        assert self.webhook is not None
        async with aiohttp.ClientSession() as http:
            await http.post(
                self.webhook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            )

    async def _until(self, who: int, before: int, expect: str, what: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            new = [m.text for m in self.fake.sent(who)[before:]]
            if any(expect in t for t in new):
                return "\n".join(new)
            assert time.monotonic() < deadline, (what, expect, new)
            await asyncio.sleep(0.05)


class ZaloPeople:
    """People writing to the Zalo bot: options are numbered, a number picks one."""

    def __init__(self, fake: FakeZaloBot) -> None:
        self.fake = fake

    async def say(self, who: Any, text: str, expect: str, timeout: float = 20) -> str:
        chat = str(who)
        before = len(self.fake.texts(chat))
        self.fake.push_text(chat, text)
        deadline = time.monotonic() + timeout
        while True:
            new = self.fake.texts(chat)[before:]
            if any(expect in t for t in new):
                return "\n".join(new)
            assert time.monotonic() < deadline, (text, expect, new)
            await asyncio.sleep(0.05)

    async def press(self, who: Any, label: str, expect: str) -> str:
        offered = next(
            t
            for t in reversed(self.fake.texts(str(who)))
            if re.search(r"^\s*(?:•\s*)?\d+\. ", t, re.M)
        )
        return await self.say(who, number_of(offered, label), expect)


async def _through_an_outage(
    runtime: Any, people: Any, cluster: Any, admin: Any = ADMIN, others: tuple[Any, Any] = (
        OFFICER, 832)
) -> None:  # fmt: skip
    app = runtime.app
    assert app is not None
    officer, newcomer = others
    invite = await people.say(admin, "/moi Dân Lực", "Tạo mã")
    assert "Dân Lực" in invite
    created = await people.press(admin, "Tạo mã", "/start ")
    code = re.search(r"/start (\S+)|\?start=(\S+)", created)
    assert code is not None
    await people.say(officer, f"/start {code[1] or code[2]}", "họ và tên")
    await people.say(officer, "Lê Văn Ba", "Chức vụ")
    await people.say(officer, "Công chức", "Kiểm tra lại")
    await people.press(officer, "Đúng, lưu lại", "Đã lưu")
    await people.say(officer, "/baocao bhyt", "Câu 1/2")
    await people.say(officer, "10.000", "Câu 2/2")

    cluster.stop()  # the database goes away in the middle of a dialog
    polite = await people.say(officer, "9.100", BUSY)
    assert "không bị mất" in polite
    assert BUSY in await people.say(newcomer, "hạn BHYT", BUSY)  # someone new: nothing known
    status, body = await _health(runtime.web.port)
    assert status == 503 and body["database"].startswith("degraded")
    await asyncio.sleep(2)  # renewals, scheduler and sender rounds all meet the outage
    assert not runtime.stop_event.is_set()  # still running

    cluster.start()  # back: the bot carries on by itself, the dialog where it was

    async def healthy() -> bool:
        return (await _health(runtime.web.port))[0] == 200

    await _eventually(healthy, "healthz ok again")
    summary = await people.say(officer, "9.100", "Kiểm tra trước khi gửi", timeout=30)
    assert "Tỷ lệ tham gia BHYT: 91%" in summary
    await people.press(officer, "Gửi báo cáo", "Đã nhận báo cáo số BC-000001")
    assert "Thời hạn" in await people.say(newcomer, "hạn BHYT", "Thời hạn")
    [report] = await ReportRepo(app.db).all()
    assert report.answers == {"population": 10000, "insured": 9100}
    assert not runtime.stop_event.is_set()


@pytest.fixture
def outage_cluster() -> Any:
    require_or_skip()
    with stoppable_cluster() as cluster:
        yield cluster


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_telegram_through_a_database_outage(
    mode: str,
    outage_cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("bot.exclusive.RENEW_EVERY", 0.3)
    monkeypatch.setattr("bot.runner.HEALTH_CACHE_SECONDS", 0.0)
    caplog.set_level(logging.WARNING)
    env: dict[str, str] = {"NTM_DATABASE_URL": outage_cluster.url}
    if mode == "webhook":
        env |= {
            "TELEGRAM_WEBHOOK_URL": "https://ntm.example.vn/tg/hook",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
    async with running_bot(monkeypatch, fake_telegram, tmp_path, **env) as runtime:
        hook = f"http://127.0.0.1:{runtime.web.port}/tg/hook" if mode == "webhook" else None
        await _through_an_outage(runtime, TelegramPeople(fake_telegram, hook), outage_cluster)
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_zalo_through_a_database_outage(
    outage_cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
    zalo_bot: FakeZaloBot,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr("bot.exclusive.RENEW_EVERY", 0.3)
    monkeypatch.setattr("bot.runner.HEALTH_CACHE_SECONDS", 0.0)
    env = zalo_env(tmp_path, bot=zalo_bot, NTM_DATABASE_URL=outage_cluster.url)
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        people = ZaloPeople(zalo_bot)
        others = ("0a1b2c3d4e5f6a7b8c9d", "1b2c3d4e5f6a7b8c9d0e")
        await _through_an_outage(runtime, people, outage_cluster, ZALO_ADMIN, others)


async def test_the_bot_waits_for_a_database_that_is_not_up_yet(
    outage_cluster: Any,
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a power cut the bot may start before PostgreSQL: it waits (saying so), and comes
    up once the database answers."""
    from bot.runner import Runtime
    from bot.settings import load_settings
    from tests.telegram_util import bot_env

    caplog.set_level(logging.WARNING, logger="bot.runner")
    outage_cluster.stop()
    env = bot_env(fake_telegram, tmp_path) | {"NTM_DATABASE_URL": outage_cluster.url}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runtime = Runtime(load_settings())
    starting = asyncio.ensure_future(runtime.__aenter__())
    await asyncio.sleep(2.5)
    assert not starting.done()
    assert any("không kết nối được PostgreSQL" in r.getMessage() for r in caplog.records)
    outage_cluster.start()
    await asyncio.wait_for(starting, timeout=90)
    try:
        fake_telegram.push_text(OFFICER, "hạn BHYT")
        [answer] = await fake_telegram.wait_for(OFFICER, 1, timeout=20)
        assert "30/09/2021" in answer.text
    finally:
        await runtime.__aexit__(None, None, None)
