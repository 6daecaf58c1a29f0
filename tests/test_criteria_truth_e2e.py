"""One truth about every criterion, end to end on Telegram (buttons) and Zalo Bot API (numbers):
what the office is told agrees with what the commune reported and the units marked.

A commune reports BHYT 88%: its criterion 15 is no longer late anywhere (/cuatoi, /xa,
/tonghop, the export, the web matrix), its BHYT task is done with the report as the source,
BHXH's /viec counts it, the commune's digest no longer calls BHYT overdue. Phòng Tư pháp marks
its own dossier on 18.5: no commune's criterion 18 moves. The district goal "32/32 xã" is
nobody's commune task. Communes are in Vietnamese order in the export and the web view."""

from __future__ import annotations

import io
import re
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.runner import Runtime
from storage.tasks import TaskProgressRepo, TaskStatus
from storage.web import WebLinkRepo
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot
from tests.telegram_util import running_bot
from tests.test_office_data_e2e import PUBLIC, Chat, TelegramChat, ZaloBotChat
from tests.test_zalo import send_digest
from tests.zalo_util import running_zalo, zalo_env

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1


async def join(chat: Chat, who: str, place: str, name: str, position: str) -> None:
    await chat.say(chat.admin, f"/moi {place}", "Tạo mã")
    created = await chat.choose(chat.admin, "Tạo mã", "start")
    await chat.say(who, chat.invite_code(created), "họ và tên")
    await chat.say(who, name, "Chức vụ")
    await chat.say(who, position, "Kiểm tra lại")
    await chat.choose(who, "Đúng, lưu lại", "Đã lưu")


def group(text: str, word: str) -> list[str]:
    """The criteria listed on the line of one standing in /xa ("⏰ Chậm (1): 15")."""
    found = re.search(rf"{word} \(\d+\): ([\d, ]+)", text)
    return [] if found is None else [c.strip() for c in found[1].split(",")]


def criteria_part(text: str) -> str:
    return text.split("Tình trạng 19 tiêu chí xã")[1].split("Báo cáo mới nhất")[0]


async def web_matrix(
    runtime: Runtime, channel: str, admin_external: str
) -> dict[str, dict[str, str]]:
    """The web overview's criteria matrix as the office's browser gets it: commune → criterion
    → standing (the cells' data)."""
    app = runtime.app
    assert app is not None
    user = await app.deps.users.get(channel, admin_external)
    assert user is not None
    token = await WebLinkRepo(app.db).create(user.id, app.clock.now(), app.deps.web_link_ttl)
    base = f"http://127.0.0.1:{runtime.web.port}"
    async with aiohttp.ClientSession() as http:
        signed = await http.post(f"{base}/web/login", data={"t": token}, allow_redirects=False)
        assert signed.status == 303
        cookie = signed.headers["Set-Cookie"].split(";")[0]
        page = await (await http.get(f"{base}/web/", headers={"Cookie": cookie})).text()
    matrix = page.split('id="matrix"')[1].split("</table>")[0]
    rows: dict[str, dict[str, str]] = {}
    for name, cells in re.findall(r'<th><a href="/web/xa/\d+">([^<]+)</a></th>(.*?)</tr>', matrix):
        rows[name] = dict(re.findall(r'data-criterion="([\d.]+)" data-standing="(\w+)"', cells))
    return rows


async def the_office_sees_what_was_reported(chat: Chat, runtime: Runtime) -> None:
    app = runtime.app
    assert app is not None
    await join(chat, "an", "Thọ Bình", "Lê Văn An", "Công chức Văn hóa - Xã hội")
    await join(chat, "bh", "bảo hiểm xã hội", "Hoàng Văn Bảo", "Phó Giám đốc")
    await join(chat, "tp", "phong tu phap", "Trịnh Thị Pháp", "Trưởng phòng")

    before = criteria_part(await chat.say("an", "/cuatoi", "Tình trạng 19 tiêu chí xã"))
    assert group(before, "Chậm") == ["15"]  # BHYT was due 30/09 and nothing says it is met

    # the commune reports BHYT 88%
    await chat.say("an", "/baocao bhyt", "Câu 1/2")
    await chat.say("an", "10.000", "Câu 2/2")
    await chat.say("an", "8.800", "Kiểm tra trước khi gửi")
    receipt = await chat.choose("an", "Gửi báo cáo", "Đã nhận báo cáo số BC-000001")
    assert "Đạt mục tiêu" in receipt and "88%" in receipt
    assert (
        "Tỷ lệ người dân tham gia BHYT ở mỗi xã đạt trên 85%” của xã được ghi là đã hoàn thành"
        in (receipt)
    )

    # /cuatoi and the office's /xa: criterion 15 is not late, 15.1 met by BC-000001
    mine = criteria_part(await chat.say("an", "/cuatoi", "Tình trạng 19 tiêu chí xã"))
    assert group(mine, "Chậm") == [] and group(mine, "Đang thực hiện") == ["15"]
    assert "15.1" in mine and "BC-000001: Tỷ lệ tham gia BHYT 88%" in mine
    office = criteria_part(await chat.say(chat.admin, "/xa Thọ Bình", "Tình trạng 19 tiêu chí"))
    assert office == mine

    # /viec: the commune's BHYT task done by the report; the district goal is nobody's task
    tasks = await chat.say("an", "/viec", "Việc của xã Thọ Bình theo Kế hoạch")
    assert "đã hoàn thành 15/10/2021 (theo báo cáo BC-000001)" in tasks
    assert "32/32" not in tasks
    marks = await TaskProgressRepo(app.db).current()
    communes = {c.name: c for c in await app.deps.communes.all()}
    mark = marks[("bhyt.cac-xa", communes["Thọ Bình"].id)]
    assert mark.status is TaskStatus.DONE and mark.report_id == 1

    # BHXH counts the commune among those meeting 15.1
    bhxh = await chat.say("bh", "/viec", "Tiêu chí đơn vị phụ trách")
    assert "1/34 xã đạt (⏰ 33)" in bhxh

    # /tonghop says of Thọ Bình what /xa says
    summary = await chat.say(chat.admin, "/tonghop", "Theo xã")
    line = next(x for x in summary.splitlines() if "Thọ Bình: ✅" in x)
    assert "✅ 0 · ⏰ 0 · ⏳ 1 · ❔ 18" in line

    # Phòng Tư pháp's own dossier on 18.5: no commune's criterion 18 moves
    other_before = criteria_part(await chat.say(chat.admin, "/xa Thọ Dân", "Tình trạng 19"))
    await chat.say("tp", "/viec", "Chọn một việc")
    await chat.choose("tp", "Hoàn thiện hồ sơ", "Tình trạng hiện nay?")
    await chat.choose("tp", "Đang thực hiện", "bao nhiêu phần trăm")
    await chat.say("tp", "40", "Đã cập nhật")
    other_after = criteria_part(await chat.say(chat.admin, "/xa Thọ Dân", "Tình trạng 19"))
    assert other_after == other_before and "18" in group(other_after, "Chưa có số liệu")

    # the commune's digest (each officer gets their commune's) no longer calls BHYT overdue
    await send_digest(runtime, f"digest:truth:{chat.channel}")
    digest = await chat.wait("an", "Bản tin tuần")
    assert "xã Thọ Bình" in digest
    overdue = digest.split("Đã quá hạn", 1)[1] if "Đã quá hạn" in digest else ""
    assert "BHYT" not in overdue and "32/32" not in overdue

    # the export: Vietnamese order, the same standings
    files = await chat.files(chat.admin, "/xuat")
    xlsx = next(body for body in files.values() if body[:2] == b"PK")
    sheet = load_workbook(io.BytesIO(xlsx))["Tiêu chí xã"]
    header = [c.value for c in sheet[1]]
    rows = {r[0].value: [c.value for c in r] for r in sheet.iter_rows(min_row=2)}
    names = list(rows)
    assert names.index("Dân Lực") < names.index("Dân Lý")
    assert names.index("Thọ Tân") < names.index("Thọ Thế") < names.index("Thọ Tiến")
    assert names.index("Dân Quyền") < names.index("Đồng Lợi") < names.index("Hợp Lý")
    assert rows["Thọ Bình"][header.index("TC 15")] == "⏳ Đang thực hiện"
    assert rows["Thọ Dân"][header.index("TC 18")] == "❔ Chưa có số liệu"

    # the web view's matrix: the same
    admin = str(chat.ids[chat.admin])  # type: ignore[attr-defined]
    matrix = await web_matrix(runtime, chat.channel, admin)
    assert matrix["Thọ Bình"]["15"] == "in_progress" and matrix["Thọ Dân"]["18"] == "no_data"
    listed = list(matrix)
    assert listed.index("Dân Lực") < listed.index("Dân Lý") < listed.index("Đồng Lợi")


async def test_on_telegram(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path, NTM_PUBLIC_URL=PUBLIC) as runtime:
        chat = TelegramChat(fake_telegram)
        chat.ids |= {"an": 721, "bh": 722, "tp": 723}
        await the_office_sees_what_was_reported(chat, runtime)


async def test_on_zalo(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    env = zalo_env(tmp_path, bot=zalo_bot, NTM_PUBLIC_URL=PUBLIC)
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        chat = ZaloBotChat(zalo_bot, runtime)
        chat.ids |= {
            "an": "7a1b2c3d4e5f6a7b8c9d",
            "bh": "8b2c3d4e5f6a7b8c9d0e",
            "tp": "9c3d4e5f6a7b8c9d0e1f",
        }
        await the_office_sees_what_was_reported(chat, runtime)
