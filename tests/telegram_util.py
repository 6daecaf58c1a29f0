"""Running the real bot (Runtime, aiogram) against the fake Telegram server."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.runner import Runtime
from bot.settings import load_settings
from tests.fakes.telegram import FakeTelegram

ADMIN = 9001


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def text_update(user: int, text: str, update_id: int) -> dict[str, Any]:
    """A private message from ``user`` as Telegram posts it to a webhook (a command marked
    as one)."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "text": text,
        "chat": {"id": user, "type": "private", "first_name": f"U{user}"},
        "from": {"id": user, "is_bot": False, "first_name": f"U{user}"},
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}


def bot_env(fake: FakeTelegram, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE": fake.base_url,
        "NTM_DB_PATH": str(tmp_path / "ntm.sqlite3"),
        "NTM_WEBHOOK_HOST": "127.0.0.1",
        "NTM_WEBHOOK_PORT": str(free_port()),
        "NTM_TODAY": "2021-10-15",
        "NTM_ADMIN_IDS": str(ADMIN),
        "NTM_THROTTLE_SECONDS": "0",
        "NTM_LOG_LEVEL": "WARNING",
    }
    env.update(extra)
    return env


@asynccontextmanager
async def running_bot(
    monkeypatch: pytest.MonkeyPatch, fake: FakeTelegram, tmp_path: Path, **extra: str
) -> AsyncIterator[Runtime]:
    for name, value in bot_env(fake, tmp_path, **extra).items():
        monkeypatch.setenv(name, value)
    async with Runtime(load_settings()) as runtime:
        yield runtime
