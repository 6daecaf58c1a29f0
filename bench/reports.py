"""100 officers report BHYT coverage at the same time, through the whole Telegram stack.

Each simulated officer joins with an invite code, gives their name and position, opens
/baocao, picks the BHYT form, answers both questions (confirming a value the bot questions)
and taps "Gửi báo cáo", pausing 0.3-1.0 s between steps like a person typing on a phone. A
step's latency runs from the moment its update is queued at the fake Telegram server to the
moment the bot's answer reaches it. Afterwards every receipt is checked against the database.

Absolute times do not travel between machines, so the same 100 users, with the same pauses and
as many steps, also talk to a bare aiogram echo bot in the same run: ``step_p99_ratio`` is ours
over the echo bot's p99 (aim <= 5). Last line: ``{"step_p50_ms", "step_p99_ms", "reports_saved",
"errors", "lost_reports", "echo_step_p99_ms", "step_p99_ratio"}`` (targets: p99 <= 50 ms per
step on the reference machine, 0 errors, 0 lost reports).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from bench.common import echo_bot, percentile_ms, use_fake_telegram  # noqa: E402
from bot.runner import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.registration import ALPHABET  # noqa: E402
from storage.invites import InviteRepo  # noqa: E402
from storage.reports import ReportRepo  # noqa: E402
from tests.fakes.telegram import FakeTelegram, SentMessage  # noqa: E402

QUESTIONED = "khác nhiều so với lần báo cáo trước"
FIRST_OFFICER = 20_000


class Officer:
    def __init__(self, fake: FakeTelegram, user_id: int, code: str, rng: random.Random) -> None:
        self.fake = fake
        self.user_id = user_id
        self.code = code
        self.rng = rng
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.receipt: str | None = None

    async def step(self, push: Callable[[], object], *expect: str) -> SentMessage | None:
        """Queue an update; wait for the answer that contains one of ``expect``."""
        start = len(self.fake.sent(self.user_id))
        queued = time.time()
        push()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for message in self.fake.sent(self.user_id)[start:]:
                if any(text in message.text for text in expect):
                    self.latencies.append(message.sent_at - queued)
                    return message
            await asyncio.sleep(0.002)
        got = [m.text[:60] for m in self.fake.sent(self.user_id)[start:]]
        self.errors.append(f"timeout waiting for {expect!r}; got {got}")
        return None

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.3, 1.0))

    async def number(self, value: int, expect: str) -> SentMessage | None:
        """Answer with a number; confirm it if the bot questions it."""
        fake, me = self.fake, self.user_id
        answer = await self.step(
            lambda: fake.push_text(me, f"{value:,}".replace(",", ".")), expect, QUESTIONED
        )
        if answer is not None and QUESTIONED in answer.text:
            await self.think()
            return await self.step(lambda: fake.press(me, answer, "Đúng, giữ số này"), expect)
        return answer

    async def run(self, population: int, insured: int) -> None:
        fake, me = self.fake, self.user_id
        steps: list[tuple[Callable[[], object], str]] = [
            (lambda: fake.push_text(me, f"/start {self.code}"), "họ và tên"),
            (lambda: fake.push_text(me, f"Cán bộ {me}"), "Chức vụ"),
            (lambda: fake.push_text(me, "Công chức Văn hóa - Xã hội"), "Kiểm tra lại"),
        ]
        last: SentMessage | None = None
        for push, expect in steps:
            last = await self.step(push, expect)
            if last is None:
                return
            await self.think()
        assert last is not None
        check = last
        if not await self.step(lambda: fake.press(me, check, "Đúng, lưu lại"), "Đã lưu"):
            return
        await self.think()
        forms = await self.step(lambda: fake.push_text(me, "/baocao"), "Chọn mẫu báo cáo")
        if forms is None:
            return
        await self.think()
        if not await self.step(lambda: fake.press(me, forms, "Tỷ lệ người dân"), "Câu 1/2"):
            return
        await self.think()
        if not await self.number(population, "Câu 2/2"):
            return
        await self.think()
        summary = await self.number(insured, "Kiểm tra trước khi gửi")
        if summary is None:
            return
        await self.think()
        receipt = await self.step(
            lambda: fake.press(me, summary, "Gửi báo cáo"), "Đã nhận báo cáo số"
        )
        if receipt is not None:
            found = re.search(r"BC-\d{6}", receipt.text)
            self.receipt = found.group(0) if found else None


async def echo_baseline(officers: int, steps: int, seed: int) -> float:
    """p99 step latency (s) of a bare aiogram echo bot under the same users, pauses, steps."""
    rng = random.Random(seed)
    async with echo_bot() as fake:
        users = [
            Officer(fake, FIRST_OFFICER + n, "", random.Random(rng.random()))
            for n in range(officers)
        ]

        async def talk(user: Officer) -> None:
            await asyncio.sleep(rng.uniform(0, 1.0))
            for i in range(steps):
                text = f"step {i} of {user.user_id}"
                await user.step(lambda t=text: fake.push_text(user.user_id, t), text)
                await user.think()

        await asyncio.gather(*(talk(u) for u in users))
    return percentile_ms(sorted(x for u in users for x in u.latencies), 0.99) / 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--officers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    fake = await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as tmp:
        use_fake_telegram(fake, Path(tmp), NTM_THROTTLE_SECONDS="0.5")
        async with Runtime(load_settings()) as runtime:
            app = runtime.app
            assert app is not None
            admin = await app.deps.users.ensure("telegram", "1")
            communes = await app.deps.communes.all()
            now = app.clock.now()
            officers = []
            # Officers of one commune report about the same commune: similar numbers.
            base = {c.id: rng.randint(3000, 20000) for c in communes}
            rate = {c.id: rng.uniform(0.75, 0.97) for c in communes}
            commune_of: dict[int, int] = {}
            for n in range(args.officers):
                code = "BENCH" + "".join(ALPHABET[(n // 32**i) % 32] for i in range(3))
                commune = communes[n % len(communes)]
                await InviteRepo(app.db).create(
                    code, "officer", commune.id, admin.id, now, now + dt.timedelta(days=1)
                )
                officers.append(Officer(fake, FIRST_OFFICER + n, code, random.Random(rng.random())))
                commune_of[FIRST_OFFICER + n] = commune.id
            started = time.perf_counter()

            async def staggered(officer: Officer) -> None:
                await asyncio.sleep(rng.uniform(0, 1.0))
                commune = commune_of[officer.user_id]
                population = int(base[commune] * rng.uniform(0.97, 1.03))
                insured = int(population * rate[commune] * rng.uniform(0.98, 1.0))
                await officer.run(population, insured)

            await asyncio.gather(*(staggered(o) for o in officers))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.2)
            saved = await ReportRepo(app.db).all()
    await fake.stop()
    steps = max(len(o.latencies) for o in officers) if officers else 0
    echo_p99 = await echo_baseline(args.officers, steps, args.seed)
    numbers = {r.number for r in saved}
    receipts = [o.receipt for o in officers if o.receipt]
    lost = len([n for n in receipts if n not in numbers])
    latencies = sorted(x for o in officers for x in o.latencies)
    errors = [e for o in officers for e in o.errors]
    for error in errors[:5]:
        print("error:", error)
    p50, p99 = percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99)
    print(
        f"{len(officers)} officers, {len(latencies)} steps in {elapsed:.1f} s; "
        f"{len(receipts)} receipts, {len(saved)} reports in the database"
    )
    print(f"echo bot under the same load: step p99 {echo_p99 * 1000:.2f} ms over {steps} steps")
    print(
        json.dumps(
            {
                "step_p50_ms": round(p50, 2),
                "step_p99_ms": round(p99, 2),
                "reports_saved": len(saved),
                "errors": len(errors),
                "lost_reports": lost,
                "echo_step_p99_ms": round(echo_p99 * 1000, 2),
                "step_p99_ratio": round(p99 / (echo_p99 * 1000), 2) if echo_p99 else None,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
