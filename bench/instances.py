"""Several instances: updates/s through 1, 2 and 3 ``ntm-bot run`` processes on one PostgreSQL
database (webhook mode, behind the round-robin forwarder of ``tests/test_instances.py``), and
one instance on PostgreSQL against one on the embedded SQLite, in the same run.

``--users`` people each ask ``--per-user`` questions one after another ("tiêu chí xã 1", "… 2":
one per commune criterion, so at most 19; a person waits for the answer); every answer is
counted: ``lost`` (an update never answered) and ``duplicated`` (an answer sent twice) must be
0. The fake Telegram server and the forwarder run in this process.

Last line: ``{"pg_vs_sqlite", "two_vs_one", "three_vs_one", "lost", "duplicated"}`` plus the
rates. On one machine the instances share its cores: more instances add availability, not
speed; the ratios show what the coordination (locks, claims) costs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests import pg_util  # noqa: E402
from tests.cli_util import start_bot  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.telegram_util import free_port  # noqa: E402
from tests.test_instances import (  # noqa: E402
    ANSWER,
    Forwarder,
    instance_env,
    update_for,
    wait_healthy,
)


async def run(
    count: int, database: dict[str, str], users: int, per_user: int, tmp: Path
) -> tuple[float, int, int]:
    """(updates/s, lost, duplicated) with ``count`` instances on ``database``."""
    fake = await FakeTelegram().start()
    ports = [free_port() for _ in range(count)]
    processes = []
    try:
        for n, port in enumerate(ports):
            env = instance_env(fake, port, n, **database)
            processes.append(await start_bot(env, tmp / f"bot{count}-{n}.log"))
        forwarder = Forwarder(ports)
        async with aiohttp.ClientSession() as http:
            for n, port in enumerate(ports):
                await wait_healthy(http, port, tmp / f"bot{count}-{n}.log")
            ids = itertools.count(1)

            async def person(user: int) -> None:
                for n in range(1, per_user + 1):
                    await forwarder.post(http, update_for(user, n, next(ids)))

            started = time.perf_counter()
            await asyncio.gather(*(person(20_000 + u) for u in range(users)))
            elapsed = time.perf_counter() - started
        await asyncio.sleep(1.0)  # anything late would be a duplicate
        counts = Counter(
            (user, int(m[1]))
            for user in range(20_000, 20_000 + users)
            for msg in fake.sent(user)
            if (m := ANSWER.search(msg.text))
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
        await fake.stop()
    expected = users * per_user
    lost = expected - len(counts)
    duplicated = sum(c - 1 for c in counts.values())
    return expected / elapsed, lost, duplicated


async def main(users: int, per_user: int) -> dict[str, float]:
    from tests.conftest import fresh_pg_database

    if not pg_util.available():
        raise SystemExit("PostgreSQL 15 is needed: make postgres")
    results: dict[str, float] = {}
    lost = duplicated = 0
    with tempfile.TemporaryDirectory() as scratch, pg_util.cluster() as cluster:
        tmp = Path(scratch)
        sqlite = {"NTM_DB_PATH": str(tmp / "bench.sqlite3")}
        rate, lo, du = await run(1, sqlite, users, per_user, tmp)
        print(f"1 instance on SQLite: {rate:.0f} updates/s, lost {lo}, duplicated {du}")
        results["sqlite_1_ups"] = round(rate, 1)
        lost, duplicated = lost + lo, duplicated + du
        for count in (1, 2, 3):
            async with fresh_pg_database(cluster) as url:
                rate, lo, du = await run(count, {"NTM_DATABASE_URL": url}, users, per_user, tmp)
            results[f"pg_{count}_ups"] = round(rate, 1)
            lost, duplicated = lost + lo, duplicated + du
            print(
                f"{count} instance(s) on PostgreSQL: {rate:.0f} updates/s, lost {lo},"
                f" duplicated {du}",
                flush=True,
            )
    one = results["pg_1_ups"]
    return {
        "pg_vs_sqlite": round(one / results["sqlite_1_ups"], 2),
        "two_vs_one": round(results["pg_2_ups"] / one, 2),
        "three_vs_one": round(results["pg_3_ups"] / one, 2),
        "lost": lost,
        "duplicated": duplicated,
        **results,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=19, help="1–19: one per criterion")
    args = parser.parse_args()
    if not 1 <= args.per_user <= 19:  # each question names a criterion: there are 19
        parser.error("--per-user must be from 1 to 19")
    print(json.dumps(asyncio.run(main(args.users, args.per_user))))
