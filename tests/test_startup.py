"""Start-up and configuration failures: one line, no secret, and a network that comes back.

The bot runs as its own process here, as an operator starts it: what matters is its exit code
and every byte it writes to stderr.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot.cli import _report_failure
from tests.cli_util import run_cli, start_bot
from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import bot_env, free_port

TOKEN = FakeTelegram.token
USER = 5150


def only_one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_API_BASE", "http://127.0.0.1:99999"),
        ("TELEGRAM_API_BASE", "http://:8080"),
        ("TELEGRAM_BOT_TOKEN", "abc"),
        ("TELEGRAM_BOT_TOKEN", "123456:"),
        ("TELEGRAM_BOT_TOKEN", "12a:xyz"),
        ("TELEGRAM_WEBHOOK_URL", "http://ntm.example.org/hook"),
    ],
)
def test_a_bad_setting_stops_at_once_in_one_line(tmp_path: Path, variable: str, value: str) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": "s3cret",
        "NTM_DB_PATH": str(tmp_path / "x.sqlite3"),
        variable: value,
    }
    result = run_cli("run", env=env, cwd=tmp_path, timeout=30)
    assert result.returncode == 2, result.stderr
    line = only_one_line(result.stderr)
    assert variable in line and "Traceback" not in result.stderr
    assert TOKEN not in result.stderr and TOKEN.split(":")[1] not in result.stderr


def test_an_unexpected_failure_prints_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    try:
        raise RuntimeError(f"Cannot connect to host for {url}")
    except RuntimeError as exc:
        code = _report_failure(exc)
    captured = capsys.readouterr()
    assert code == 1
    assert TOKEN not in captured.err and TOKEN.split(":")[1] not in captured.err
    assert "lỗi không mong đợi" in captured.err


async def wait_for_text(log: Path, text: str, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if text in log.read_text(errors="replace"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} not in the log:\n{log.read_text(errors='replace')}")


@pytest.mark.slow
async def test_started_during_an_outage_the_bot_comes_up_when_the_network_returns(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens there yet: the "network" is down
    tg = FakeTelegram()
    env = bot_env(tg, tmp_path, TELEGRAM_API_BASE=f"http://127.0.0.1:{port}")
    log = tmp_path / "bot.log"
    bot = await start_bot(env, log)
    try:
        await wait_for_text(log, "Telegram is not reachable yet")
        assert bot.returncode is None  # still running, waiting
        await tg.start(port)  # the network is back
        try:
            tg.push_text(USER, "hạn BHYT")
            [answer] = await tg.wait_for(USER, 1, timeout=30)
            assert "30/09/2021" in answer.text
        finally:
            bot.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(bot.wait(), 30)
            await tg.stop()
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert code == 0
    text = log.read_text(errors="replace")
    assert TOKEN not in text and TOKEN.split(":")[1] not in text
    assert "Traceback" not in text


@pytest.mark.slow
async def test_sigterm_while_waiting_for_the_network_stops_cleanly(tmp_path: Path) -> None:
    env = bot_env(FakeTelegram(), tmp_path, TELEGRAM_API_BASE=f"http://127.0.0.1:{free_port()}")
    log = tmp_path / "bot.log"
    bot = await start_bot(env, log)
    try:
        await wait_for_text(log, "Telegram is not reachable yet")
        bot.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(bot.wait(), 30)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()


@pytest.mark.slow
async def test_a_token_telegram_refuses_stops_with_exit_code_2(tmp_path: Path) -> None:
    tg = await FakeTelegram().start()
    try:
        env = bot_env(tg, tmp_path, TELEGRAM_BOT_TOKEN="999999:not-the-fakes-token")
        result = await asyncio.to_thread(run_cli, "run", env=env, cwd=tmp_path, timeout=60)
    finally:
        await tg.stop()
    assert result.returncode == 2, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert "not-the-fakes-token" not in result.stderr
