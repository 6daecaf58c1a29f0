"""Load: 200 people chatting at once, 10,000 updates, the bot in its own process.

The bot runs as ``python -m bot run`` (what is deployed) against the fake Telegram server in
this process. Each simulated user sends 50 messages drawn from the repository's question set
and the everyday commands (/help, /hanchot, /tieuchi, /donvi), one after another like a
person: they wait for the answer, then pause 0.5–1.0 s (more than the bot's per-user flood
limit). Latency runs from the moment an update is queued at the server to the moment the
first message of the answer reaches it. Errors: no answer within 15 s, or an apology for an
internal error. Peak RSS is the bot process's high-water mark (``VmHWM``).
Last line: ``{"load_p50_ms", "load_p99_ms", "load_errors", "peak_rss_mb",
"aiogram_import_rss_mb", "bot_share_mb", "telegram_ready_rss_mb", "zalo_only_ready_rss_mb"}``
(targets: 0 errors, the bot's own share <= 40 MB); ``aiogram_import_rss_mb`` is the baseline
measured in the same run (a process that only imports aiogram), ``bot_share_mb`` the peak
above it; the last two are the bot's RSS once ready with Telegram, and in a deployment with
Zalo only, which does not import aiogram.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import percentile_ms  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.telegram_util import bot_env  # noqa: E402

COMMANDS = ["/help", "/hanchot", "/tieuchi", "/donvi", "/start"]
APOLOGY = "đã có lỗi"
FIRST_USER = 40_000


def questions() -> list[str]:
    path = REPO / "tests" / "data" / "qa_cases.jsonl"
    return [json.loads(line)["q"] for line in path.read_text().splitlines() if line]


class User:
    def __init__(self, fake: FakeTelegram, user_id: int, messages: list[str], seed: float):
        self.fake, self.user_id, self.messages = fake, user_id, messages
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.errors: list[str] = []

    async def run(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, 2.0))
        for text in self.messages:
            before = len(self.fake.sent(self.user_id))
            queued = time.time()
            self.fake.push_text(self.user_id, text)
            try:
                messages = await self.fake.wait_for(self.user_id, before + 1, timeout=15)
            except AssertionError:
                self.errors.append(f"no answer to {text!r}")
                continue
            answer = messages[before]
            self.latencies.append(answer.sent_at - queued)
            if os.environ.get("LOAD_DEBUG") and answer.sent_at - queued > 0.5:
                print(f"slow {answer.sent_at - queued:.2f}s {text!r}", flush=True)
            if APOLOGY in answer.text.lower():
                self.errors.append(f"apology for {text!r}")
            await asyncio.sleep(self.rng.uniform(0.5, 1.0))


def aiogram_alone_mb() -> float:
    """The baseline: peak RSS of a process that only imports aiogram (its pydantic models)."""
    code = (
        "import aiogram.types, aiogram.methods\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


async def zalo_only_ready_mb() -> float:
    """The bot's RSS once ready in a deployment with the Zalo Bot API only."""
    from tests.fakes.zalo import FakeZaloBot
    from tests.zalo_util import zalo_env

    fake = await FakeZaloBot().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = zalo_env(Path(tmp), bot=fake)
            full = {k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "ZALO_"))}
            bot = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                env=full | env | {"PYTHONPATH": str(REPO)}, cwd=tmp,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            while not any("getUpdates" in call for call in fake.calls):  # the bot is up
                assert bot.returncode is None
                await asyncio.sleep(0.05)
            rss = peak_rss_mb(bot.pid)
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
    finally:
        await fake.stop()
    return rss


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = questions() + COMMANDS * 10
    per_user = args.updates // args.users
    fake = await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as tmp:
        env = bot_env(fake, Path(tmp)) | {"NTM_THROTTLE_SECONDS": "0.5", "NTM_LOG_LEVEL": "WARNING"}
        full = {k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "TELEGRAM_"))}
        log = Path(tmp) / "bot.log"
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=full | env | {"PYTHONPATH": str(REPO)},
            cwd=tmp,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        while not any(call[0] == "getUpdates" for call in fake.calls):  # the bot is up
            assert bot.returncode is None, log.read_text()
            await asyncio.sleep(0.05)
        idle_rss = peak_rss_mb(bot.pid)
        users = [
            User(fake, FIRST_USER + n, [rng.choice(pool) for _ in range(per_user)], rng.random())
            for n in range(args.users)
        ]
        started = time.perf_counter()
        await asyncio.gather(*(u.run() for u in users))
        elapsed = time.perf_counter() - started
        rss = peak_rss_mb(bot.pid)
        bot.send_signal(signal.SIGTERM)
        await bot.wait()
        crashed = "Traceback" in log.read_text(errors="replace")
    await fake.stop()
    latencies = sorted(x for u in users for x in u.latencies)
    errors = [e for u in users for e in u.errors] + (
        ["the bot logged a traceback"] if crashed else []
    )
    for error in errors[:5]:
        print("error:", error)
    p50, p99 = percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99)
    print(
        f"{len(users)} users, {len(latencies)} answers in {elapsed:.1f} s "
        f"({len(latencies) / elapsed:.0f} updates/s); bot exit code {bot.returncode}"
    )
    baseline = aiogram_alone_mb()
    zalo_only = await zalo_only_ready_mb()
    print(
        f"RSS {idle_rss:.0f} MB when ready, {rss:.0f} MB at most; "
        f"a process that only imports aiogram: {baseline:.0f} MB; "
        f"a Zalo-only deployment when ready: {zalo_only:.0f} MB"
    )
    print(
        json.dumps(
            {
                "load_p50_ms": round(p50, 2),
                "load_p99_ms": round(p99, 2),
                "load_errors": len(errors),
                "peak_rss_mb": round(rss, 1),
                "aiogram_import_rss_mb": round(baseline, 1),
                "bot_share_mb": round(rss - baseline, 1),
                "telegram_ready_rss_mb": round(idle_rss, 1),
                "zalo_only_ready_rss_mb": round(zalo_only, 1),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
