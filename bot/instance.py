"""One running process per instance name (``NTM_INSTANCE_ID``).

Instances sharing a database are told apart by their names: whose polling lease, whose claims
on replies and deliveries. Two processes started with the same name would each take the
other's claims as their own. So a named instance holds the lease ``instance:<name>`` with a
nonce of its own process beside the name, renewed while it runs; a second process with that
name sees the lease renewed by someone else and refuses to start, in one line. A process that
died (a crash, a kill) leaves a lease that is taken over at once on the same machine and after
``TTL`` from another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import secrets
import socket
import time

from bot.settings import ConfigError
from storage.db import Store
from storage.leases import LeaseRepo, process_gone

log = logging.getLogger(__name__)
TTL = dt.timedelta(seconds=20)
RENEW_EVERY = 4.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _process(holder: str) -> str:
    """``host:pid`` of a holder named ``name#host:pid:nonce``."""
    host, _, rest = holder.partition("#")[2].partition(":")
    return f"{host}:{rest.partition(':')[0]}"


class InstanceGuard:
    def __init__(self, db: Store, name: str) -> None:
        self.db = db
        self.name = name
        self.lease = f"instance:{name}"
        nonce = secrets.token_hex(6)
        self.owner = f"{name}#{socket.gethostname()}:{os.getpid()}:{nonce}"
        self.leases = LeaseRepo(db)

    async def claim(self) -> None:
        """Hold the name, or raise :class:`ConfigError` when a live process holds it: one
        that renews it while this one waits (at most ``TTL``)."""
        deadline = time.monotonic() + TTL.total_seconds() + RENEW_EVERY
        seen: tuple[str, str] | None = None
        told = False
        while True:
            async with self.db.transaction():
                holder = await self.leases.acquire(self.lease, self.owner, _now(), TTL)
                if holder is not None and self._gone(holder):
                    holder = None if await self.leases.take_from(
                        self.lease, holder, self.owner, _now(), TTL
                    ) else holder  # fmt: skip
                until = await self.leases.expires(self.lease) if holder else None
            if holder is None:
                return
            now = (holder, until or "")
            if seen is not None and seen[0] == holder and seen[1] != now[1]:
                raise ConfigError(self._refusal(holder))  # renewed meanwhile: it runs
            if time.monotonic() > deadline:
                raise ConfigError(self._refusal(holder))
            if not told:
                log.warning(
                    "NTM_INSTANCE_ID=%s is held by %s; waiting to see whether it still runs",
                    self.name,
                    _process(holder),
                )
                told = True
            seen = now
            await asyncio.sleep(min(1.0, RENEW_EVERY / 2))

    def _gone(self, holder: str) -> bool:
        """A holder whose process is known to be gone: it ran on this machine and no longer
        does, or it had this process's very host and pid (a container restarted, pid 1)."""
        process = _process(holder)
        mine = f"{socket.gethostname()}:{os.getpid()}"
        return process == mine or process_gone(process)

    def _refusal(self, holder: str) -> str:
        return (
            f"NTM_INSTANCE_ID: tên “{self.name}” đang được một tiến trình khác dùng"
            f" ({_process(holder)}); mỗi instance cần một tên riêng"
        )

    async def keep(self, stop: asyncio.Event) -> None:
        """Renew the name while running; give it back when stopping."""
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RENEW_EVERY)
                if stop.is_set():
                    break
                try:
                    async with self.db.transaction():
                        holder = await self.leases.acquire(self.lease, self.owner, _now(), TTL)
                    if holder is not None:
                        log.error("NTM_INSTANCE_ID=%s was taken by %s", self.name, holder)
                except Exception as exc:  # the database: the next round
                    log.warning("renewing the instance name failed: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                async with self.db.transaction():
                    await self.leases.release(self.lease, self.owner)
