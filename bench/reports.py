"""100 officers report BHYT coverage at the same time, through the whole Telegram stack.

Each simulated officer joins with an invite code, gives their name and position, opens
/baocao, picks the BHYT form, answers both questions (confirming a value the bot questions)
and taps "Gửi báo cáo", pausing 0.3-1.0 s between steps like a person typing on a phone. A
step's latency runs from the moment its update is queued at the fake Telegram server to the
moment the bot's answer reaches it. Afterwards every receipt is checked against the database.

Absolute times do not travel between machines, so the same 100 users, with the same pauses and
as many steps, also talk to a bare aiogram echo bot in the same round. Three rounds, each ours
then the echo bot's; the figures are the medians of the rounds: ``step_p50_ms``,
``step_p90_ms``, ``step_p99_ms``, the echo bot's, and each ratio ours over the echo bot's
(``step_p90_ratio`` aims <= 3), with ``reports_saved``, ``errors``, ``lost_reports`` (targets:
0 errors, 0 lost reports).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from bench.common import echo_bot, percentile_ms, use_fake_telegram  # noqa: E402
from bot.runner import Runtime, settle_heap  # noqa: E402
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


async def echo_baseline(officers: int, steps: int, seed: int) -> list[float]:
    """Step latencies (s) of a bare aiogram echo bot under the same users, pauses, steps."""
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
    return sorted(x for u in users for x in u.latencies)


@dataclass
class Round:
    """One run of ours and one of the echo bot, under the same load."""

    latencies: list[float]  # s
    echo: list[float]  # s
    saved: int
    receipts: int
    lost: int
    errors: list[str]
    elapsed: float

    def p(self, q: float, *, echo: bool = False) -> float:
        return percentile_ms(sorted(self.echo if echo else self.latencies), q)


async def one_round(officers_count: int, seed: int) -> Round:
    rng = random.Random(seed)
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
            settle_heap()  # as ``ntm-bot`` does once it serves
            for n in range(officers_count):
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
    echo = await echo_baseline(officers_count, steps, seed)
    numbers = {r.number for r in saved}
    receipts = [o.receipt for o in officers if o.receipt]
    return Round(
        latencies=[x for o in officers for x in o.latencies],
        echo=echo,
        saved=len(saved),
        receipts=len(receipts),
        lost=len([n for n in receipts if n not in numbers]),
        errors=[e for o in officers for e in o.errors],
        elapsed=elapsed,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--officers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="the median of this many runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rounds = []
    for n in range(args.rounds):  # ours then the echo bot, each round: the same machine load
        done = await one_round(args.officers, args.seed + n)
        rounds.append(done)
        print(
            f"round {n + 1}: {len(done.latencies)} steps in {done.elapsed:.1f} s; "
            f"p50/p90/p99 {done.p(0.5):.1f}/{done.p(0.9):.1f}/{done.p(0.99):.1f} ms, echo "
            f"{done.p(0.5, echo=True):.1f}/{done.p(0.9, echo=True):.1f}/"
            f"{done.p(0.99, echo=True):.1f} ms; {done.receipts} receipts, {done.saved} saved",
            flush=True,
        )
        for error in done.errors[:5]:
            print("error:", error)

    def median(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    figures: dict[str, object] = {}
    for q, name in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
        figures[f"step_{name}_ms"] = median([r.p(q) for r in rounds])
        figures[f"echo_step_{name}_ms"] = median([r.p(q, echo=True) for r in rounds])
        figures[f"step_{name}_ratio"] = median([r.p(q) / r.p(q, echo=True) for r in rounds])
    figures |= {
        "reports_saved": min(r.saved for r in rounds),
        "errors": sum(len(r.errors) for r in rounds),
        "lost_reports": sum(r.lost for r in rounds),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
