"""Waiting longer after each failure (with jitter), shorter again once things work: for
channels that poll a platform. Written here, not taken from aiogram, so that a deployment
without Telegram does not import aiogram at all (its import is most of the bot's memory)."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass


@dataclass
class Backoff:
    min_delay: float = 1.0
    max_delay: float = 60.0
    factor: float = 1.6
    jitter: float = 0.1

    def __post_init__(self) -> None:
        self.next_delay = self.min_delay

    async def asleep(self) -> None:
        """Wait the current delay, then lengthen it (up to ``max_delay``)."""
        delay = self.next_delay
        await asyncio.sleep(delay * random.uniform(1 - self.jitter, 1 + self.jitter))
        self.next_delay = min(self.max_delay, delay * self.factor)

    def reset(self) -> None:
        self.next_delay = self.min_delay
