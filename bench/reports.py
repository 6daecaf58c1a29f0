"""100 officers report BHYT coverage at the same time, through the whole Telegram stack.

Each simulated officer joins with an invite code, opens /baocao, picks the BHYT form, answers
both questions and taps "Gửi báo cáo", pausing 0.3-1.0 s between steps like a person typing
on a phone. A step's latency runs from the moment its update is queued at the fake Telegram
server to the moment the last message of the bot's answer reaches it. Afterwards every receipt
is checked against the database. Last line:
``{"step_p50_ms", "step_p99_ms", "reports_saved", "errors", "lost_reports"}``
(targets: p99 <= 50 ms per step, 0 errors, 0 lost reports).
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import percentile_ms, use_fake_telegram  # noqa: E402
from bot.runner import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.registration import ALPHABET  # noqa: E402
from storage.invites import InviteRepo  # noqa: E402
from storage.reports import ReportRepo  # noqa: E402
from tests.fakes.telegram import FakeTelegram, SentMessage  # noqa: E402

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

    async def step(self, push: object, count: int, expect: str) -> SentMessage | None:
        """Queue an update; wait until ``count`` messages in all reached the chat."""
        queued = time.time()
        push()  # type: ignore[operator]
        try:
            messages = await self.fake.wait_for(self.user_id, count, timeout=30)
        except AssertionError as exc:
            self.errors.append(f"timeout waiting for {expect!r}: {exc}")
            return None
        last = messages[count - 1]
        self.latencies.append(last.sent_at - queued)
        if expect not in last.text:
            self.errors.append(f"expected {expect!r}, got {last.text[:80]!r}")
            return None
        return last

    async def think(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.3, 1.0))

    async def run(self, population: int, insured: int) -> None:
        fake, me = self.fake, self.user_id
        if not await self.step(
            lambda: fake.push_text(me, f"/start {self.code}"), 1, "Đăng ký thành công"
        ):
            return
        await self.think()
        forms = await self.step(lambda: fake.push_text(me, "/baocao"), 2, "Chọn mẫu báo cáo")
        if forms is None:
            return
        await self.think()
        if not await self.step(lambda: fake.press(me, forms, "Tỷ lệ người dân"), 4, "Câu 1/2"):
            return
        await self.think()
        if not await self.step(
            lambda: fake.push_text(me, f"{population:,}".replace(",", ".")), 5, "Câu 2/2"
        ):
            return
        await self.think()
        summary = await self.step(
            lambda: fake.push_text(me, str(insured)), 6, "Kiểm tra trước khi gửi"
        )
        if summary is None:
            return
        await self.think()
        receipt = await self.step(
            lambda: fake.press(me, summary, "Gửi báo cáo"), 7, "Đã nhận báo cáo số"
        )
        if receipt is not None:
            found = re.search(r"BC-\d{6}", receipt.text)
            self.receipt = found.group(0) if found else None


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
            for n in range(args.officers):
                code = "BENCH" + "".join(ALPHABET[(n // 32**i) % 32] for i in range(3))
                commune = communes[n % len(communes)]
                await InviteRepo(app.db).create(
                    code, "officer", commune.id, admin.id, now, now + dt.timedelta(days=1)
                )
                officers.append(Officer(fake, FIRST_OFFICER + n, code, random.Random(rng.random())))
            started = time.perf_counter()

            async def staggered(officer: Officer) -> None:
                await asyncio.sleep(rng.uniform(0, 1.0))
                population = rng.randint(3000, 20000)
                await officer.run(population, int(population * rng.uniform(0.7, 0.99)))

            await asyncio.gather(*(staggered(o) for o in officers))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.2)
            saved = await ReportRepo(app.db).all()
    await fake.stop()
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
    print(
        json.dumps(
            {
                "step_p50_ms": round(p50, 2),
                "step_p99_ms": round(p99, 2),
                "reports_saved": len(saved),
                "errors": len(errors),
                "lost_reports": lost,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
