"""What both Zalo channels do the same way: take updates in durably, answer them, in order.

An update is written to the inbox before the platform is told it arrived (the webhook's 200, or
the next poll), then handled in the background: concurrently across chats, in order within
one. The conversation's replies are recorded with its effects (``processed_updates``) and then
sent through the channel's transport; whatever a crash interrupts is handled or sent at the
next start. A redelivered ``message_id``/``msg_id`` takes effect once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from bot.channels.ordering import KeyedQueue
from bot.sender import Rejected, RetryLater, Transport, Unreachable
from handlers.core import Delivery, Processor
from handlers.serialize import replies_from_payload
from handlers.types import Incoming
from storage.db import StorageUnavailable
from storage.inbox import Inbox

log = logging.getLogger(__name__)
MAX_WAIT = 30.0  # longest wait for a rate limit while someone is waiting for an answer
MAX_TRIES = 4


class ZaloService:
    def __init__(
        self,
        channel: str,
        processor: Processor,
        transport: Transport,
        inbox: Inbox,
        parse: Callable[[dict[str, Any]], Incoming | None],
        key_of: Callable[[dict[str, Any]], str],
    ) -> None:
        self.channel = channel
        self.processor = processor
        self.deps = processor.deps
        self.transport = transport
        self.inbox = inbox
        self.parse = parse
        self.key_of = key_of
        self.queue = KeyedQueue()
        self.handled = 0

    async def accept(self, update: dict[str, Any]) -> None:
        """Store one update, then handle it in the background. Raises
        :class:`~storage.db.StorageError` when it could not be stored (the platform should
        then deliver it again)."""
        key = self.key_of(update)
        try:
            await self.inbox.store(self.channel, [(key, json.dumps(update, ensure_ascii=False))])
        except StorageUnavailable as exc:
            # No writes possible (disk full, read-only): handling fails too, changing nothing,
            # and the user is asked to try again later.
            log.error(
                "%s: database unavailable (%s); the user is asked to retry", self.channel, exc
            )
        await self._schedule(key, update)

    async def _schedule(self, key: str, update: dict[str, Any]) -> None:
        incoming = self.parse(update)
        if incoming is None:  # an event the bot does not answer
            self.inbox.done(self.channel, key)
            return
        await self.queue.submit(
            (incoming.chat_id, incoming.user_id), partial(self._handle, key, incoming)
        )

    async def _handle(self, key: str, incoming: Incoming) -> None:
        try:
            await self.handle(incoming)
        except Exception:
            log.exception("%s update %s could not be handled", self.channel, key)
        self.handled += 1
        self.inbox.done(self.channel, key)

    async def handle(self, incoming: Incoming) -> None:
        try:
            delivery = await self.processor.process(incoming)
        except StorageUnavailable:
            log.warning("database unavailable while handling %s", incoming.update_key)
            reply = self.processor.unavailable_reply()
            for part in self.transport.parts(reply):
                await self._send(incoming.chat_id, part)
            return
        if delivery is not None:
            await self.deliver(delivery)

    async def deliver(self, delivery: Delivery) -> None:
        """Send the replies to one update and record the outcome."""
        updates = self.deps.updates
        try:
            for reply in delivery.replies:
                for part in self.transport.parts(reply):
                    await self._send(delivery.chat_id, part)
        except Unreachable as exc:
            log.info("%s chat %s cannot be reached: %s", self.channel, delivery.chat_id, exc)
            user = await self.deps.users.get(self.channel, delivery.chat_id)
            if user is not None:
                await self.deps.users.mark_unreachable(user.id)
            await updates.mark_failed(self.channel, delivery.update_key, str(exc), final=True)
            return
        except Rejected as exc:
            log.error("%s refused a message to %s: %s", self.channel, delivery.chat_id, exc)
            await updates.mark_failed(self.channel, delivery.update_key, str(exc), final=True)
            return
        except RetryLater as exc:
            log.error("%s: message to %s not sent yet: %s", self.channel, delivery.chat_id, exc)
            await updates.mark_failed(self.channel, delivery.update_key, str(exc), final=False)
            return
        updates.mark_sent(self.channel, delivery.update_key)

    async def _send(self, chat_id: str, part: Any) -> None:
        """One message, waiting out short rate limits and network hiccups."""
        for attempt in range(1, MAX_TRIES + 1):
            try:
                await self.transport.send_part(chat_id, part)
                return
            except RetryLater as exc:
                if attempt == MAX_TRIES:
                    raise  # the periodic retry takes it from here
                wait = min(exc.seconds, MAX_WAIT)
                log.warning("%s: %s; retrying in %.0f s", self.channel, exc, wait)
                await asyncio.sleep(wait)

    async def replay(self) -> None:
        """Handle updates a crash left in the inbox, then send replies left unsent."""
        left = await self.inbox.left_over(self.channel)
        if left:
            log.info("%s: handling %d updates received before the restart", self.channel, len(left))
            for _, body in left:
                update = json.loads(body)
                incoming = self.parse(update) if isinstance(update, dict) else None
                if incoming is not None:
                    await self._handle(self.key_of(update), incoming)
            await self.inbox.clear_left_over(self.channel)
        await self.send_pending()

    async def send_pending(self, *, failed_only: bool = False) -> int:
        """Send replies recorded but not sent (``failed_only``: whose sending failed before)."""
        items = await self.deps.updates.pending(self.channel, failed_only=failed_only)
        for item in items:
            replies, context = replies_from_payload(item.replies)
            await self.deliver(
                Delivery(self.channel, item.update_key, item.chat_id, replies, context)
            )
        return len(items)

    async def drain(self) -> None:
        await self.queue.drain()
        await self.inbox.flush()
