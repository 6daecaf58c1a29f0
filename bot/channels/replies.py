"""Sending the replies to one update, the same way on every chat channel.

A channel's transport (the one the sender uses for digests) turns a reply into platform
messages and maps the platform's errors to outcomes; here short waits are sat out, the outcome
is recorded in ``processed_updates`` (sent; failed for good; or failed for now, for the
periodic retry) and a user who blocked the bot is marked unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.sender import Rejected, RetryLater, Transport, Unreachable
from bot.uploads import Intake, Offered
from handlers.core import Delivery, Processor
from handlers.serialize import replies_from_payload
from handlers.types import Incoming, Reply
from storage.db import StorageUnavailable

log = logging.getLogger(__name__)
MAX_WAIT = 30.0  # the longest wait for a rate limit while someone is waiting for an answer
MAX_TRIES = 4

# Given the delivery, one of its replies and that reply's parts: the parts still to send
# (Telegram edits the message a button was on instead of sending the first part anew).
EditHook = Callable[[Delivery, Reply, list[Any]], Awaitable[list[Any]]]


class ReplySender:
    def __init__(
        self,
        channel: str,
        transport: Transport,
        processor: Processor,
        *,
        edit: EditHook | None = None,
    ) -> None:
        self.channel = channel
        self.transport = transport
        self.processor = processor
        self.deps = processor.deps
        self.edit = edit
        self.intake = Intake(processor.conversation)

    async def handle(
        self,
        incoming: Incoming,
        context: dict[str, Any] | None = None,
        offered: Sequence[Offered] = (),
    ) -> None:
        """Process one update (its files taken in first) and send its replies: "thử lại
        sau" when the database is out of reach, the recorded replies again for an update
        delivered twice."""
        try:
            if offered:
                incoming = await self.intake.take(incoming, offered)
            delivery = await self.processor.process(incoming, context)
        except StorageUnavailable:
            await self.send_unavailable(incoming)
            return
        if delivery is not None:
            await self.deliver(delivery)
        else:
            await self.settle_redelivery(incoming)

    async def deliver(self, delivery: Delivery) -> None:
        """Send the replies to one update and record the outcome."""
        updates = self.deps.updates
        try:
            for reply in delivery.replies:
                parts = self.transport.parts(reply)
                if reply.edit and self.edit is not None:
                    parts = await self.edit(delivery, reply, parts)
                for part in parts:
                    await self.send_part(delivery.chat_id, part)
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
        await updates.confirm_sent(self.channel, delivery.update_key)

    async def settle_redelivery(self, incoming: Incoming) -> None:
        """An update handled before arrived again. With several instances (PostgreSQL) the
        one that handled it may have died before its replies went out: wait until they are
        confirmed sent, or send them here once their claim has run out. The platform gets
        its answer (and the person's next message) only then, so answers keep their order."""
        updates = self.deps.updates
        key = incoming.update_key
        if key is None or not self.deps.db.dialect.shared:
            return  # one process: its own replies are on their way, or resent at restart
        deadline = time.monotonic() + updates.lease.total_seconds() + 5
        while time.monotonic() < deadline:
            state = await updates.take_over(self.channel, key)
            if state is True:
                return
            if state is not False:
                replies, context = replies_from_payload(state.replies)
                log.info(
                    "%s: sending the replies of %s left by another instance", self.channel, key
                )
                await self.deliver(Delivery(self.channel, key, state.chat_id, replies, context))
                return
            await asyncio.sleep(0.1)

    async def send_part(self, chat_id: str, part: Any) -> None:
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

    async def send_unavailable(self, incoming: Incoming) -> None:
        """The polite "try again later" when the database takes no writes (not recorded:
        there is nothing to record it in)."""
        log.warning("database unavailable while handling %s", incoming.update_key)
        reply = self.processor.unavailable_reply(await self._lang_of(incoming.user_id))
        await self.send_notice(incoming.chat_id, reply)

    async def send_throttled(self, incoming: Incoming) -> None:
        """ "You are sending too fast": the message was dropped, not handled."""
        reply = self.processor.throttled_reply(await self._lang_of(incoming.user_id))
        await self.send_notice(incoming.chat_id, reply)

    async def send_notice(self, chat_id: str, reply: Reply) -> None:
        """A reply that is not the answer to an update (nothing recorded, best effort)."""
        try:
            for part in self.transport.parts(reply):
                await self.send_part(chat_id, part)
        except (Unreachable, Rejected, RetryLater) as exc:
            log.warning("could not send a notice to %s: %s", chat_id, exc)

    async def _lang_of(self, user_id: str) -> str | None:
        try:
            user = await self.deps.users.get(self.channel, user_id)
        except Exception:  # the database is what failed
            return None
        return user.lang if user else None

    async def send_pending(self, *, failed_only: bool = False) -> int:
        """Send replies recorded but not sent: left by a crash, or (``failed_only``) whose
        sending failed before."""
        items = await self.deps.updates.pending(self.channel, failed_only=failed_only)
        for item in items:
            replies, context = replies_from_payload(item.replies)
            await self.deliver(
                Delivery(self.channel, item.update_key, item.chat_id, replies, context)
            )
        if items:
            log.info("%s: sent %d replies that were waiting", self.channel, len(items))
        return len(items)
