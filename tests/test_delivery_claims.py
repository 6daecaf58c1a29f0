"""Two senders on one database never send the same message: deliveries are claimed (an atomic
UPDATE … RETURNING) before they are sent, claims are renewed as the sender goes, and the claims
of a sender that died are taken over once their lease has run out."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from bot.sender import Sender
from handlers.broadcast import create_digest_job
from handlers.types import Reply
from storage.db import Database
from storage.sending import SendingRepo
from tests.harness import harness
from tests.test_digest import add_officers

LEASE = dt.timedelta(minutes=5)


class Slow:
    """A transport that takes a moment per message, so two senders overlap."""

    channel = "test"

    def __init__(self, sent: list[tuple[str, str]]) -> None:
        self.sent = sent

    def parts(self, reply: Reply) -> list[Any]:
        return [reply.text] if reply.text else []

    async def send_part(self, chat_id: str, part: Any) -> None:
        await asyncio.sleep(0.002)
        self.sent.append((chat_id, part[:20]))


async def test_two_senders_on_one_database_send_each_message_once(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 40)
        h.clock.set(dt.datetime(2021, 10, 18, 8, 0))
        assert await create_digest_job(h.app.deps, h.clock.today(), "digest:manual") is not None
        sent: list[tuple[str, str]] = []
        # a second connection to the same file: another process (digest --send, an instance)
        async with Database(tmp_path / "h.sqlite3") as other:
            senders = [
                Sender(db, {"test": Slow(sent)}, rate=1000, per_chat=0, now=h.clock.now)
                for db in (h.app.db, other)
            ]
            assert senders[0].owner != senders[1].owner
            await asyncio.gather(*(s.drain() for s in senders))
        per_chat = Counter(chat for chat, _ in sent)
        assert len(per_chat) == 40 and set(per_chat.values()) == {1}  # each chat exactly once
        job = await SendingRepo(h.app.db).job("digest:manual")
        assert job is not None
        assert await SendingRepo(h.app.db).outcome(job.id) == {"sent": 40}


async def test_a_dead_senders_claims_are_taken_over_after_the_lease(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 5)
        await create_digest_job(h.app.deps, h.clock.today(), "digest:w42")
        repo = SendingRepo(h.app.db)
        now = h.clock.now()
        claimed = await repo.claim({"test"}, "dead-host:bot", now, LEASE)
        assert len(claimed) == 5  # … and then its process was killed
        assert await repo.claim({"test"}, "other-host:bot", now + LEASE / 2, LEASE) == []
        # the same bot restarted on its machine takes its own claims back at once
        assert len(await repo.claim({"test"}, "dead-host:bot", now, LEASE)) == 5
        later = now + LEASE + dt.timedelta(seconds=1)
        taken = await repo.claim({"test"}, "other-host:bot", later, LEASE)
        assert [d.id for d in taken] == [d.id for d in claimed]
        # the old owner, if it was only slow, finds out before sending anything more
        assert not await repo.renew(claimed[0].id, "dead-host:bot", later)
        assert await repo.renew(claimed[0].id, "other-host:bot", later)


async def test_a_sender_whose_claim_was_taken_over_stops(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 3)
        await create_digest_job(h.app.deps, h.clock.today(), "digest:w42")
        repo = SendingRepo(h.app.db)
        slow_sent: list[tuple[str, str]] = []
        slow = Sender(h.app.db, {"test": Slow(slow_sent)}, rate=1000, per_chat=0, now=h.clock.now)
        pending = await repo.claim({"test"}, slow.owner, h.clock.now(), LEASE)
        await repo.claim({"test"}, "thief", h.clock.now() + 2 * LEASE, LEASE)
        for delivery in pending:
            await slow._deliver(delivery)
        assert slow_sent == []  # nothing sent twice: the other sender has them now


async def test_the_claims_of_a_dead_sender_on_this_machine_are_freed_at_once(
    tmp_path: Path,
) -> None:
    """Another instance on the same machine (or a killed ``digest --send``): its process is
    gone, so its claims need not wait out the lease."""
    import os
    import socket

    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 4)
        await create_digest_job(h.app.deps, h.clock.today(), "digest:w42")
        repo = SendingRepo(h.app.db)
        host = socket.gethostname()
        dead = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
        now = h.clock.now()
        assert len(await repo.claim({"test"}, f"{host}:{dead}:a1b2c3", now, LEASE, 2)) == 2
        assert len(await repo.claim({"test"}, f"{host}:{os.getpid()}:running", now, LEASE, 1)) == 1
        assert len(await repo.claim({"test"}, "elsewhere:77:x", now, LEASE, 1)) == 1
        sent: list[tuple[str, str]] = []
        sender = Sender(h.app.db, {"test": Slow(sent)}, rate=1000, per_chat=0, now=h.clock.now)
        await sender.drain()
        assert len(sent) == 2  # the dead process's two; the live one's and the other machine's wait
        job = await repo.job("digest:w42")
        assert job is not None
        assert await repo.outcome(job.id) == {"sent": 2, "pending": 2}
