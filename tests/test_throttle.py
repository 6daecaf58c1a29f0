"""Flood control: the same per-user limit on Telegram, Zalo Bot and Zalo OA."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.channels.throttle import Throttle
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA
from tests.zalo_util import running_zalo, webhook_url, zalo_env

USER = "flooder01"
NOTICE = "gửi tin nhắn hơi nhanh"


def test_a_burst_then_one_message_per_interval() -> None:
    throttle = Throttle(2.0, burst=3, notice_every=10.0)
    verdicts = [throttle.allow("u", now=100.0) for _ in range(6)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False, False]
    assert [v.notify for v in verdicts] == [False, False, False, True, False, False]
    assert not throttle.allow("u", now=101.0).allowed  # half a token back
    assert throttle.allow("u", now=102.1).allowed  # one whole token back
    assert throttle.allow("other", now=102.1).allowed  # per user
    assert throttle.allow("u", now=200.0).allowed  # refilled up to the burst


def test_zero_interval_is_off() -> None:
    throttle = Throttle(0)
    assert all(throttle.allow("u", now=1.0).allowed for _ in range(1000))


def test_one_log_line_per_burst(caplog: pytest.LogCaptureFixture) -> None:
    throttle = Throttle(1.0, burst=1, channel="zalo_bot")
    with caplog.at_level(logging.INFO, logger="bot.channels.throttle"):
        for _ in range(500):
            throttle.allow("u", now=10.0)
        assert caplog.records == []  # nothing per dropped message
        throttle.allow("u", now=20.0)  # the burst is over: one summary
    [record] = caplog.records
    assert "dropped 499 messages from user u" in record.getMessage()
    assert record.getMessage().startswith("zalo_bot: ")


@pytest.mark.slow
async def test_a_flood_on_zalo_bot_is_dropped_with_one_notice(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    zalo_bot: FakeZaloBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = zalo_env(tmp_path, zalo_bot, NTM_THROTTLE_SECONDS="30", NTM_LOG_LEVEL="INFO")
    async with running_zalo(monkeypatch, tmp_path, bot=zalo_bot, env=env):
        with caplog.at_level(logging.INFO):
            for _ in range(300):
                zalo_bot.push_text(USER, "hạn BHYT")
            await zalo_bot.wait_for(USER, 6)  # five answers and one notice
            for _ in range(400):  # until every message was fetched (at most 20 s)
                if not zalo_bot.updates:
                    break
                await asyncio.sleep(0.05)
            assert not zalo_bot.updates
            await asyncio.sleep(0.3)
    texts = zalo_bot.texts(USER)
    assert len([t for t in texts if "30/09/2021" in t]) == 5
    assert len([t for t in texts if NOTICE in t]) == 1
    assert len(texts) == 6
    per_message = [r for r in caplog.records if "throttl" in r.getMessage().lower()]
    assert len(per_message) <= 1


@pytest.mark.slow
async def test_a_flood_on_zalo_oa_is_dropped_with_one_notice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, zalo_oa: FakeZaloOA
) -> None:
    env = zalo_env(tmp_path, oa=zalo_oa, NTM_THROTTLE_SECONDS="30")
    async with running_zalo(monkeypatch, tmp_path, oa=zalo_oa, env=env) as runtime:
        url = webhook_url(runtime, "/zalo/oa")
        for _ in range(60):
            assert await zalo_oa.post_event(url, zalo_oa.text_event(USER, "hạn BHYT")) == 200
        await zalo_oa.wait_for(USER, 6)
        await asyncio.sleep(0.3)
    texts = zalo_oa.texts(USER)
    assert len([t for t in texts if "30/09/2021" in t]) == 5
    assert len([t for t in texts if NOTICE in t]) == 1
