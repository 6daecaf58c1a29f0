"""Run every benchmark; write ``bench/results.json`` and the table in ``bench/README.md``.

Each benchmark is its own script whose last line is one JSON object. They run one after
another (they measure time and memory: running them together would spoil both), each with a
time limit; one that fails is recorded as failed and the others still run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


# name: (what it measures, targets, {key: (label, target check)})
BENCHMARKS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "qa": (
        "Q&A: knowledge load and per-question latency, in process",
        "load ≤ 300 ms, p99 ≤ 2 ms",
        {"load_ms": lambda v: v <= 300, "p99_ms": lambda v: v <= 2},
    ),
    "telegram": (
        "updates/s through the whole Telegram stack vs. a bare aiogram echo bot",
        "ratio ≥ 0.6",
        {"ratio": lambda v: v >= 0.6},
    ),
    "reports": (
        "100 officers report BHYT at once through Telegram: latency per dialog step, and over "
        "a bare aiogram echo bot's under the same load",
        "p90 ≤ 3 × the echo bot's (the median of 3 rounds), p99 ≤ 50 ms, 0 errors, 0 lost",
        {
            "step_p90_ratio": lambda v: v is not None and v <= 3,
            "step_p99_ms": lambda v: v <= 50,
            "errors": lambda v: v == 0,
            "lost_reports": lambda v: v == 0,
        },
    ),
    "digest": (
        "district digest + chart for 32 and 10,000 communes (and over drawing the chart alone); "
        "send rate vs. the configured limit",
        "32 communes ≤ 300 ms, rate ≥ 0.9 of the limit, nothing lost or duplicated",
        {
            "digest_32_ms": lambda v: v <= 300,
            "send_rate_ratio": lambda v: v >= 0.9,
            "lost": lambda v: v == 0,
            "duplicated": lambda v: v == 0,
        },
    ),
    "web": (
        "the web view's district overview, server side: 34 communes and 10,000 (a page of 100 "
        "sorted); the first page after a start (what it shows read); the page after one more "
        "report (its commune read again); the first page sorted by the criteria (every "
        "commune's board); /healthz as the baseline",
        "34 communes ≤ 100 ms, a 10,000-commune page ≤ 500 ms, also after a report; the "
        "first page ≤ 1 s",
        {
            "overview_34_ms": lambda v: v <= 100,
            "overview_10000_ms": lambda v: v <= 500,
            "overview_10000_after_report_ms": lambda v: v <= 500,
            "overview_10000_first_ms": lambda v: v <= 1000,
        },
    ),
    "readmodel": (
        "the criteria read model (every commune × indicator from reports, task marks and the "
        "evidence rules) for 34 and 10,000 communes with a year of reports and every task "
        "share marked; reading its inputs as the baseline",
        "34 communes ≤ 50 ms",
        {"board_34_ms": lambda v: v <= 50},
    ),
    "instances": (
        "updates/s through 1, 2, 3 instances on one PostgreSQL (webhooks, a round-robin "
        "forwarder) and one on PostgreSQL vs. one on SQLite; every answer counted",
        "nothing lost or duplicated",
        {"lost": lambda v: v == 0, "duplicated": lambda v: v == 0},
    ),
    "photos": (
        "a 5 MB phone photo checked (type, pixels, EXIF, re-encoded without metadata, "
        "thumbnail) and kept, over Pillow decoding it alone; the appraisal dossier (.docx and "
        ".zip) of 34 communes with 10 photos each",
        "checking + keeping a 5 MB photo ≤ 1.5 s; the 34-commune dossier ≤ 20 s",
        {
            "photo_check_ms": lambda v: v <= 1500,
            "dossier_34x10_ms": lambda v: v <= 20000,
        },
    ),
    "load": (
        "200 users, 10,000 updates, the bot as its own process: latency, errors, peak RSS, "
        "and the bot's own share of it (above a process that only imports aiogram)",
        "0 errors, the bot's own share ≤ 40 MB",
        {"load_errors": lambda v: v == 0, "bot_share_mb": lambda v: v <= 40},
    ),
}


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total = int(meminfo.read_text().split()[1])
        memory = f"{total / 1024 / 1024:.1f} GB"
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def run(name: str, timeout: float) -> dict[str, Any]:
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH / f"{name}.py")],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": round(time.monotonic() - started, 1)}
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        figures = json.loads(lines[-1]) if lines else None
    except ValueError:
        figures = None
    if done.returncode != 0 or not isinstance(figures, dict):
        return {"status": "failed", "returncode": done.returncode, "stderr": done.stderr[-2000:]}
    return {
        "status": "ok",
        "seconds": round(time.monotonic() - started, 1),
        "figures": figures,
        "notes": lines[:-1][-5:],
    }


def table(results: dict[str, Any]) -> str:
    rows = [
        "| Benchmark | What it measures | Targets | Latest figures | Met |",
        "|---|---|---|---|---|",
    ]
    for name, (what, targets, checks) in BENCHMARKS.items():
        result = results["benchmarks"].get(name, {})
        if result.get("status") != "ok":
            rows.append(f"| `{name}` | {what} | {targets} | {result.get('status', '—')} | ✗ |")
            continue
        figures = result["figures"]
        shown = ", ".join(f"`{k}` {v}" for k, v in figures.items())
        met = all(check(figures[k]) for k, check in checks.items() if k in figures)
        rows.append(f"| `{name}` | {what} | {targets} | {shown} | {'✓' if met else '✗'} |")
    return "\n".join(rows)


README_HEAD = """# Benchmarks

Each script prints one JSON object as its last line. `make bench` (or
`python bench/run_all.py`) runs them all, one after another, and writes `results.json` and
the table below. Ratios are measured against a baseline in the same run where the machine's
speed would otherwise decide the figure (`telegram`); the others are absolute, so compare them
on the same machine.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(BENCHMARKS), help="benchmarks to run")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    results_path = BENCH / "results.json"
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    benchmarks = dict(previous.get("benchmarks", {}))
    for name in args.names:
        print(f"== {name}", flush=True)
        benchmarks[name] = run(name, args.timeout)
        print(json.dumps(benchmarks[name].get("figures") or benchmarks[name]), flush=True)
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "benchmarks": benchmarks,
    }
    load = benchmarks.get("load", {}).get("figures", {})
    results.update(
        {
            k: load[k]
            for k in ("load_p50_ms", "load_p99_ms", "load_errors", "peak_rss_mb", "bot_share_mb")
            if k in load
        }
    )
    results_path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    m = results["machine"]
    footer = (
        f"\nLatest run: {results['when']} on {m['cpu']} ({m['cpus']} CPUs, {m['memory']}), "
        f"Python {m['python']}, {m['system']}.\n"
    )
    notes = BENCH / "NOTES.md"
    extra = "\n" + notes.read_text() if notes.exists() else ""
    (BENCH / "README.md").write_text(README_HEAD + table(results) + "\n" + footer + extra)
    print(table(results))
    failed = [n for n in args.names if benchmarks[n].get("status") != "ok"]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
