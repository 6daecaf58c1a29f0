"""The one sender for digests, reminders and announcements, on every channel.

Deliveries wait in the database (see ``storage/sending.py``). The sender paces messages at
``rate`` per second across all chats of a channel (or the channel's own lower limit), leaves
``per_chat`` seconds between two messages to one chat, waits out flood control
(``retry_after``) for everyone on that channel, marks blocked users unreachable, and records
every outcome. Progress is written after each message, so after a crash it resumes
with the next message, not from the start.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from handlers.serialize import replies_from_payload
from handlers.types import Reply
from storage.db import StorageError, Store
from storage.files import FileStore
from storage.sending import PendingDelivery, SendingRepo
from storage.users import UserRepo

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
CLAIM_BATCH = 500  # deliveries claimed at a time: sent well within the lease at any rate


class DeliveryError(Exception):
    """A message could not be delivered."""


class RetryLater(DeliveryError):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


class Unreachable(DeliveryError):
    """The recipient blocked the bot, left, or is outside the platform's messaging window."""


class Rejected(DeliveryError):
    """The platform refused this message for good."""


class Transport(Protocol):
    channel: str

    def parts(self, reply: Reply) -> list[Any]:
        """The platform messages one reply becomes (text pieces, a photo, ...), in order."""

    async def send_part(self, chat_id: str, part: Any) -> None:
        """Send one; raise :class:`RetryLater`, :class:`Unreachable` or :class:`Rejected`."""


def channel_rate(transport: Transport, configured: float) -> float:
    """Messages per second for one channel: the setting, or the platform's lower limit."""
    limit = getattr(transport, "max_rate", None)
    return min(configured, limit) if limit else configured


@dataclass
class SendStats:
    sent: int = 0
    failed: int = 0
    unreachable: int = 0
    messages: int = 0
    started: float = 0.0
    finished: float = 0.0


class Sender:
    def __init__(
        self,
        db: Store,
        transports: dict[str, Transport],
        *,
        rate: float,
        per_chat: float,
        now: Callable[[], Any],
        concurrency: int = 64,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        owner: str | None = None,
    ) -> None:
        self.db = db
        # Who claims deliveries: this sender in this process on this machine.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = lease
        self.repo = SendingRepo(db)
        self.users = UserRepo(db)
        self.transports = transports
        self.intervals = {name: 1.0 / channel_rate(t, rate) for name, t in transports.items()}
        self.per_chat = per_chat
        self.now = now
        self.concurrency = concurrency
        self.wake = asyncio.Event()
        self._next_slot: dict[str, float] = dict.fromkeys(transports, 0.0)
        self._slot_lock = asyncio.Lock()
        self._blobs: dict[str, bytes] = {}
        self.stats = SendStats()

    def poke(self) -> None:
        self.wake.set()

    async def run(self, stop: asyncio.Event, idle: float = 5.0) -> None:
        while not stop.is_set():
            try:
                handled = await self.send_pending()
            except StorageError as exc:
                log.error("sender cannot read deliveries (%s); retrying", exc)
                handled = 0
            if handled:
                continue
            self.wake.clear()
            waiters = {asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())}
            await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def send_pending(self) -> int:
        """Claim a batch of pending deliveries and send them; returns how many were handled.
        Another sender on the same database (another instance, ``ntm-bot digest --send``)
        claims others: no message goes out twice."""
        await self.repo.release_abandoned()
        pending = await self.repo.claim(
            set(self.transports), self.owner, self.now(), self.lease, CLAIM_BATCH
        )
        if not pending:
            return 0
        if not self.stats.started:
            self.stats.started = time.monotonic()
        slots = asyncio.Semaphore(self.concurrency)

        async def one(delivery: PendingDelivery) -> None:
            async with slots:
                await self._deliver(delivery)

        await asyncio.gather(*(one(d) for d in pending))
        self._blobs.clear()  # a batch's files; a dossier's may be megabytes
        await self.repo.complete_jobs(self.now())
        self.stats.finished = time.monotonic()
        return len(pending)

    async def drain(self) -> None:
        while await self.send_pending():
            pass

    async def _slot(self, channel: str) -> None:
        """Wait for the channel's next sending slot (``rate`` per second)."""
        async with self._slot_lock:
            now = time.monotonic()
            start = max(now, self._next_slot[channel])
            self._next_slot[channel] = start + self.intervals[channel]
        if start > now:
            await asyncio.sleep(start - now)

    async def _pause_channel(self, channel: str, seconds: float) -> None:
        async with self._slot_lock:
            self._next_slot[channel] = max(self._next_slot[channel], time.monotonic() + seconds)

    async def _parts(self, transport: Transport, delivery: PendingDelivery) -> list[Any]:
        payload = dict(delivery.payload)
        items = []
        for item in payload.get("replies", []):
            for name in ("photo", "document"):
                attached = item.get(name)
                if attached and "blob" in attached:  # stored once per job
                    data = base64.b64encode(await self._blob(attached["blob"])).decode("ascii")
                    item = {**item, name: {**attached, "data": data}}
            items.append(item)
        replies, _ = replies_from_payload({"replies": items})
        return [part for reply in replies for part in transport.parts(reply)]

    async def _blob(self, digest: str) -> bytes:
        if digest not in self._blobs:
            self._blobs[digest] = await FileStore(self.db).get(digest) or b""
        return self._blobs[digest]

    async def _deliver(self, delivery: PendingDelivery) -> None:
        transport = self.transports[delivery.channel]
        parts = await self._parts(transport, delivery)
        index = delivery.progress
        attempts = delivery.attempts
        while index < len(parts):
            await self._slot(delivery.channel)
            if not await self.repo.renew(delivery.id, self.owner, self.now()):
                log.warning("delivery %s was taken over by another sender", delivery.id)
                return
            try:
                await transport.send_part(delivery.chat_id, parts[index])
            except RetryLater as exc:
                attempts = await self.repo.retry_later(delivery.id, str(exc))
                if attempts >= MAX_ATTEMPTS:
                    await self._finish(delivery, "failed", f"{exc} (đã thử {attempts} lần)")
                    return
                await self._pause_channel(delivery.channel, exc.seconds)
                continue
            except Unreachable as exc:
                await self._finish(delivery, "unreachable", str(exc))
                if delivery.user_id is not None:
                    await self.users.mark_unreachable(delivery.user_id)
                return
            except Rejected as exc:
                await self._finish(delivery, "failed", str(exc))
                return
            except Exception as exc:  # a bug or an unexpected reply: record it, keep going
                log.exception("delivery %s failed unexpectedly", delivery.id)
                await self._finish(delivery, "failed", f"{type(exc).__name__}: {exc}")
                return
            index += 1
            self.stats.messages += 1
            if index < len(parts):
                await self.repo.advance(delivery.id, index)
                await asyncio.sleep(self.per_chat)
        await self._finish(delivery, "sent", None)

    async def _finish(self, delivery: PendingDelivery, status: str, error: str | None) -> None:
        await self.repo.finish(delivery.id, status, self.now(), error)
        if status == "sent":
            self.stats.sent += 1
        elif status == "unreachable":
            self.stats.unreachable += 1
        else:
            self.stats.failed += 1
