"""Three bot instances on one PostgreSQL database behind a round-robin forwarder (the test's own,
standing for Caddy). 100 people (thirty commune officers, seventy units' staff) send 1,000
updates, some delivered twice to different instances at the same moment (Telegram retrying):
questions, and thirty BHYT report dialogs whose steps land on any instance. The week's digest
is due when the instances start; in the second half the office announces something to all 100,
and the instance sending it is killed with SIGKILL while it sends and people keep writing, then
restarted as a supervisor would.

While the three run, every update is answered exactly once, in order, concurrent redeliveries
included, and the digest reaches each person once. Across the kill nothing is lost and the
order holds: the forwarder tries the next instance (as a proxy does); the replies and
deliveries the dead one had claimed but not sent are sent by the others once their claim runs
out (a person's redelivery waits for that, so their next answer comes after); each confirmed
report is stored once; the restart sends no second digest. A message the dead instance sent in
its last milliseconds, before recording it, goes out once more: sending to Telegram and
recording it cannot be one atomic step (at least once, never lost); the test allows that one
message per person and kind (a reply, a delivery), sent just before the kill, nothing more."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.cli_util import start_bot
from tests.conftest import fresh_pg_database
from tests.fakes.telegram import FakeTelegram, SentMessage
from tests.telegram_util import free_port, text_update

pytestmark = pytest.mark.slow  # three processes, a PostgreSQL cluster

SECRET = "instances-test-secret-0123456789"
USERS = 100
PER_USER = 10
ANSWER = re.compile(r"Tiêu chí (\d+) \(cấp xã\)")


class Forwarder:
    """Round-robin over the live instances; a refused connection goes to the next one."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.dead: set[int] = set()
        self._turn = itertools.count()
        self.retried = 0

    def urls(self) -> list[str]:
        live = [p for p in self.ports if p not in self.dead]
        start = next(self._turn) % len(live)
        ordered = live[start:] + live[:start]
        return [f"http://127.0.0.1:{p}/tg/hook" for p in ordered]

    async def post(
        self, http: aiohttp.ClientSession, update: dict[str, Any], skip: int = 0
    ) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        urls = self.urls()
        urls = urls[skip % len(urls) :] + urls[: skip % len(urls)]
        for url in urls:
            try:
                async with http.post(url, json=update, headers=headers) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            self.retried += 1
        raise AssertionError(f"no instance took update {update['update_id']}")


def instance_env(fake: FakeTelegram, port: int, n: int, **extra: str) -> dict[str, str]:
    """One webhook-mode instance on ``port`` (named ``bot<n>``) talking to the fake server."""
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://ntm.example.org/tg/hook",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "NTM_WEBHOOK_HOST": "127.0.0.1",
        "NTM_WEBHOOK_PORT": str(port),
        "NTM_INSTANCE_ID": f"bot{n}",
        "NTM_TODAY": "2021-10-15",
        "NTM_THROTTLE_SECONDS": "0",
        **extra,
    }


def update_for(user: int, n: int, update_id: int) -> dict[str, Any]:
    """The person's ``n``-th question: answered with commune criterion ``n``."""
    return text_update(user, f"tiêu chí xã {n}", update_id)


OFFICERS = 30  # the first thirty people: officers of thirty communes; the others: units' staff
ADMIN = 9_000
FIRST = 10_000
DIGEST = "Bản tin tuần"
NOTICE = "Thông báo của Văn phòng NTM huyện"


def figures(person: int) -> tuple[int, int]:
    """The BHYT report of officer ``person``: population and insured."""
    population = 12_000 + 37 * person
    return population, population - 1_000 - person


def dotted(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def script(person: int) -> list[str]:
    """What ``person`` sends, one update each: questions, and for an officer a BHYT report
    (a command, two figures, the tap on "Gửi báo cáo") in the first half of the traffic for
    half of them and across the kill for the other half."""
    steps = [f"tiêu chí xã {n}" for n in range(1, PER_USER + 1)]
    if person < OFFICERS:
        population, insured = figures(person)
        start = 1 if person % 2 == 0 else 5
        steps[start : start + 4] = ["/baocao bhyt", dotted(population), dotted(insured), "TAP"]
    return steps


def questions(person: int) -> list[int]:
    return [int(s.split()[-1]) for s in script(person) if s.startswith("tiêu chí")]


async def register_district(url: str, monkeypatch: pytest.MonkeyPatch) -> dict[int, int]:
    """People registered beforehand with their profile (invites are tested elsewhere): officers
    of thirty communes, the others the district units' staff. The scheduler first ran on the
    Monday, so this Friday's digest is due when the instances start. Returns officer →
    commune id."""
    from bot.app import open_app
    from bot.settings import load_settings
    from storage.sending import SendingRepo

    monkeypatch.setenv("NTM_DATABASE_URL", url)
    monkeypatch.setenv("NTM_TODAY", "2021-10-15")
    communes: dict[int, int] = {}
    async with open_app(load_settings()) as app:
        all_communes = await app.deps.communes.all()
        units = app.deps.kb.staffed_units
        for person in range(USERS):
            chat = str(FIRST + person)
            user = await app.deps.users.ensure("telegram", chat, chat_id=chat)
            if person < OFFICERS:
                communes[person] = all_communes[person].id
                await app.deps.users.register(user.id, "officer", communes[person])
                await app.deps.users.set_profile(user.id, f"Cán bộ {person}", "Công chức")
            else:
                unit = units[person % len(units)].key
                await app.deps.users.register(user.id, "unit", None, unit)
                await app.deps.users.set_profile(user.id, f"Chuyên viên {person}", None)
        monday = dt.datetime(2021, 10, 11, tzinfo=app.clock.tz)
        await SendingRepo(app.db).first_run(monday)
    return communes


async def wait_healthy(http: aiohttp.ClientSession, port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                if health.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        await asyncio.sleep(0.1)


async def wait_for(missing: Any, timeout: float = 90) -> None:
    """Until ``await missing()`` says nothing is missing (an empty string)."""
    deadline = time.monotonic() + timeout
    while lacking := await missing():
        assert time.monotonic() < deadline, f"not reached in {timeout} s: {lacking}"
        await asyncio.sleep(0.1)


def button(fake: FakeTelegram, chat: int, label: str) -> SentMessage | None:
    """The newest message in ``chat`` with a button labelled ``label…`` (edits included)."""
    for message in reversed(fake.sent(chat)):
        if any(text.startswith(label) for text, _ in message.buttons):
            return message
    return None


async def tap(
    fake: FakeTelegram, chat: int, label: str, update_id: int, *, timeout: float = 60
) -> dict[str, Any]:
    """The update of a tap on ``label`` once the message carrying it has arrived."""
    deadline = time.monotonic() + timeout
    while (message := button(fake, chat, label)) is None:
        got = [m.text[:60] for m in fake.sent(chat)]
        assert time.monotonic() < deadline, f"chat {chat}: no {label!r} button in {got}"
        await asyncio.sleep(0.05)
    data = next(d for text, d in message.buttons if text.startswith(label))
    return {"update_id": update_id, **fake.callback_query(chat, message, data)}


async def test_three_instances_lose_nothing_and_do_everything_once_across_a_kill(
    pg_cluster: str, fake_telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Questions, report dialogs, the weekly digest and an announcement, on three instances;
    the instance sending the announcement is killed (SIGKILL) while it sends, and restarted
    as a supervisor would."""
    import asyncpg

    async with fresh_pg_database(pg_cluster) as url:
        communes = await register_district(url, monkeypatch)
        ports = [free_port() for _ in range(3)]
        envs = []
        for n, port in enumerate(ports):
            env = instance_env(
                fake_telegram, port, n,
                NTM_DATABASE_URL=url,
                NTM_ADMIN_IDS=str(ADMIN),
                # this Friday's digest is due at once (the scheduler first ran on Monday)
                NTM_DIGEST_WEEKDAY="4",
                NTM_DIGEST_TIME="00:00",
                NTM_SEND_RATE="15",
                # the killed instance's unsent replies and deliveries go out within seconds
                NTM_REPLY_LEASE_SECONDS="10",
                NTM_REPLY_RETRY_SECONDS="0.5",
                NTM_DELIVERY_LEASE_SECONDS="3",
            )  # fmt: skip
            envs.append(env)
        logs = [tmp_path / f"bot{n}.log" for n in range(3)]
        processes = [await start_bot(env, log) for env, log in zip(envs, logs, strict=True)]
        forwarder = Forwarder(ports)
        db = await asyncpg.connect(url)
        ids = itertools.count(1)
        announcing = asyncio.Event()  # the announcement is being sent
        three_quarters = asyncio.Event()  # of the updates have been sent: the kill
        sent = 0
        kill_time = 0.0
        victim = -1

        def received(chat: int, text: str) -> list[SentMessage]:
            return [m for m in fake_telegram.sent(chat) if text in m.text]

        async def digest_delivered() -> str:
            waiting = [p for p in range(USERS) if not received(FIRST + p, DIGEST)]
            return f"the weekly digest to {len(waiting)} people" if waiting else ""

        async def announcement_under_way() -> str:
            sent = sum(len(received(FIRST + p, NOTICE)) for p in range(USERS))
            return "" if sent >= 5 else f"the announcement under way ({sent} sent)"

        async def person(index: int, halfway: asyncio.Barrier) -> None:
            nonlocal sent
            chat = FIRST + index
            for n, step in enumerate(script(index), start=1):
                if step == "TAP":
                    update = await tap(fake_telegram, chat, "Gửi báo cáo", next(ids))
                    both = (forwarder.post(http, update), forwarder.post(http, update, skip=1))
                    await asyncio.gather(*both)  # a tap delivered twice, at once
                else:
                    update = text_update(chat, step, next(ids))
                    if update["update_id"] % 7 == 0:  # delivered twice, at once
                        both = (forwarder.post(http, update), forwarder.post(http, update, skip=1))
                        await asyncio.gather(*both)
                    else:
                        await forwarder.post(http, update)
                sent += 1
                if sent >= USERS * PER_USER * 3 // 4:
                    three_quarters.set()
                if n == PER_USER // 2:
                    await halfway.wait()
                    await announcing.wait()

        async def announce_and_kill(halfway: asyncio.Barrier) -> None:
            nonlocal kill_time, victim
            await halfway.wait()
            text = "Họp giao ban nông thôn mới lúc 8 giờ sáng thứ Hai tại hội trường huyện."
            await forwarder.post(http, text_update(ADMIN, f"/thongbao {text}", next(ids)))
            await forwarder.post(http, await tap(fake_telegram, ADMIN, "Tất cả", next(ids)))
            await forwarder.post(http, await tap(fake_telegram, ADMIN, "Gửi ngay", next(ids)))
            await wait_for(announcement_under_way)
            announcing.set()
            await three_quarters.wait()
            # one instance claimed the announcement's deliveries (15 a second, 100 of them):
            # it is killed while it sends them, and while people keep writing
            holders = await db.fetch(
                "SELECT d.claimed_by, count(*) AS n FROM deliveries d JOIN jobs j"
                " ON j.id = d.job_id WHERE j.kind = 'announcement' AND d.status = 'pending'"
                " GROUP BY d.claimed_by ORDER BY n DESC"
            )
            sender = holders[0]["claimed_by"] if holders else None
            victim = int(sender.removeprefix("bot").split(":")[0]) if sender else 1
            kill_time = time.time()
            processes[victim].send_signal(signal.SIGKILL)
            forwarder.dead.add(ports[victim])
            await processes[victim].wait()
            # its supervisor starts it again (same name): it joins once healthy
            restarted = tmp_path / f"bot{victim}-restarted.log"
            processes.append(await start_bot(envs[victim], restarted))
            await wait_healthy(http, ports[victim], restarted)
            forwarder.dead.discard(ports[victim])

        try:
            async with aiohttp.ClientSession() as http:
                for port, log in zip(ports, logs, strict=True):
                    await wait_healthy(http, port, log)
                await wait_for(digest_delivered)
                halfway = asyncio.Barrier(USERS + 1)  # everyone's first half, then the notice
                await asyncio.gather(
                    announce_and_kill(halfway), *(person(p, halfway) for p in range(USERS))
                )

                def answered() -> int:
                    return sum(
                        1
                        for p in range(USERS)
                        for m in fake_telegram.sent(FIRST + p)
                        if ANSWER.search(m.text)
                    )

                async def unsettled() -> str:
                    pending = await db.fetchval(
                        "SELECT count(*) FROM deliveries WHERE status = 'pending'"
                    )
                    unsent = await db.fetchval(
                        "SELECT count(*) FROM processed_updates WHERE status = 'pending'"
                    )
                    unanswered = sum(len(questions(p)) for p in range(USERS)) - answered()
                    if pending or unsent or unanswered > 0:
                        return f"deliveries {pending}, replies {unsent}, answers {unanswered}"
                    return ""

                await wait_for(unsettled)
                await asyncio.sleep(1.5)  # nothing more arrives: no duplicates come late
                digests = await db.fetch("SELECT key FROM jobs WHERE kind = 'digest'")
                outcome = await db.fetch(
                    "SELECT j.kind, d.status, count(*) AS n FROM deliveries d JOIN jobs j"
                    " ON j.id = d.job_id GROUP BY j.kind, d.status"
                )
                reports = await db.fetch(
                    "SELECT commune_id, version, answers FROM reports ORDER BY commune_id"
                )
        finally:
            await db.close()
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                await process.wait()

    # Every question answered, in the order asked; while all three ran (the first half,
    # concurrent redeliveries included) exactly once.
    for p in range(USERS):
        numbers = [
            int(m[1]) for msg in fake_telegram.sent(FIRST + p) if (m := ANSWER.search(msg.text))
        ]
        assert list(dict.fromkeys(numbers)) == questions(p), (p, numbers)
        first_half = [n for n in questions(p) if n <= PER_USER // 2]
        assert [n for n in numbers if n <= PER_USER // 2] == first_half, (p, numbers)
    # Every confirmed report stored once (the tap was delivered twice, to two instances).
    assert len(reports) == OFFICERS
    for p, commune in communes.items():
        row = next(r for r in reports if r["commune_id"] == commune)
        population, insured = figures(p)
        answers = json.loads(row["answers"])
        assert (row["version"], answers["population"], answers["insured"]) == (
            1, population, insured,
        )  # fmt: skip
    # One digest this week, sent before the kill: exactly once to each, the restart included.
    assert [r["key"] for r in digests] == ["digest:2021-W41"]
    for p in range(USERS):
        assert len(received(FIRST + p, DIGEST)) == 1
    # The announcement reached everyone; nothing is left pending or failed.
    assert {(r["kind"], r["status"]) for r in outcome} <= {
        ("digest", "sent"), ("announcement", "sent"), ("reminder", "sent"),
    }  # fmt: skip
    assert sum(r["n"] for r in outcome if r["kind"] == "announcement") == USERS
    for p in range(USERS):
        assert received(FIRST + p, NOTICE)
    # Nothing was sent twice, but for what the killed instance had on the wire when it died
    # (sent, not yet recorded as sent): that message once more, at most one reply and one
    # delivery per person.
    for chat in [ADMIN, *(FIRST + p for p in range(USERS))]:
        copies: dict[tuple[str, str], list[float]] = {}
        for message in fake_telegram.sent(chat):
            copies.setdefault((message.kind, message.text), []).append(message.sent_at)
        repeated = {key: times for key, times in copies.items() if len(times) > 1}
        assert len(repeated) <= 2, (chat, repeated)
        assert all(len(times) == 2 for times in repeated.values()), (chat, repeated)
        for key, times in repeated.items():
            assert len(times) == 2 and times[0] <= kill_time + 1 and times[1] > kill_time, (
                chat,
                key,
            )
    assert forwarder.dead == set()
    for log in tmp_path.glob("bot*.log"):
        if log.name != f"bot{victim}.log":
            assert "Traceback" not in log.read_text(), log.name
    assert not any(
        "đã có lỗi" in m.text for chat in fake_telegram.messages for m in fake_telegram.sent(chat)
    )
