"""Handle one update a few times, then set it aside: one odd update never stops a channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from storage.db import StorageError, Store
from storage.deadletters import DeadLetters

log = logging.getLogger(__name__)
DELAYS = (0.2, 1.0)  # between the attempts: a passing fault (a locked database) clears


async def set_aside(db: Store, channel: str, key: str | None, error: str, raw: str) -> None:
    """Record an update that cannot be handled; never raises (the channel must go on)."""
    try:
        await DeadLetters(db).add(channel, key, error, raw, attempts=1)
    except StorageError as exc:
        log.error("%s update %s could not be set aside either: %s", channel, key, exc)


async def handle_or_set_aside(
    db: Store,
    channel: str,
    key: str | None,
    raw: Callable[[], str],
    handle: Callable[[], Awaitable[None]],
    delays: tuple[float, ...] = DELAYS,
) -> bool:
    """Run ``handle``; after ``len(delays) + 1`` failures keep the update as a dead letter
    (its error and ``raw()`` body), log it once, and return ``False``. Handling is one unit
    of work (core.Processor), so a failed attempt changed nothing and another is safe."""
    attempts = len(delays) + 1
    for attempt in range(1, attempts + 1):
        try:
            await handle()
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if attempt < attempts:
                log.debug("%s update %s failed (attempt %d): %s", channel, key, attempt, exc)
                await asyncio.sleep(delays[attempt - 1])
                continue
            log.error(
                "%s update %s could not be handled after %d attempts; set aside (see "
                "`ntm-bot db deadletters`)",
                channel,
                key,
                attempts,
                exc_info=exc,
            )
            try:
                await DeadLetters(db).add(
                    channel, key, f"{type(exc).__name__}: {exc}", raw(), attempts
                )
            except StorageError as stored:
                log.error("%s update %s could not be set aside: %s", channel, key, stored)
    return False
