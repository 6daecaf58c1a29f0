"""The plan's tasks end to end, the same cycle on Telegram (buttons) and Zalo Bot API
(numbers): a district unit is invited, sees its tasks, marks one blocked and one done; the
reminder for the done one does not reach it while the open one's does; the digest shows the
blocked one with its reason; answers follow the status; the export has the tasks."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.runner import Runtime
from handlers.broadcast import create_reminder_job
from storage.sending import SendingRepo, SubscriptionRepo
from storage.tasks import TaskProgressRepo, TaskStatus
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot
from tests.telegram_util import running_bot
from tests.test_office_data_e2e import PUBLIC, Chat, TelegramChat, ZaloBotChat
from tests.test_zalo import send_digest
from tests.zalo_util import running_zalo, zalo_env

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1


async def send_reminder(runtime: Runtime, deadline_id: str, offset: int) -> int | None:
    """Create the reminder as the scheduler would ``offset`` days before the deadline and
    wait until the running sender has dealt with all of it."""
    app = runtime.app
    assert app is not None
    deadline = app.deps.kb.deadline_by_id[deadline_id]
    today = deadline.due - dt.timedelta(days=offset)
    job = await create_reminder_job(app.deps, deadline, offset, today)
    if job is None:
        return None
    runtime.sender.poke()
    sending = SendingRepo(app.db)
    for _ in range(150):
        if not (await sending.outcome(job)).get("pending"):
            break
        await asyncio.sleep(0.1)
    return job


def reminders(chat: Chat, who: str) -> list[str]:
    return [t for t in chat.texts(who) if "Nhắc hạn" in t]


async def a_unit_goes_through_its_tasks(chat: Chat, runtime: Runtime) -> None:
    app = runtime.app
    assert app is not None
    # invited by the unit's name, typed without diacritics
    confirm = await chat.say(chat.admin, "/moi bao hiem xa hoi", "Tạo mã")
    assert "Tạo mã mời cho cán bộ Bảo hiểm xã hội huyện?" in confirm
    created = await chat.choose(chat.admin, "Tạo mã", "start")
    admin = await app.deps.users.get(chat.channel, str(chat.ids[chat.admin]))  # type: ignore[attr-defined]
    assert admin is not None  # the office's chat gets the digest and reminders
    await SubscriptionRepo(app.db).add(
        chat.channel, admin.external_id, "vi", admin.id, app.clock.now()
    )
    joined = await chat.say("unit", chat.invite_code(created), "họ và tên")
    assert "Đăng ký thành công: bạn là cán bộ Bảo hiểm xã hội huyện." in joined
    await chat.say("unit", "Hoàng Văn Bảo", "Chức vụ")
    await chat.say("unit", "Phó Giám đốc BHXH huyện", "Kiểm tra lại")
    await chat.choose("unit", "Đúng, lưu lại", "Đã lưu")

    # sees its tasks (and the criterion it answers for), nothing of the other units
    listing = await chat.say("unit", "/viec", "Việc của Bảo hiểm xã hội huyện theo Kế hoạch")
    assert "Khẩn trương rà soát thẻ BHYT" in listing and "hạn 30/09/2021" in listing
    assert "Hoàn thiện hồ sơ kết quả tỷ lệ người dân tham gia BHYT" in listing
    assert "Tiêu chí xã 15.1" in listing
    assert "Phòng Tư pháp" not in listing and "Phòng Y tế" not in listing

    # before it finishes, the dossier's reminder reaches the unit's staff
    assert await send_reminder(runtime, "van-ban-danh-gia", 7) is not None
    first = await chat.wait("unit", "Nhắc hạn")
    assert "Bảo hiểm xã hội huyện" in first and "/viec" in first

    # one blocked, with the reason
    await chat.choose("unit", "Khẩn trương rà soát", "Tình trạng hiện nay?")
    await chat.choose("unit", "Vướng mắc", "Vướng mắc gì?")
    saved = await chat.say("unit", "Còn 300 hộ nghèo chưa được cấp thẻ", "Đã cập nhật")
    assert "vướng mắc: Còn 300 hộ nghèo chưa được cấp thẻ (quá hạn 15 ngày)" in saved
    # one done
    await chat.say("unit", "/viec", "Chọn một việc")
    await chat.choose("unit", "Hoàn thiện hồ sơ kết quả", "Tình trạng hiện nay?")
    done = await chat.choose("unit", "Đã hoàn thành", "Đã cập nhật")
    assert "đã hoàn thành 15/10/2021" in done
    marks = await TaskProgressRepo(app.db).current()
    assert marks[("bhyt.bhxh", None)].status is TaskStatus.BLOCKED
    assert marks[("van-ban-danh-gia.bhxh", None)].status is TaskStatus.DONE
    assert {m.channel for m in marks.values()} == {chat.channel}

    # the next reminder for the done dossier goes to the units still at it, not to this one
    office_before = len(reminders(chat, chat.admin))
    assert await send_reminder(runtime, "van-ban-danh-gia", 1) is not None
    office = await chat.wait(chat.admin, "Nhắc hạn")
    assert len(reminders(chat, chat.admin)) == office_before + 1
    latest = reminders(chat, chat.admin)[-1]
    assert "Phòng Tư pháp" in latest and "Bảo hiểm xã hội huyện" not in latest, office
    assert len(reminders(chat, "unit")) == 1  # only the one from before it finished

    # answers follow the status
    answer = await chat.say("unit", "hạn BHYT", "Thời hạn")
    assert "vướng mắc: Còn 300 hộ nghèo chưa được cấp thẻ" in answer
    duties = await chat.say(chat.admin, "BHXH huyện phụ trách gì", "nhiệm vụ theo Kế hoạch")
    assert "hạn 15/11/2021 (đã hoàn thành 15/10/2021)" in duties

    # the weekly digest: the blocked task with its reason, the unit's completion rate
    await send_digest(runtime, f"digest:tasks:{chat.channel}")
    digest = await chat.wait(chat.admin, "Việc được giao theo Kế hoạch")
    assert "Bảo hiểm xã hội huyện: 1/2 (50%)" in digest
    assert "Còn 300 hộ nghèo chưa được cấp thẻ" in digest
    assert "Bảo hiểm xã hội huyện — Hoàn thiện hồ sơ kết quả" in digest  # completed this week

    # the export has the tasks
    files = await chat.files(chat.admin, "/xuat")
    xlsx = next(body for body in files.values() if body[:2] == b"PK")
    sheet = load_workbook(io.BytesIO(xlsx))["Việc"]
    header = [c.value for c in sheet[1]]
    rows = {r[0].value: [c.value for c in r] for r in sheet.iter_rows(min_row=2) if r[0].value}
    status = header.index("Tình trạng")
    assert rows["bhyt.bhxh"][status] == "Vướng mắc"
    assert rows["van-ban-danh-gia.bhxh"][status] == "Đã hoàn thành"
    assert rows["van-ban-danh-gia.bhxh"][header.index("Người cập nhật")].startswith("Hoàng Văn Bảo")


async def test_on_telegram(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        chat = TelegramChat(fake_telegram)
        chat.ids["unit"] = 711
        await a_unit_goes_through_its_tasks(chat, runtime)


async def test_on_zalo(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    env = zalo_env(tmp_path, bot=zalo_bot, NTM_PUBLIC_URL=PUBLIC)
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        chat = ZaloBotChat(zalo_bot, runtime)
        chat.ids["unit"] = "5e6f7a8b9c0d1e2f3a4b"
        await a_unit_goes_through_its_tasks(chat, runtime)
