"""The criteria read model: how long every (commune, indicator) takes to work out from the
reports, the task marks and the evidence rules, for the district's own 34 communes and for
10,000 synthetic ones (a province), each with a year of weekly reports (BHYT coverage and
criterion statuses in turn) and every commune's share of the plan's tasks marked at random.

The baseline in the same run is reading what the board is computed from (the current reports
of the evidence forms and the task marks): ``board_vs_read`` says what the computation adds to
the database work it cannot avoid. Medians of several runs.

Last line: ``{"board_34_ms", "board_10000_ms", "read_10000_ms", "board_vs_read",
"cells_10000", "us_per_commune"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.digest import TODAY, _add_synthetic_communes, _add_year_of_reports, _env  # noqa: E402
from bot.app import open_app  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.core import Deps  # noqa: E402
from handlers.readmodel.criteria import derive_board, evidence_forms  # noqa: E402
from handlers.task_view import load_progress  # noqa: E402
from storage.reports import ReportRepo  # noqa: E402
from storage.tasks import TaskProgressRepo, TaskStatus  # noqa: E402


async def _mark_tasks(deps: Deps, rng: random.Random) -> None:
    """Every commune's share of the communes' tasks, in a random state (a third untouched)."""
    person = await deps.users.ensure("bench", "officer", chat_id="officer")
    marks = TaskProgressRepo(deps.db)
    shares = [t.id for t in deps.kb.tasks if deps.kb.is_commune_task(t)]
    moment = dt.datetime.combine(TODAY, dt.time(1), tzinfo=dt.UTC)
    async with deps.db.transaction():
        for commune in await deps.communes.all():
            for task in shares:
                if rng.random() < 0.33:
                    continue
                state = rng.choice([TaskStatus.DONE, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED])
                await marks.mark((task, commune.id), state, by_user=person.id, channel="bench",
                                 now=moment, note="x")  # fmt: skip


async def measure(tmp: Path, synthetic: int, runs: int) -> tuple[float, float, int, int]:
    """(median ms to compute the board, median ms to read its inputs, cells, communes)."""
    _env(tmp, f"readmodel-{synthetic}")
    async with open_app(load_settings()) as app:
        deps = app.deps
        if synthetic:
            await _add_synthetic_communes(deps, synthetic)
        await _add_year_of_reports(deps, random.Random(7))
        await _mark_tasks(deps, random.Random(11))
        communes = await deps.communes.all()
        forms = evidence_forms(deps.kb)
        boards: list[float] = []
        reads: list[float] = []
        cells = 0
        for _ in range(runs):
            started = time.perf_counter()
            reports = await ReportRepo(deps.db).latest(forms=forms)
            progress = await load_progress(deps.db, None)
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            board = derive_board(deps.kb, progress, reports, communes, TODAY)
            boards.append(time.perf_counter() - started)
            cells = sum(len(c) for c in board.communes.values())
    return statistics.median(boards) * 1000, statistics.median(reads) * 1000, cells, len(communes)


async def main(runs: int, province: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        small, _small_read, _cells, count = await measure(tmp, 0, runs)
        print(f"{count} communes: board {small:.1f} ms", flush=True)
        large, read, cells, many = await measure(tmp, province, max(3, runs // 3))
        print(f"{many} communes: board {large:.1f} ms, reading it {read:.1f} ms", flush=True)
    return {
        "board_34_ms": round(small, 2),
        f"board_{province}_ms": round(large, 1),
        f"read_{province}_ms": round(read, 1),
        "board_vs_read": round(large / read, 2) if read else 0.0,
        f"cells_{province}": cells,
        "us_per_commune": round(large * 1000 / many, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--province", type=int, default=10_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(main(args.runs, args.province))))
