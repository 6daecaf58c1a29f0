"""A deployment without Telegram does not import aiogram (most of the bot's memory: a pydantic
model for every Bot API type): the Zalo-only bot, started in its own process as deployed,
comes up without it. ``bench/load.py`` reports the RSS of both kinds of deployment."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fakes.zalo import FakeZaloBot
from tests.zalo_util import zalo_env

pytestmark = pytest.mark.slow  # a process of its own

REPO = Path(__file__).resolve().parent.parent
SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from bot.runner import run_all  # what `ntm-bot run` calls
    from bot.runner import Runtime
    from bot.settings import load_settings

    async def main():
        async with Runtime(load_settings()) as runtime:
            assert list(runtime.channels) == ["zalo_bot"]
            print("aiogram:", any(m.split(".")[0] == "aiogram" for m in sys.modules))

    asyncio.run(main())
    """
)


async def test_a_zalo_only_deployment_does_not_import_aiogram(
    zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "TELEGRAM_", "ZALO_"))}
    env |= zalo_env(tmp_path, bot=zalo_bot) | {"PYTHONPATH": str(REPO)}
    process = await asyncio.create_subprocess_exec(  # the fake server answers meanwhile
        sys.executable, "-c", SCRIPT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "aiogram: False" in out.decode()
