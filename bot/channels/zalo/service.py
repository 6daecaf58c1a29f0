"""What both Zalo channels do the same way: take updates in durably, answer them, in order.

An update is written to the inbox before the platform is told it arrived (the webhook's 200, or
the next poll), then handled in the background: concurrently across chats, in order within
one. The conversation's replies are recorded with its effects (``processed_updates``) and then
sent by :class:`~bot.channels.replies.ReplySender`; whatever a crash interrupts is handled or
sent at the next start. A redelivered ``message_id``/``msg_id`` takes effect once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from bot.channels.attempts import handle_or_set_aside, set_aside
from bot.channels.ordering import KeyedQueue
from bot.channels.replies import ReplySender
from bot.channels.throttle import Throttle
from bot.channels.zalo.shape import file_urls
from bot.sender import Transport
from bot.uploads import Offered
from handlers.core import Processor
from handlers.types import Incoming
from storage.db import StorageUnavailable
from storage.inbox import Inbox

log = logging.getLogger(__name__)


class ZaloService:
    def __init__(
        self,
        channel: str,
        processor: Processor,
        transport: Transport,
        inbox: Inbox,
        parse: Callable[[dict[str, Any]], Incoming | None],
        key_of: Callable[[dict[str, Any]], str],
        throttle: Throttle | None = None,
        fetch: Callable[[str, int], Awaitable[bytes]] | None = None,
    ) -> None:
        self.channel = channel
        self.processor = processor
        self.deps = processor.deps
        self.transport = transport
        self.inbox = inbox
        self.parse = parse
        self.key_of = key_of
        self.replies = ReplySender(channel, transport, processor)
        self.queue = KeyedQueue()
        self.throttle = throttle or Throttle(0)
        self.handled = 0
        self.fetch = fetch  # a file's URL, the byte limit → its bytes (None: files not taken)

    async def accept(self, update: Any) -> None:
        """Store one update, then handle it in the background. Raises
        :class:`~storage.db.StorageError` when it could not be stored (the platform should
        then deliver it again). An update of an unexpected shape is set aside, not raised."""
        key = self._key(update)
        raw = json.dumps(update, ensure_ascii=False)
        try:
            await self.inbox.store(self.channel, [(key, raw)])
        except StorageUnavailable as exc:
            # No writes possible (disk full, read-only): handling fails too, changing nothing,
            # and the user is asked to try again later.
            log.error(
                "%s: database unavailable (%s); the user is asked to retry", self.channel, exc
            )
        await self._schedule(key, update, raw)

    def _key(self, update: Any) -> str:
        """The update's key; one derived from its body when it has no usable one."""
        try:
            if isinstance(update, dict):
                return self.key_of(update)
        except Exception:  # an odd shape: its hash still identifies a redelivery
            log.debug("%s: no key in an update of an unexpected shape", self.channel)
        body = json.dumps(update, sort_keys=True, ensure_ascii=False)
        return "h:" + hashlib.sha256(body.encode()).hexdigest()[:32]

    async def _schedule(self, key: str, update: Any, raw: str, *, fresh: bool = True) -> None:
        """Parse and queue one update; ``fresh`` ones (not replayed) pass flood control."""
        try:
            incoming = self.parse(update) if isinstance(update, dict) else None
            odd = not isinstance(update, dict)
        except Exception as exc:
            incoming, odd = None, True
            error = f"{type(exc).__name__}: {exc}"
        else:
            error = "not a JSON object"
        if odd:
            log.error("%s update %s has an unexpected shape; set aside", self.channel, key)
            await set_aside(self.deps.db, self.channel, key, error, raw)
        if incoming is None:  # an event the bot does not answer, or set aside above
            self.inbox.done(self.channel, key)
            return
        offered = self._offered(update)
        # Photos sent together arrive as quick events, one each: they pass (and are taken in
        # only from registered people with a report or task mark open).
        verdict = await self.throttle.check(incoming.user_id) if fresh and not offered else None
        if verdict is not None and not verdict.allowed:  # dropped; the user is told now and then
            self.inbox.done(self.channel, key)
            if verdict.notify:
                await self.replies.send_throttled(incoming)
            return
        await self.queue.submit(
            (incoming.chat_id, incoming.user_id),
            partial(self._handle, key, incoming, raw, offered),
        )

    def _offered(self, update: dict[str, Any]) -> list[Offered]:
        """The files in an update (``message`` of either platform), to be fetched."""
        fetch = self.fetch
        if fetch is None:
            return []
        return [
            Offered(partial(fetch, url), None, name)
            for url, name in file_urls(update.get("message"))
        ]

    async def _handle(
        self, key: str, incoming: Incoming, raw: str, offered: Sequence[Offered] = ()
    ) -> None:
        await handle_or_set_aside(
            self.deps.db,
            self.channel,
            key,
            lambda: raw,
            partial(self.handle, incoming, offered),
        )
        self.handled += 1
        self.inbox.done(self.channel, key)

    async def handle(self, incoming: Incoming, offered: Sequence[Offered] = ()) -> None:
        await self.replies.handle(incoming, offered=offered)

    async def replay(self) -> None:
        """Handle updates a crash left in the inbox, then send replies left unsent. Where
        instances share the database, only those older than the lease: newer ones belong to
        running instances (:meth:`adopt_abandoned` takes them if their instance died)."""
        before = self._abandoned_before() if self.deps.db.dialect.shared else None
        left = await self.inbox.left_over(self.channel, before)
        if left:
            log.info("%s: handling %d updates received before the restart", self.channel, len(left))
            await self._schedule_again(left)
            await self.queue.drain()
            await self.inbox.clear_left_over(self.channel, before)
        await self.replies.send_pending()

    async def adopt_abandoned(self) -> int:
        """Updates another instance acknowledged to Zalo and stored but never handled (it
        died, its machine is gone): handled here, once. Returns how many."""
        left = await self.inbox.adopt(self.channel, self._abandoned_before())
        if left:
            log.warning("%s: handling %d updates a dead instance left", self.channel, len(left))
            await self._schedule_again(left)
        return len(left)

    def _abandoned_before(self) -> dt.datetime:
        """An update is handled within moments of being stored; one stored longer ago than
        the lease (``NTM_REPLY_LEASE_SECONDS``) was left by an instance that died."""
        return dt.datetime.now(dt.UTC) - self.deps.reply_lease

    async def _schedule_again(self, left: list[tuple[str, str]]) -> None:
        for key, body in left:
            try:
                update = json.loads(body)
            except ValueError as exc:
                await set_aside(self.deps.db, self.channel, key, f"bad JSON: {exc}", body)
                self.inbox.done(self.channel, key)
                continue
            await self._schedule(key, update, body, fresh=False)

    async def drain(self) -> None:
        await self.queue.drain()
        await self.inbox.flush()
