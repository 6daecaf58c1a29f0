"""Q&A speed: knowledge load time and per-question latency, in-process, one core.

The question mix is the repository's question set (every intent, with and without diacritics,
typos, English, out of scope), each asked several times in shuffled order. Timing covers the
whole answer: analysis, resolution and rendering (the bot's cache of recent answers is turned
off, so every question costs what a new one does). Last line: one JSON object
``{"load_ms", "p50_ms", "p99_ms", "qps"}``. Targets: load ≤ 300 ms, p99 ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import percentile_ms  # noqa: E402
from handlers.i18n import Catalogs  # noqa: E402
from handlers.qa import QA  # noqa: E402
from knowledge.engine import QueryEngine  # noqa: E402
from knowledge.gazetteer import load_gazetteer  # noqa: E402
from knowledge.loader import load_knowledge  # noqa: E402

TODAY = dt.date(2021, 10, 15)


def questions() -> list[str]:
    path = REPO / "tests" / "data" / "qa_cases.jsonl"
    return [json.loads(line)["q"] for line in path.read_text("utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="times each question is asked")
    args = parser.parse_args()

    loads = []
    for _ in range(5):
        load_gazetteer.cache_clear()  # each run reads the place names again, as a start does
        start = time.perf_counter()
        kb = load_knowledge()
        engine = QueryEngine(kb)
        loads.append(time.perf_counter() - start)
    qa = QA(kb, Catalogs(), engine)
    qa.CACHE_SIZE = 0  # measure answering, not the cache of recent answers (a dict lookup)

    mix = questions() * args.rounds
    random.Random(7).shuffle(mix)
    for question in mix[:300]:  # warm-up: caches, first-use imports
        qa.answer(question, TODAY)
    gc.collect()
    latencies = []
    started = time.perf_counter()
    for question in mix:
        t0 = time.perf_counter()
        qa.answer(question, TODAY)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    latencies.sort()
    result = {
        "load_ms": round(statistics.median(loads) * 1000, 2),
        "p50_ms": round(percentile_ms(latencies, 0.5), 3),
        "p99_ms": round(percentile_ms(latencies, 0.99), 3),
        "qps": round(len(mix) / elapsed, 1),
    }
    print(
        f"{len(mix)} answers to {len(set(mix))} distinct questions; load runs: "
        f"{', '.join(f'{x * 1000:.0f} ms' for x in loads)}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
