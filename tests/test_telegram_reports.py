"""Registration and a report end to end through aiogram and the fake Telegram server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.reports import ReportRepo
from tests.fakes.telegram import FakeTelegram
from tests.telegram_util import ADMIN, running_bot

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1 or the bot as its own process

OFFICER = 601
OTHER = 602


async def test_invite_deep_link_report_restart_and_redelivery(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = fake_telegram
    async with running_bot(monkeypatch, tg, tmp_path) as runtime:
        tg.push_text(ADMIN, "/moi Dân Lực")
        [confirm] = await tg.wait_for(ADMIN, 1)
        tg.press(ADMIN, confirm, "Tạo mã")
        messages = await tg.wait_for(ADMIN, 2)
        text = messages[-1].text
        assert f"https://t.me/{tg.bot_username}?start=" in text
        code = text.split("?start=")[1].split()[0]

        tg.push_text(OFFICER, f"/start {code}")  # what the deep link sends
        [welcome] = await tg.wait_for(OFFICER, 1)  # with the question for their name
        assert "bạn là cán bộ xã Dân Lực" in welcome.text
        assert "họ và tên" in welcome.text  # who reports is known to the office
        tg.push_text(OFFICER, "Trần Thị Bình")
        await tg.wait_for(OFFICER, 2)
        tg.push_text(OFFICER, "Công chức Văn hóa - Xã hội")
        check = (await tg.wait_for(OFFICER, 3))[-1]
        assert "Trần Thị Bình" in check.text and "Công chức Văn hóa - Xã hội" in check.text
        tg.press(OFFICER, check, "Đúng, lưu lại")
        await tg.wait_for(OFFICER, 4)
        assert "Đã lưu: Trần Thị Bình (Công chức Văn hóa - Xã hội)" in tg.last(OFFICER).text

        tg.push_text(OFFICER, "/baocao")
        forms = (await tg.wait_for(OFFICER, 5))[-1]
        tg.press(OFFICER, forms, "Tỷ lệ người dân tham gia BHYT")
        await tg.wait_for(OFFICER, 6)
        assert "Câu 1/2" in tg.last(OFFICER).text
        tg.push_text(OFFICER, "10.000")
        await tg.wait_for(OFFICER, 7)
        tg.push_text(OFFICER, "12.500")
        await tg.wait_for(OFFICER, 8)
        assert "không được lớn hơn số dân (10.000)" in tg.last(OFFICER).text

    # The bot restarts in the middle of the dialog; the officer simply goes on.
    async with running_bot(monkeypatch, tg, tmp_path) as runtime:
        tg.push_text(OFFICER, "9.100")
        await tg.wait_for(OFFICER, 9)
        summary = tg.last(OFFICER)
        assert "Tỷ lệ tham gia BHYT: 91%" in summary.text
        send_update = tg.press(OFFICER, summary, "Gửi báo cáo")
        await tg.wait_for(OFFICER, 10)
        assert "Đã nhận báo cáo số BC-000001" in tg.last(OFFICER).text
        await tg.wait_until(lambda: tg.confirmed >= send_update)
        tg.redeliver(send_update)  # Telegram delivers the tap again
        tg.push_text(OFFICER, "/cuatoi")
        await tg.wait_for(OFFICER, 11)
        await asyncio.sleep(0.2)
        assert runtime.app is not None
        reports = await ReportRepo(runtime.app.db).all()
        assert len(reports) == 1 and reports[0].channel == "telegram"
        assert "BC-000001" in tg.last(OFFICER).text
        assert "Trần Thị Bình" in tg.last(OFFICER).text  # the office sees who reported
        assert len(tg.sent(OFFICER)) == 11  # the redelivered tap produced no second receipt


async def test_officers_cannot_see_other_communes_or_office_views(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = fake_telegram
    async with running_bot(monkeypatch, tg, tmp_path):
        tg.push_text(ADMIN, "/moi tho dan")
        [confirm] = await tg.wait_for(ADMIN, 1)
        tg.press(ADMIN, confirm, "Tạo mã")
        await tg.wait_for(ADMIN, 2)
        code = tg.last(ADMIN).text.split("?start=")[1].split()[0]
        tg.push_text(OTHER, f"/start {code}")
        await tg.wait_for(OTHER, 1)  # welcome, with the question for their name
        tg.push_text(OTHER, "Lê Văn Cường")
        await tg.wait_for(OTHER, 2)
        tg.push_text(OTHER, "bỏ qua")
        check = (await tg.wait_for(OTHER, 3))[-1]
        tg.press(OTHER, check, "Đúng, lưu lại")
        await tg.wait_for(OTHER, 4)
        for command in ("/tonghop", "/xuat", "/xa Dân Lực", "/moi Dân Lực", "/thuhoi"):
            tg.push_text(OTHER, command)
        messages = await tg.wait_for(OTHER, 9)
        answers = [m.text for m in messages[4:]]
        assert all(
            ("chỉ dành cho" in a) or ("chỉ xem được số liệu của xã mình" in a) for a in answers
        ), answers


async def test_export_is_sent_as_documents(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = fake_telegram
    async with running_bot(monkeypatch, tg, tmp_path):
        tg.push_text(ADMIN, "/xuat")
        messages = await tg.wait_for(ADMIN, 3)
    kinds = [(m.kind, m.file_name) for m in messages]
    assert ("document", "bao-cao-ntm-20211015.xlsx") in kinds
    assert ("document", "bao-cao-ntm-20211015.csv") in kinds
    xlsx = next(m for m in messages if m.file_name and m.file_name.endswith(".xlsx"))
    assert xlsx.file_bytes is not None and xlsx.file_bytes[:2] == b"PK"
