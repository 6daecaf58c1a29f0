"""Running the real bot against the fake Zalo servers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.runner import Runtime
from bot.settings import load_settings
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA
from tests.telegram_util import free_port

ZALO_ADMIN = "zadmin01"


def zalo_env(
    tmp_path: Path, bot: FakeZaloBot | None = None, oa: FakeZaloOA | None = None, **extra: str
) -> dict[str, str]:
    env = {
        "NTM_DB_PATH": str(tmp_path / "ntm.sqlite3"),
        "NTM_WEBHOOK_HOST": "127.0.0.1",
        "NTM_WEBHOOK_PORT": str(free_port()),
        "NTM_TODAY": "2021-10-15",
        "NTM_ZALO_ADMIN_IDS": f"bot:{ZALO_ADMIN},oa:{ZALO_ADMIN}",
        "NTM_THROTTLE_SECONDS": "0",
        "NTM_ZALO_FILE_HOSTS": "127.0.0.1",  # the fake Zalo serves users' photos here
        "NTM_LOG_LEVEL": "WARNING",
    }
    if bot is not None:
        env |= {"ZALO_BOT_TOKEN": bot.token, "ZALO_BOT_API_BASE": bot.base_url}
    if oa is not None:
        env |= {
            "ZALO_OA_APP_ID": oa.app_id,
            "ZALO_OA_SECRET_KEY": oa.app_secret,
            "ZALO_OA_ACCESS_TOKEN": oa.access_token,
            "ZALO_OA_REFRESH_TOKEN": oa.refresh_token,
            "ZALO_OA_API_BASE": oa.base_url,
            "ZALO_OAUTH_BASE": oa.base_url,
        }
    return env | extra


@asynccontextmanager
async def running_zalo(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    bot: FakeZaloBot | None = None,
    oa: FakeZaloOA | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Runtime]:
    for name, value in (env or zalo_env(tmp_path, bot, oa)).items():
        monkeypatch.setenv(name, value)
    async with Runtime(load_settings()) as runtime:
        yield runtime


def webhook_url(runtime: Runtime, path: str) -> str:
    return f"http://127.0.0.1:{runtime.web.port}{path}"


def number_of(text: str, label: str) -> str:
    """The number a numbered option is offered under (``3. Tỷ lệ người dân …`` → ``3``)."""
    for line in text.splitlines():
        found = re.match(r"\s*(?:•\s*)?(\d+)\.\s+(.*)$", line)  # a listed item too
        if found and found[2].startswith(label):
            return found[1]
    raise AssertionError(f"no option {label!r} in {text!r}")


def invite_code(text: str) -> str:
    found = re.search(r"/start (\S+)", text)
    assert found, text
    return found[1]
