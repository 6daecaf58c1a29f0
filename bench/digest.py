"""The weekly digest: how long it takes to build, and how fast it goes out.

1. Building: read the data, render the district digest and draw the BHYT chart, for the
   district's own communes and for 2,500 and 10,000 synthetic communes (the pair shows how
   the time grows), each with a year of weekly reports (BHYT coverage and criterion status in
   turn; BHYT reports within a month are corrections, as in real use). Median of several runs.
2. Sending: a digest to ``--recipients`` officers through the real aiogram client against the
   fake Bot API, which enforces Telegram's 30 messages/s with 429 ``retry_after``. The achieved
   rate (messages the server accepted per second, first to last) is compared with the
   configured ``NTM_SEND_RATE``; every message must arrive exactly once.

Last line: ``{"digest_32_ms", "digest_10000_ms", "send_rate_ratio", "lost", "duplicated",
"chart_only_ms", "digest_vs_chart"}`` (targets: 32 communes <= 300 ms with the chart, growth close
to linear, ratio >= 0.9, 0 and 0). Absolute times do not travel between machines:
``digest_vs_chart`` is the whole district digest over drawing the same chart alone, measured in
the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.app import open_app  # noqa: E402
from bot.runner import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.broadcast import create_digest_job  # noqa: E402
from handlers.core import Deps  # noqa: E402
from handlers.digest import digest_chart, district_digest, load_digest_data  # noqa: E402
from handlers.i18n import Tr  # noqa: E402
from storage.sending import SendingRepo  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.telegram_util import free_port  # noqa: E402

TODAY = dt.date(2021, 10, 18)
WEEKS = 52
CRITERIA = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"]


def _env(tmp: Path, name: str, **extra: str) -> None:
    os.environ.update(
        {
            "NTM_DB_PATH": str(tmp / f"{name}.sqlite3"),
            "NTM_TODAY": TODAY.isoformat(),
            "NTM_LOG_LEVEL": "WARNING",
            "NTM_WEBHOOK_HOST": "127.0.0.1",
            "NTM_WEBHOOK_PORT": str(free_port()),
            **extra,
        }
    )


async def _add_synthetic_communes(deps: Deps, count: int) -> None:
    rows = [(f"bench-{n}", f"Xã thử nghiệm {n}", "xa") for n in range(count)]
    async with deps.db.transaction():
        await deps.db.execute("UPDATE communes SET active = 0")
        await deps.db.executemany(
            "INSERT INTO communes (code, name, kind, active) VALUES (?, ?, ?, 1)", rows
        )
    deps.communes.forget()


async def _add_year_of_reports(deps: Deps, rng: random.Random) -> int:
    """One report per commune per week for a year before ``TODAY``."""
    user = await deps.users.ensure("bench", "officer", chat_id="officer")
    communes = await deps.communes.all()
    rows = []
    versions: Counter[tuple[int, str, str, str]] = Counter()
    for commune in communes:
        rate = rng.uniform(60, 90)
        for week in range(WEEKS, 0, -1):
            day = TODAY - dt.timedelta(weeks=week) + dt.timedelta(days=rng.randint(0, 4))
            if week % 2:
                rate = min(100.0, rate + rng.uniform(-0.5, 1.5))
                population = rng.randint(3000, 20000)
                form, subject, period = "bhyt", "", f"{day.year}-{day.month:02d}"
                answers: dict[str, Any] = {
                    "population": population,
                    "insured": int(population * rate / 100),
                }
                computed = {"rate": round(rate, 1)}
                meets: int | None = int(rate > 85)
            else:
                form, subject, period = "tieu-chi", f"xa:{rng.choice(CRITERIA)}", ""
                answers = {"status": rng.choice(["dat", "dang", "chua"])}
                computed, meets = {}, None
            versions[commune.id, form, subject, period] += 1
            rows.append(
                (
                    commune.id,
                    form,
                    subject,
                    period,
                    versions[commune.id, form, subject, period],
                    json.dumps(answers),
                    json.dumps(computed),
                    meets,
                    user.id,
                    "telegram",
                    f"{day.isoformat()}T01:00:00Z",
                    day.isoformat(),
                )
            )
    async with deps.db.transaction():
        await deps.db.executemany(
            "INSERT INTO reports (commune_id, form_id, subject, period, version, answers,"
            " computed, meets_target, submitted_by, channel, submitted_at, report_date)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows)


async def _build_once(deps: Deps) -> tuple[float, float]:
    """(ms for the whole digest with its chart, ms for drawing the same chart alone)."""
    tr = Tr(deps.translator, "vi")
    started = time.perf_counter()
    data = await load_digest_data(deps, TODAY)
    text = district_digest(deps.kb, data, tr, deps.kb.meta.district).plain()
    chart = await asyncio.to_thread(digest_chart, deps.kb, data, tr)
    elapsed = (time.perf_counter() - started) * 1000
    assert "Bản tin tuần" in text and chart is not None and chart[:4] == b"\x89PNG"
    started = time.perf_counter()
    await asyncio.to_thread(digest_chart, deps.kb, data, tr)  # the baseline: matplotlib's own work
    return elapsed, (time.perf_counter() - started) * 1000


async def build_time(
    tmp: Path, synthetic: int, runs: int, rng: random.Random
) -> tuple[float, int, float]:
    """Median ms to build the district digest with its chart; the number of communes; median
    ms to draw the chart alone."""
    _env(tmp, f"build-{synthetic}")
    async with open_app(load_settings()) as app:
        if synthetic:
            await _add_synthetic_communes(app.deps, synthetic)
        count = len(await app.deps.communes.all())
        reports = await _add_year_of_reports(app.deps, rng)
        print(f"{count} communes, {reports} reports stored", flush=True)
        await _build_once(app.deps)  # warm-up: imports, font cache
        times = [await _build_once(app.deps) for _ in range(runs)]
    whole = statistics.median(t for t, _ in times)
    return whole, count, statistics.median(c for _, c in times)


async def send_rate(tmp: Path, recipients: int, rate: float) -> tuple[float, int, int]:
    """(achieved / configured rate, lost, duplicated) for a digest to ``recipients`` officers."""
    fake = await FakeTelegram().start()
    fake.max_per_second = 30
    _env(
        tmp,
        "send",
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE=fake.base_url,
        NTM_SEND_RATE=str(rate),
        NTM_PER_CHAT_INTERVAL="1",
    )
    try:
        async with Runtime(load_settings()) as runtime:
            app = runtime.app
            assert app is not None and runtime.sender is not None
            communes = await app.deps.communes.all()
            for n in range(recipients):
                user = await app.deps.users.ensure(
                    "telegram", str(50_000 + n), chat_id=str(50_000 + n)
                )
                await app.deps.users.register(user.id, "officer", communes[n % len(communes)].id)
            job = await create_digest_job(app.deps, TODAY, "digest:bench")
            assert job is not None
            runtime.sender.poke()
            sending = SendingRepo(app.db)
            while (await sending.outcome(job)).get("pending", 0):  # noqa: ASYNC110 - polls the db
                await asyncio.sleep(0.2)
            outcome = await sending.outcome(job)
    finally:
        await fake.stop()
    messages = [m for chat in fake.messages.values() for m in chat]
    times = sorted(m.sent_at for m in messages)
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    per_chat = Counter(chat for chat, sent in fake.messages.items() for _ in sent)
    copies = Counter((chat, m.text) for chat, sent in fake.messages.items() for m in sent)
    reached = {chat for chat in per_chat if 50_000 <= chat < 50_000 + recipients}
    lost = max(recipients - len(reached), recipients - outcome.get("sent", 0))
    duplicated = sum(n - 1 for n in copies.values())
    print(
        f"sent {len(messages)} messages to {len(per_chat)} chats at {achieved:.1f}/s "
        f"(configured {rate:g}/s, server limit 30/s); outcome {outcome}; "
        f"429 answers: {fake.rate_limited}",
        flush=True,
    )
    return achieved / rate, lost, duplicated


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--synthetic", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--recipients", type=int, default=300)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        small, small_count, chart_only = await build_time(tmp, 0, args.runs, rng)
        print(
            f"district digest + chart, {small_count} communes: {small:.1f} ms "
            f"(the chart alone: {chart_only:.1f} ms)",
            flush=True,
        )
        quarter, quarter_count, _ = await build_time(tmp, args.synthetic // 4, 3, rng)
        print(f"district digest + chart, {quarter_count} communes: {quarter:.1f} ms", flush=True)
        large, large_count, _ = await build_time(tmp, args.synthetic, 3, rng)
        print(f"district digest + chart, {large_count} communes: {large:.1f} ms", flush=True)
        growth = (large / quarter) / (large_count / quarter_count)
        print(
            f"growth from {quarter_count} to {large_count} communes: time x{large / quarter:.2f} "
            f"for communes x{large_count / quarter_count:.0f} ({growth:.2f} of linear)",
            flush=True,
        )
        ratio, lost, duplicated = await send_rate(tmp, args.recipients, args.rate)
    print(
        json.dumps(
            {
                "digest_32_ms": round(small, 1),
                "digest_10000_ms": round(large, 1),
                "send_rate_ratio": round(ratio, 3),
                "lost": lost,
                "duplicated": duplicated,
                "chart_only_ms": round(chart_only, 1),
                "digest_vs_chart": round(small / chart_only, 2),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
