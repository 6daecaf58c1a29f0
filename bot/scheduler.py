"""When digests and reminders are due: checked every half minute against the (settable) clock.

Every send-out has a key (``digest:2021-W41``, ``reminder:bhyt:7``) stored with it, so a
restart never repeats one, and a digest missed while the bot was down goes out once when it
comes back (within the same week). A new installation starts with the next digest rather than
sending this week's the moment it is first started.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Callable

from bot.clock import Clock
from bot.settings import Settings
from handlers.broadcast import create_digest_job, create_reminder_job, due_reminders, week_key
from handlers.core import Deps
from storage.db import StorageError
from storage.retention import Pruned, prune, take_pruning_turn
from storage.sending import SendingRepo

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0  # seconds between two prunings (at start unless another instance just did)


class Scheduler:
    def __init__(
        self, deps: Deps, settings: Settings, clock: Clock, on_job: Callable[[], None]
    ) -> None:
        self.deps = deps
        self.settings = settings
        self.clock = clock
        self.on_job = on_job
        self._first_run: dt.datetime | None = None

    def digest_time(self, day: dt.date) -> dt.datetime:
        """This week's digest moment (weekday and time from the settings, local zone)."""
        monday = day - dt.timedelta(days=day.weekday())
        date = monday + dt.timedelta(days=self.settings.digest_weekday)
        return dt.datetime.combine(date, self.settings.digest_time, tzinfo=self.clock.tz)

    async def tick(self) -> list[int]:
        """Create the send-outs that are due now; returns their job ids."""
        now = self.clock.now()
        today = now.date()
        created: list[int] = []
        if self._first_run is None:
            self._first_run = await SendingRepo(self.deps.db).first_run(now)
        digest_time = self.digest_time(today)
        if digest_time <= now and digest_time >= self._first_run:
            job = await create_digest_job(self.deps, today, f"digest:{week_key(today)}")
            if job is not None:
                log.info("weekly digest %s created", week_key(today))
                created.append(job)
        if now.time() >= self.settings.digest_time:  # reminders go out from the morning on
            for deadline, offset in due_reminders(self.deps, today, self.settings.reminder_days):
                job = await create_reminder_job(self.deps, deadline, offset, today)
                if job is not None:
                    log.info("reminder %s (%s days) created", deadline.id, offset)
                    created.append(job)
        if created:
            self.on_job()
        return created

    async def prune(self) -> Pruned:
        """Forget what is old enough (retention settings); see :mod:`storage.retention`."""
        pruned = await prune(
            self.deps.db,
            self.clock.now(),
            keep_updates=dt.timedelta(days=self.settings.keep_updates_days),
            keep_dead_letters=dt.timedelta(days=self.settings.keep_dead_letters_days),
            # a photo waits in an open dialog at most its lifetime (each answer renews it)
            keep_unattached=max(dt.timedelta(days=3), 2 * self.deps.dialog_ttl),
        )
        if pruned.total:
            log.info("pruned old rows: %s", pruned)
        return pruned

    async def run(
        self, stop: asyncio.Event, every: float = 30.0, prune_every: float = PRUNE_EVERY
    ) -> None:
        last_prune = -math.inf
        while not stop.is_set():
            try:
                await self.tick()
                if time.monotonic() - last_prune >= prune_every:
                    last_prune = time.monotonic()
                    interval = dt.timedelta(seconds=prune_every)
                    # real time, not the (possibly pinned) clock: the mark must only move on
                    wall = dt.datetime.now(dt.UTC)
                    if await take_pruning_turn(self.deps.db, wall, interval):
                        await self.prune()
            except StorageError as exc:
                log.error("scheduler could not check what is due: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
