"""The bot is killed (SIGKILL) while 100 officers are in the middle of their reports.

The bot runs as its own process (``python -m bot run``) against the fake Telegram server in
this process. Officers type and tap like people, each at their own pace; halfway through, the
process is killed without warning and started again. The officers simply carry on. Afterwards
every officer has finished, each confirmed report exists exactly once, and no one received a
message twice except the one a crash can force (sent, but not yet recorded as sent).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import signal
from collections import Counter
from pathlib import Path

import pytest

from bot.app import open_app
from bot.settings import load_settings
from storage.invites import InviteRepo
from tests.cli_util import start_bot
from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import bot_env

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1 or the bot as its own process

OFFICERS = 100
FIRST = 30_000
STEPS = 6


QUESTIONED = "khác nhiều so với lần báo cáo trước"


class Officer:
    def __init__(self, tg: FakeTelegram, user_id: int, code: str, rng: random.Random) -> None:
        self.tg, self.user, self.code, self.rng = tg, user_id, code, rng
        self.receipt: str | None = None
        self.steps = 0

    async def expect(self, start: int, text: str, *others: str) -> str:
        """Wait (through a crash and restart) for a message after ``start`` containing ``text``
        (or one of ``others``); returns the one found."""
        for _ in range(900):
            for wanted in (text, *others):
                if any(wanted in m.text for m in self.tg.sent(self.user)[start:]):
                    self.steps += 1
                    return wanted
            await asyncio.sleep(0.1)
        got = [m.text[:60] for m in self.tg.sent(self.user)]
        raise AssertionError(f"officer {self.user} waited in vain for {text!r}; got {got}")

    async def say(self, text: str, expect: str) -> None:
        start = len(self.tg.sent(self.user))
        self.tg.push_text(self.user, text)
        await self.expect(start, expect)

    async def answer(self, number: str, expect: str) -> None:
        """A number for the form; several officers of one commune report different numbers, so
        the bot may question a value far from the commune's last report: it is confirmed."""
        start = len(self.tg.sent(self.user))
        self.tg.push_text(self.user, number)
        if await self.expect(start, expect, QUESTIONED) == QUESTIONED:
            await self.tap("Đúng, giữ số này", expect)

    async def tap(self, label: str, expect: str) -> None:
        message = next(
            m for m in reversed(self.tg.sent(self.user)) if any(b[0] == label for b in m.buttons)
        )
        start = len(self.tg.sent(self.user))
        self.tg.press(self.user, message, label)
        await self.expect(start, expect)

    async def run(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, 1.0))
        population = self.rng.randint(3000, 20000)
        insured = int(population * self.rng.uniform(0.7, 0.99))
        await self.say(f"/start {self.code}", "Đăng ký thành công")
        await self.pause()
        await self.say("/baocao", "Chọn mẫu báo cáo")
        await self.pause()
        await self.tap("Tỷ lệ người dân tham gia BHYT", "Câu 1/2")
        await self.pause()
        await self.answer(f"{population:,}".replace(",", "."), "Câu 2/2")
        await self.pause()
        await self.answer(str(insured), "Kiểm tra trước khi gửi")
        await self.pause()
        await self.tap("Gửi báo cáo", "Đã nhận báo cáo số")
        receipts = {
            found[0]
            for m in self.tg.sent(self.user)
            if (found := re.search(r"BC-\d{6}", m.text)) and "Đã nhận" in m.text
        }
        assert len(receipts) == 1, receipts  # a repeated receipt names the same report
        self.receipt = receipts.pop()

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.1, 0.5))


async def test_sigkill_in_the_middle_of_100_reports_loses_and_repeats_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tg = await FakeTelegram().start()
    env = bot_env(tg, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    rng = random.Random(2021)
    officers: list[Officer] = []
    async with open_app(load_settings()) as app:
        communes = await app.deps.communes.all()
        admin = await app.deps.users.ensure("telegram", "9001")
        now = app.clock.now()
        for n in range(OFFICERS):
            code = f"CRASH{n:03d}"
            commune = communes[n % len(communes)]
            await InviteRepo(app.db).create(
                code, "officer", commune.id, admin.id, now, now + dt.timedelta(days=1)
            )
            officers.append(Officer(tg, FIRST + n, code, random.Random(rng.random())))
    log = tmp_path / "bot.log"
    bot = await start_bot(env, log)
    try:
        running = asyncio.gather(*(o.run() for o in officers))
        while sum(o.steps for o in officers) < OFFICERS * STEPS // 2:
            assert bot.returncode is None, log.read_text()
            await asyncio.sleep(0.05)
        bot.send_signal(signal.SIGKILL)  # no goodbye, no flush
        await bot.wait()
        killed_at = sum(o.steps for o in officers)
        await asyncio.sleep(0.5)
        bot = await start_bot(env, log)
        await running
        assert killed_at < OFFICERS * STEPS  # the kill really came in the middle
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), timeout=40)
        await tg.stop()
    assert bot.returncode == 0, log.read_text()[-3000:]

    async with open_app(load_settings()) as app:
        rows = await app.db.fetchall(
            "SELECT r.*, u.external_id FROM reports r JOIN users u ON u.id = r.submitted_by"
        )
        dialogs = await app.db.fetchval("SELECT count(*) FROM dialogs")
    by_officer = Counter(r["external_id"] for r in rows)
    assert len(rows) == OFFICERS and set(by_officer.values()) == {1}  # each report exactly once
    numbers = {f"BC-{r['id']:06d}" for r in rows}
    assert {o.receipt for o in officers} == numbers  # every confirmed report is stored
    assert dialogs == 0  # every dialog ran to its end
    for user in range(FIRST, FIRST + OFFICERS):
        assert repeated_at_most_one_reply([m.text for m in tg.sent(user)]), tg.sent(user)


def repeated_at_most_one_reply(texts: list[str]) -> bool:
    """Messages sent twice must be the messages of one reply: the one in flight at the kill
    (sent, not yet recorded as sent). A reply can be several messages, sent one after another,
    and each is repeated at most once."""
    counts = Counter(texts)
    if any(n > 2 for n in counts.values()):
        return False
    first = sorted(texts.index(text) for text, n in counts.items() if n == 2)
    return not first or first == list(range(first[0], first[0] + len(first)))
