"""Concurrent across chats, in order within one: how every channel handles its updates."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable


class KeyedQueue:
    """Runs jobs concurrently, except that jobs with the same key run one after another."""

    def __init__(self, concurrency: int = 256) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._tails: dict[Hashable, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, key: Hashable, job: Callable[[], Awaitable[None]]) -> None:
        """Start ``job`` after the previous job of ``key``; waits while all slots are busy."""
        await self._slots.acquire()
        task = asyncio.ensure_future(self._after(self._tails.get(key), job))
        self._tails[key] = task
        self._tasks.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            if self._tails.get(key) is done:
                del self._tails[key]

        task.add_done_callback(finished)

    async def _after(
        self, previous: Awaitable[None] | None, job: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            if previous is not None:  # its failure is its own: this job runs all the same
                await asyncio.gather(previous, return_exceptions=True)
            await job()
        finally:
            self._slots.release()

    async def drain(self) -> None:
        """Wait until every submitted job has finished (graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
