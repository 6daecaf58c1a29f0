"""Taking in the files people send: fetched from the platform (never more than the limit),
checked by their content (:mod:`storage.photo_check`) and kept (:mod:`storage.media`) before
the conversation sees them, as :class:`~handlers.types.Upload` items on the ``Incoming``.

This happens outside the update's unit of work: fetching a photo takes a network round trip
that must not hold the database's write lock. A file kept for an update that then fails is an
orphan until the retention job prunes it; it is never half written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from handlers.core import PEOPLE, Conversation
from handlers.report_photos import NOT_EXPECTED, TOO_MANY, UNAVAILABLE, UNKNOWN_SENDER
from handlers.types import Incoming, Upload
from storage.db import StorageError
from storage.media import MediaRepo
from storage.photo_check import Reason, Refused, check

log = logging.getLogger(__name__)


class TooBig(Exception):
    """The platform's file is larger than the limit (found while fetching it)."""


MAX_WAITING = 30  # photos a person has sent that no report or task mark took yet
# fetch(limit) → the file's bytes; raises TooBig past ``limit`` bytes
Fetch = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True)
class Offered:
    """A file a channel received, not fetched yet."""

    fetch: Fetch
    size: int | None = None  # as the platform declared it (checked again while fetching)
    name: str = ""


class Intake:
    """Files are fetched only from a registered person, in a private chat, with a dialog open
    that takes files (a report, a task mark), and within a quota of photos not yet attached:
    anything else is answered without fetching or keeping a byte."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.deps = conversation.deps
        self.media = MediaRepo(self.deps.db)

    async def take(self, incoming: Incoming, offered: Sequence[Offered]) -> Incoming:
        """``incoming`` with its files taken in (kept, or refused with the reason)."""
        refused = await self._refused(incoming)
        uploads: list[Upload] = []
        for item in offered:
            if refused is not None:
                uploads.append(Upload(refused=refused, name=item.name))
            else:
                user = await self.deps.users.get(incoming.channel, incoming.user_id)
                assert user is not None
                if await self.media.waiting(user.id, self.deps.clock.now()) >= MAX_WAITING:
                    uploads.append(Upload(refused=TOO_MANY, name=item.name))
                else:
                    uploads.append(await self._one(item, user.id))
        return dataclasses.replace(incoming, files=tuple(uploads), kind="photo")

    async def _refused(self, incoming: Incoming) -> str | None:
        """Why no file of this message is wanted (``None``: they are)."""
        user = await self.deps.users.get(incoming.channel, incoming.user_id)
        if user is None or self.conversation.role_of(user) not in PEOPLE:
            return UNKNOWN_SENDER
        if incoming.is_group:
            return NOT_EXPECTED
        dialog = await self.deps.dialogs.get(user.id)
        if dialog is None or not self.conversation.takes_files(dialog.kind):
            return NOT_EXPECTED
        return None

    async def _one(self, item: Offered, user_id: int) -> Upload:
        limits = self.deps.upload_limits
        if item.size is not None and item.size > limits.max_bytes:
            return Upload(refused=Reason.TOO_BIG, name=item.name)
        try:
            data = await item.fetch(limits.max_bytes)
        except TooBig:
            return Upload(refused=Reason.TOO_BIG, name=item.name)
        except (StorageError, asyncio.CancelledError):
            raise
        except Exception as exc:  # the platform's error, whatever its library raises
            log.warning("could not fetch a file (%s): %s", item.name or "photo", exc)
            return Upload(refused=UNAVAILABLE, name=item.name)
        try:
            checked = await asyncio.to_thread(check, data, limits)
        except Refused as refused:
            log.info("file refused (%s): %s", item.name or "photo", refused)
            return Upload(refused=refused.reason, name=item.name)
        except Exception:  # a file Pillow trips over is a file it cannot read
            log.exception("file unreadable (%s)", item.name or "photo")
            return Upload(refused=Reason.UNREADABLE, name=item.name)
        media = await self.media.add(
            checked, user_id=user_id, filename=item.name, now=self.deps.clock.now()
        )
        return Upload(media_id=media.id, name=item.name)


class NotAllowed(Exception):
    """A file address the bot will not fetch (this machine, the local network, not http)."""


async def check_address(url: str, allowed_hosts: Sequence[str] = ()) -> None:
    """Refuse a URL that would make the bot fetch from itself or its network: the platform's
    event names the URL, and one forged or mistaken must not reach internal services."""
    import ipaddress

    parsed = urlsplit(url)
    host = (parsed.hostname or "").lower()
    if parsed.scheme not in ("http", "https") or not host:
        raise NotAllowed(f"not an http(s) address: {url[:80]}")
    if host in {h.lower() for h in allowed_hosts}:
        return
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parsed.port or 443)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses or not all(a.is_global for a in addresses):
        raise NotAllowed(f"{host} is not a public address")


async def fetch_url(
    session: aiohttp.ClientSession, url: str, limit: int, *, allowed_hosts: Sequence[str] = ()
) -> bytes:
    """The body at ``url`` (a public address, or a host in ``allowed_hosts``; no redirect
    followed), read in chunks and abandoned past ``limit`` bytes."""
    await check_address(url, allowed_hosts)
    timeout = aiohttp.ClientTimeout(total=60)
    async with session.get(url, timeout=timeout, allow_redirects=False) as response:
        response.raise_for_status()
        if response.content_length is not None and response.content_length > limit:
            raise TooBig(f"{response.content_length} bytes")
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body.extend(chunk)
            if len(body) > limit:
                raise TooBig(f"more than {limit} bytes")
        return bytes(body)
