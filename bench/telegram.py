"""Updates per second through the whole Telegram stack, against a bare aiogram echo bot.

Both bots poll the same kind of fake Telegram server (tests/fakes/telegram.py) over HTTP on
127.0.0.1 and answer every update with sendMessage. Ours goes through every middleware, the
redelivery check, the conversation core and its transaction with the outbox, the Q&A engine
and HTML rendering; the echo bot is aiogram's ``start_polling`` with one handler. The ratio
cancels out the machine's speed. Last line: ``{"ours_ups", "echo_ups", "ratio"}`` (target ≥ 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from bench.common import echo_bot, use_fake_telegram  # noqa: E402
from bot.runner import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402

QUESTIONS = [
    "ai phụ trách tiêu chí 17.4",
    "hạn BHYT",
    "Phòng Tư pháp phụ trách gì",
    "việc đến hạn tháng 11",
    "tiêu chí 6",
    "who handles clean water",
    "mỗi xã phải có mấy sản phẩm OCOP",
    "tieu chi 3 thuy loi xa",
]


def push_load(fake: FakeTelegram, users: int, per_user: int) -> int:
    count = 0
    for round_ in range(per_user):
        for user in range(users):
            fake.push_text(10_000 + user, QUESTIONS[(user + round_) % len(QUESTIONS)])
            count += 1
    return count


def delivered(fake: FakeTelegram) -> int:
    return sum(len(messages) for messages in fake.messages.values())


async def measure_echo(users: int, per_user: int) -> float:
    async with echo_bot() as fake:
        total = push_load(fake, users, per_user)
        started = time.perf_counter()
        await fake.wait_until(lambda: delivered(fake) >= total, timeout=300)
        elapsed = time.perf_counter() - started
    return total / elapsed


async def measure_ours(users: int, per_user: int) -> float:
    fake = await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as tmp:
        use_fake_telegram(fake, Path(tmp), NTM_THROTTLE_SECONDS="0")
        async with Runtime(load_settings()):
            await asyncio.sleep(0.3)
            total = push_load(fake, users, per_user)
            started = time.perf_counter()
            await fake.wait_until(lambda: delivered(fake) >= total, timeout=300)
            elapsed = time.perf_counter() - started
    await fake.stop()
    return total / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="best of N runs each")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiogram").setLevel(logging.WARNING)
    echo = ours = 0.0
    for _ in range(args.rounds):  # interleaved, so both see the same machine load
        echo = max(echo, await measure_echo(args.users, args.per_user))
        ours = max(ours, await measure_ours(args.users, args.per_user))
    updates = args.users * args.per_user
    print(
        f"{updates} updates from {args.users} users, best of {args.rounds}: "
        f"ours {ours:.0f}/s, echo {echo:.0f}/s"
    )
    print(
        json.dumps(
            {"ours_ups": round(ours, 1), "echo_ups": round(echo, 1), "ratio": round(ours / echo, 3)}
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
