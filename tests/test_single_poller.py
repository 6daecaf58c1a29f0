"""Polling serves one instance: a second instance on the same database (and bot) does not
poll, says so in its log, and takes over when the first stops."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from bot.runner import Runtime
from bot.settings import load_settings
from storage.db import Database
from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import bot_env, free_port

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1


async def _until(check: object, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_a_second_instance_waits_and_takes_over(
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("bot.exclusive.RENEW_EVERY", 0.1)
    for name, value in bot_env(fake_telegram, tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NTM_INSTANCE_ID", "first")
    first = Runtime(load_settings())
    monkeypatch.setenv("NTM_INSTANCE_ID", "second")
    monkeypatch.setenv("NTM_WEBHOOK_PORT", str(free_port()))
    second = Runtime(load_settings())
    caplog.set_level(logging.WARNING, logger="bot.exclusive")
    await first.__aenter__()
    try:
        assert first.app is not None
        db = first.app.db

        async def first_holds() -> bool:
            return await _holder(db) == "first"

        await _until(first_holds, "the first instance polls")
        await second.__aenter__()

        async def second_waits() -> bool:
            return "another instance (first) is polling" in caplog.text

        await _until(second_waits, "the second says why it does not poll")
        assert await _holder(db) == "first"
        fake_telegram.push_text(4242, "hạn BHYT")
        await _until(lambda: _answered(fake_telegram, 4242, 1), "the question is answered")
    finally:
        await first.__aexit__(None, None, None)
    try:
        assert second.app is not None
        other = second.app.db

        async def second_holds() -> bool:
            return await _holder(other) == "second"

        await _until(second_holds, "the second takes over")
        assert "the other instance stopped; this one polls now" in caplog.text
        fake_telegram.push_text(4242, "ai phụ trách tiêu chí 17.4")
        await _until(lambda: _answered(fake_telegram, 4242, 2), "answered by the second")
    finally:
        await second.__aexit__(None, None, None)


async def _holder(db: Database) -> str | None:
    return await db.fetchval("SELECT owner FROM leases WHERE name = 'poll:telegram'")


async def _answered(fake: FakeTelegram, chat: int, count: int) -> bool:
    return len([m for m in fake.sent(chat) if m.text]) >= count


async def test_a_second_process_with_the_same_instance_name_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Two processes named alike would take each other's claims as their own: the second
    one says so in one line and stops (exit 2); once the first has stopped, the name is
    free again."""
    from tests.cli_util import run_cli

    env = bot_env(fake_telegram, tmp_path) | {"NTM_INSTANCE_ID": "web-1"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    first = Runtime(load_settings())
    await first.__aenter__()
    try:
        started = time.monotonic()
        second = await asyncio.to_thread(
            run_cli, "run", env=env | {"NTM_WEBHOOK_PORT": str(free_port())}, timeout=60
        )
        assert second.returncode == 2, second.stderr
        lines = [x for x in second.stderr.splitlines() if "NTM_INSTANCE_ID" in x]
        assert lines[-1].startswith("NTM_INSTANCE_ID: tên “web-1” đang được một tiến trình khác")
        assert "Traceback" not in second.stderr
        assert time.monotonic() - started < 30
    finally:
        await first.__aexit__(None, None, None)
    monkeypatch.setenv("NTM_WEBHOOK_PORT", str(free_port()))
    again = Runtime(load_settings())  # the name was given back when the first stopped
    await again.__aenter__()
    await again.__aexit__(None, None, None)
