"""Polling with one instance only. Telegram's getUpdates (and Zalo's) serve one poller: a
second instance polling the same bot would steal updates or get 409 Conflict. Each poller holds
a lease in the database; another instance says so in its log, does not poll, and takes over
when the holder stops. Several instances belong behind webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from storage.db import StorageError, Store
from storage.leases import LeaseRepo, process_gone

log = logging.getLogger(__name__)
TTL = dt.timedelta(seconds=60)
RENEW_EVERY = 15.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def poll_exclusively(
    db: Store,
    name: str,
    owner: str,
    poll: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    *,
    ttl: dt.timedelta | None = None,
    renew_every: float | None = None,
) -> None:
    """Run ``poll`` while holding the lease ``poll:<name>``; otherwise wait for it."""
    ttl = ttl or TTL
    renew_every = renew_every or RENEW_EVERY
    leases = LeaseRepo(db)
    lease = f"poll:{name}"
    waiting_for: str | None = None
    while not stop.is_set():
        try:
            holder = await leases.acquire(lease, owner, _now(), ttl)
            if (
                holder is not None
                and process_gone(holder)
                and await leases.take_from(lease, holder, owner, _now(), ttl)
            ):
                holder = None
        except StorageError as exc:  # the database is away: ask again later
            log.warning("%s: cannot ask who polls (%s); trying again", name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), renew_every)
            continue
        if holder is not None:
            if holder != waiting_for:
                log.warning(
                    "%s: another instance (%s) is polling with this database; this one does "
                    "not poll and takes over if it stops. Polling serves one instance: use "
                    "webhooks to run several.",
                    name,
                    holder,
                )
                waiting_for = holder
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), renew_every)
            continue
        if waiting_for is not None:
            log.warning("%s: the other instance stopped; this one polls now", name)
            waiting_for = None
        await _poll_while_held(leases, lease, owner, poll, stop, ttl, renew_every)


async def _poll_while_held(
    leases: LeaseRepo,
    lease: str,
    owner: str,
    poll: Callable[[asyncio.Event], Awaitable[None]],
    stop: asyncio.Event,
    ttl: dt.timedelta,
    renew_every: float,
) -> None:
    halt = asyncio.Event()
    unreachable = False
    polling = asyncio.ensure_future(poll(halt))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while not polling.done() and not stop.is_set():
            await asyncio.wait(
                {polling, stopping}, timeout=renew_every, return_when="FIRST_COMPLETED"
            )
            if polling.done() or stop.is_set():
                break
            try:
                holder = await leases.acquire(lease, owner, _now(), ttl)
            except StorageError as exc:
                # The database is away: no other instance can take the lease meanwhile, and
                # what is polled waits to be stored. Keep polling; renew when it is back.
                if not unreachable:
                    log.warning("cannot renew the polling lease (%s); polling on", exc)
                unreachable = True
                continue
            if unreachable:
                log.warning("the polling lease is renewed again")
                unreachable = False
            if holder is not None:
                log.error("lost the polling lease to %s; this instance stops polling", holder)
                break
    finally:
        halt.set()
        stopping.cancel()
        try:
            await polling  # its errors are the runtime's to see
        finally:
            with contextlib.suppress(StorageError):
                await leases.release(lease, owner)
