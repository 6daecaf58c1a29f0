"""What the benchmark scripts share: the bot's environment and percentiles."""

from __future__ import annotations

import math
import os
from pathlib import Path

from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import bot_env


def use_fake_telegram(fake: FakeTelegram, tmp: Path, **extra: str) -> dict[str, str]:
    """Point this process's settings at the fake server and a scratch database."""
    env = bot_env(fake, tmp, NTM_LOG_LEVEL="WARNING", **extra)
    os.environ.update(env)
    return env


def percentile_ms(sorted_seconds: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted measurements (seconds), in milliseconds."""
    if not sorted_seconds:
        return 0.0
    index = max(0, math.ceil(len(sorted_seconds) * fraction) - 1)
    return sorted_seconds[index] * 1000
