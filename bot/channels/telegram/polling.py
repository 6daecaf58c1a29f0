"""Long polling that loses nothing: each batch is stored before it is confirmed.

aiogram's ``start_polling`` confirms a batch (the next ``getUpdates`` offset) as soon as it has
started the handlers, so a crash mid-batch loses those updates; waiting for a batch to finish
before fetching the next one is safe but slow. Here a fetched batch is handled at once,
concurrently and in order within each chat, while it is written to the inbox table in one
statement; it is confirmed only once written.
Whatever a crash leaves in the inbox is handled at the next start, and the processed-updates
record makes every update take effect once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial

from aiogram import Bot, Dispatcher
from aiogram.exceptions import ClientDecodeError, TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.channels.attempts import handle_or_set_aside, set_aside
from bot.channels.ordering import KeyedQueue
from storage.db import StorageError, StorageUnavailable
from storage.inbox import Inbox

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def conversation_key(update: Update) -> tuple[int, int]:
    """Updates with the same key are handled one after another, in order."""
    if update.message is not None:
        user = update.message.from_user.id if update.message.from_user else 0
        return update.message.chat.id, user
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat.id if query.message is not None else query.from_user.id
        return chat, query.from_user.id
    return 0, update.update_id


class Poller:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        inbox: Inbox,
        *,
        timeout: int = 25,
        concurrency: int = 256,
        backoff: BackoffConfig | None = None,
    ) -> None:
        self.bot = bot
        self.dp = dispatcher
        self.inbox = inbox
        self.timeout = timeout
        self.backoff = Backoff(
            backoff or BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.6, jitter=0.1)
        )
        self.handled = 0
        self.queue = KeyedQueue(concurrency)
        self._skip_to: int | None = None  # the offset past updates set aside while fetching

    async def run(self, stop: asyncio.Event) -> None:
        await self.replay()
        offset: int | None = None
        allowed = self.dp.resolve_used_update_types()
        while not stop.is_set():
            request = GetUpdates(offset=offset, timeout=self.timeout, allowed_updates=allowed)
            updates = await self._fetch(request, stop)
            if updates is None:
                break
            skip, self._skip_to = self._skip_to, None
            if not updates:
                offset = skip if skip is not None else offset
                continue
            # The batch is written while its updates are already being handled (a person
            # waits on every step for the write lock otherwise); only confirming it to
            # Telegram (the next fetch's offset) waits for it to be stored. Its handlers are
            # started first: they run before the batch is even serialised for the inbox.
            self.inbox.expect(CHANNEL, [str(u.update_id) for u in updates])
            stored = asyncio.ensure_future(self._store(updates))  # (it yields to them first)
            for update in updates:
                await self.queue.submit(conversation_key(update), partial(self.handle, update))
            try:
                await stored
            except StorageUnavailable as exc:
                # The database takes no writes (disk full, read-only): handling these fails
                # too, with nothing changed, and each user is asked to try again later.
                log.error("database unavailable (%s); asking %d users to retry", exc, len(updates))
            except StorageError as exc:
                # Not stored means not confirmed: Telegram keeps them until this works again
                # (and delivers them again; those handled meanwhile are known as handled).
                log.error("cannot store received updates (%s); retrying", exc)
                await self.backoff.asleep()
                continue
            offset = max(updates[-1].update_id + 1, skip or 0)
        await self.drain()
        if offset is not None:
            try:  # confirm the last batch, so a restart does not receive it again
                await self.bot(
                    GetUpdates(offset=offset, timeout=0, limit=1, allowed_updates=allowed)
                )
            except Exception as exc:
                log.info("could not confirm the last updates at shutdown: %s", exc)
        await self.inbox.flush()

    async def _store(self, updates: list[Update]) -> None:
        await asyncio.sleep(0)  # the batch's handlers, started after this task, run first
        rows = [(str(u.update_id), u.model_dump_json(exclude_unset=True)) for u in updates]
        await self.inbox.store(CHANNEL, rows)

    async def _fetch(self, request: GetUpdates, stop: asyncio.Event) -> list[Update] | None:
        """The next batch; ``[]`` after an error; ``None`` when asked to stop."""
        fetch = asyncio.ensure_future(self.bot(request, request_timeout=self.timeout + 15))
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            return None
        stopping.cancel()
        try:
            updates = fetch.result()
        except TelegramUnauthorizedError:
            raise
        except TelegramRetryAfter as exc:
            log.warning("getUpdates: flood control, waiting %s s", exc.retry_after)
            await asyncio.sleep(exc.retry_after)
            return []
        except ClientDecodeError as exc:
            salvaged = await self._salvage(exc.data)
            if salvaged is not None:
                self.backoff.reset()
                return salvaged
            log.error("getUpdates answered something unreadable; retrying")
            await self.backoff.asleep()
            return []
        except Exception as exc:  # network, 5xx, bad JSON: the bot must keep running
            log.error(
                "getUpdates failed (%s: %s); retrying in %.1f s",
                type(exc).__name__,
                exc,
                self.backoff.next_delay,
            )
            await self.backoff.asleep()
            return []
        self.backoff.reset()
        return list(updates)

    async def _salvage(self, data: object) -> list[Update] | None:
        """A batch that failed to parse as a whole: the updates that do parse, each other one
        set aside as a dead letter (the offset then moves past it); ``None`` if the answer
        holds no updates at all."""
        items = data.get("result") if isinstance(data, dict) else None
        if not isinstance(items, list):
            return None
        good: list[Update] = []
        last_id: int | None = None
        for item in items:
            number = item.get("update_id") if isinstance(item, dict) else None
            if isinstance(number, int):
                last_id = max(last_id or number, number)
            try:
                good.append(Update.model_validate(item, context={"bot": self.bot}))
            except ValueError as exc:
                raw = json.dumps(item, ensure_ascii=False, default=str)
                key = str(number) if number is not None else None
                log.error("telegram update %s has an unexpected shape; set aside", key)
                await set_aside(self.inbox.db, CHANNEL, key, f"{type(exc).__name__}: {exc}", raw)
        if last_id is not None:
            self._skip_to = last_id + 1
        return good

    async def handle(self, update: Update) -> None:
        await handle_or_set_aside(
            self.inbox.db,
            CHANNEL,
            str(update.update_id),
            lambda: update.model_dump_json(exclude_unset=True),
            partial(self.dp.feed_update, self.bot, update),
        )
        self.handled += 1
        self.inbox.done(CHANNEL, str(update.update_id))

    async def drain(self) -> None:
        """Wait for updates being handled (graceful shutdown)."""
        await self.queue.drain()

    async def replay(self) -> None:
        """Handle updates a crash left in the inbox, in arrival order."""
        left = await self.inbox.left_over(CHANNEL)
        if not left:
            return
        log.info("handling %d updates received before the restart", len(left))
        for key, body in left:
            try:
                update = Update.model_validate_json(body, context={"bot": self.bot})
            except ValueError as exc:  # stored by an older version, or damaged: set aside
                await set_aside(self.inbox.db, CHANNEL, key, f"{type(exc).__name__}: {exc}", body)
                continue
            await self.handle(update)
        await self.inbox.clear_left_over(CHANNEL)
