"""Run ``ntm-bot`` as a user would: a separate process."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "TELEGRAM_", "ZALO_"))
    }
    full_env["PYTHONPATH"] = str(REPO)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )


async def start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """``ntm-bot run`` as its own process (INFO log appended to ``log``), as an operator runs it."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "TELEGRAM_"))}
    full |= env | {"PYTHONPATH": str(REPO), "NTM_LOG_LEVEL": "INFO"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=full,
        cwd=str(log.parent),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
