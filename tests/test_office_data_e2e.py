"""The office's data end to end, the same story on Telegram (buttons) and Zalo (numbers):
two officers of one commune, a report started by words with a Vietnamese number form, a
correction by a colleague (announced, questioned, notified), the history in /xa, the exports
opened with openpyxl and csv, and the weekly digest."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.runner import Runtime
from storage.reports import ReportRepo
from storage.sending import SubscriptionRepo
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot
from tests.telegram_util import ADMIN, running_bot
from tests.test_zalo import send_digest
from tests.zalo_util import ZALO_ADMIN, number_of, running_zalo, zalo_env

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1

PUBLIC = "https://ntm.example.vn"


class Chat(Protocol):
    """One person's side of a channel: type, choose an offered option, collect files."""

    channel: str
    admin: str

    async def say(self, who: str, text: str, expect: str) -> str: ...
    async def choose(self, who: str, label: str, expect: str) -> str: ...
    async def wait(self, who: str, expect: str) -> str: ...
    async def files(self, who: str, text: str) -> dict[str, bytes]: ...
    def texts(self, who: str) -> list[str]: ...
    def invite_code(self, text: str) -> str: ...


async def _until(texts: Callable[[], list[str]], before: int, expect: str) -> str:
    """Everything after the first ``before`` messages, once one of them contains ``expect``."""
    deadline = time.monotonic() + 15
    while True:
        new = texts()[before:]
        if any(expect in text for text in new):
            return "\n".join(new)
        assert time.monotonic() < deadline, f"no {expect!r} in {new}"
        await asyncio.sleep(0.02)


class TelegramChat:
    channel = "telegram"
    admin = "admin"

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.ids = {"admin": ADMIN, "an": 701, "binh": 702}

    def _texts(self, who: str) -> Callable[[], list[str]]:
        return lambda: [m.text for m in self.fake.sent(self.ids[who])]

    def texts(self, who: str) -> list[str]:
        return self._texts(who)()

    async def say(self, who: str, text: str, expect: str) -> str:
        before = len(self.fake.sent(self.ids[who]))
        self.fake.push_text(self.ids[who], text)
        return await _until(self._texts(who), before, expect)

    async def choose(self, who: str, label: str, expect: str) -> str:
        """Press the newest button starting with ``label`` (or, in a numbered list of
        buttons such as "1. Khẩn trương …", whose text after the number does)."""
        chat = self.ids[who]

        def fits(button: str) -> bool:
            return button.startswith(label) or re.sub(r"^\d+\.\s+", "", button).startswith(label)

        message = next(
            m for m in reversed(self.fake.sent(chat)) if any(fits(b) for b, _ in m.buttons)
        )
        before = len(self.fake.sent(chat))
        self.fake.press(chat, message, next(b for b, _ in message.buttons if fits(b)))
        return await _until(self._texts(who), before, expect)

    async def wait(self, who: str, expect: str) -> str:
        return await _until(self._texts(who), 0, expect)

    async def files(self, who: str, text: str) -> dict[str, bytes]:
        chat = self.ids[who]
        before = len(self.fake.sent(chat))
        self.fake.push_text(chat, text)
        documents = [m for m in self.fake.sent(chat)[before:] if m.kind == "document"]
        deadline = time.monotonic() + 10
        while len(documents) < 2:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
            documents = [m for m in self.fake.sent(chat)[before:] if m.kind == "document"]
        return {m.file_name or "": m.file_bytes or b"" for m in documents}

    def invite_code(self, text: str) -> str:
        return f"/start {text.split('?start=')[1].split()[0]}"


class ZaloBotChat:
    channel = "zalo_bot"
    admin = "admin"

    def __init__(self, fake: FakeZaloBot, runtime: Runtime) -> None:
        self.fake = fake
        self.runtime = runtime
        self.ids = {
            "admin": ZALO_ADMIN,
            "an": "a1b2c3d4e5f6a7b8c9d0",
            "binh": "0f9e8d7c6b5a4f3e2d1c",
        }

    def _texts(self, who: str) -> Callable[[], list[str]]:
        return lambda: self.fake.texts(self.ids[who])

    def texts(self, who: str) -> list[str]:
        return self._texts(who)()

    async def say(self, who: str, text: str, expect: str) -> str:
        before = len(self.fake.texts(self.ids[who]))
        self.fake.push_text(self.ids[who], text)
        return await _until(self._texts(who), before, expect)

    async def choose(self, who: str, label: str, expect: str) -> str:
        offered = next(
            t
            for t in reversed(self.fake.texts(self.ids[who]))
            if re.search(r"^\s*(?:•\s*)?\d+\. ", t, re.M)
        )
        return await self.say(who, number_of(offered, label), expect)

    async def wait(self, who: str, expect: str) -> str:
        return await _until(self._texts(who), 0, expect)

    async def files(self, who: str, text: str) -> dict[str, bytes]:
        chat = self.ids[who]
        before = len(self.fake.texts(chat))
        self.fake.push_text(chat, text)
        pattern = rf"{re.escape(PUBLIC)}/files/\S+"
        deadline = time.monotonic() + 15
        while len(links := re.findall(pattern, "\n".join(self.fake.texts(chat)[before:]))) < 2:
            assert time.monotonic() < deadline, self.fake.texts(chat)[before:]
            await asyncio.sleep(0.02)
        port = self.runtime.web.port
        found: dict[str, bytes] = {}
        async with aiohttp.ClientSession() as session:
            for link in links:
                async with session.get(link.replace(PUBLIC, f"http://127.0.0.1:{port}")) as got:
                    assert got.status == 200
                    name = got.content_disposition.filename if got.content_disposition else ""
                    found[name or link] = await got.read()
        return found

    def invite_code(self, text: str) -> str:
        found = re.search(r"/start (\S+)", text)
        assert found, text
        return found[1]  # on Zalo the code alone will do


async def join(chat: Chat, who: str, name: str, position: str) -> None:
    confirm = await chat.say(chat.admin, "/moi Dân Lực", "Tạo mã")
    assert "Dân Lực" in confirm
    created = await chat.choose(chat.admin, "Tạo mã", "start")
    await chat.say(who, chat.invite_code(created), "họ và tên")
    await chat.say(who, name, "Chức vụ")
    await chat.say(who, position, "Kiểm tra lại")
    saved = await chat.choose(who, "Đúng, lưu lại", "Đã lưu")
    assert f"Đã lưu: {name} ({position})" in saved


async def the_office_can_rely_on_what_it_receives(chat: Chat, runtime: Runtime) -> None:
    app = runtime.app
    assert app is not None
    await join(chat, "an", "Nguyễn Văn An", "Công chức Văn hóa - Xã hội")
    await join(chat, "binh", "Trần Thị Bình", "Phó Chủ tịch UBND xã")

    # §4: started by words; a Vietnamese number form is read and said back; a percentage at a
    # count is explained with the field's own example.
    first = await chat.say("an", "tôi muốn báo cáo bhyt", "Câu 1/2")
    assert "Tỷ lệ người dân tham gia BHYT" in first
    second = await chat.say("an", "12,5 nghìn", "Câu 2/2")
    assert "Đã ghi số dân: 12.500 người." in second
    refused = await chat.say("an", "89,5%", "Xin nhập lại")
    assert "là một số đếm, không phải tỷ lệ phần trăm" in refused
    summary = await chat.say("an", "10.600", "Kiểm tra trước khi gửi")
    assert "Kỳ này đã có" not in summary
    receipt = await chat.choose("an", "Gửi báo cáo", "Đã nhận báo cáo số BC-000001")
    assert "Tỷ lệ tham gia BHYT: 84,8%" in receipt  # §3: the key figures it received
    assert "Số người tham gia BHYT (có thẻ còn hạn): 10.600 người" in receipt

    # §3: a colleague replaces it: announced, a sharp change questioned once, An told.
    await chat.say("binh", "/baocao bhyt", "Câu 1/2")
    questioned = await chat.say("binh", "9.000", "đúng chưa?")
    assert "khác nhiều so với lần báo cáo trước (12.500 người)" in questioned
    await chat.choose("binh", "Đúng, giữ số này", "Câu 2/2")
    summary = await chat.say("binh", "8.600", "Kiểm tra trước khi gửi")
    assert "Kỳ này đã có BC-000001 do Nguyễn Văn An" in summary
    assert "gửi bản này sẽ thay thế bản đó" in summary
    receipt = await chat.choose("binh", "Gửi báo cáo", "Đã nhận báo cáo số BC-000002")
    assert "thay cho báo cáo BC-000001" in receipt and "95,6%" in receipt
    told = await chat.wait("an", "vừa được")
    assert "Trần Thị Bình" in told and "BC-000002" in told
    assert "Số dân của xã: 12.500 người → 9.000 người" in told

    # /xa: the history with old and new values and who sent each version.
    history = await chat.say(chat.admin, "/xa Dân Lực", "BC-000002")
    assert "12.500 người → 9.000 người" in history
    assert "Trần Thị Bình" in history and "Nguyễn Văn An" in history

    # §2: exports the office can compute with.
    files = await chat.files(chat.admin, "/xuat")
    xlsx = next(body for name, body in files.items() if body[:2] == b"PK")
    text = next(body for name, body in files.items() if body[:2] != b"PK")
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames[0] == "Mới nhất"
    latest = book["Mới nhất"]
    header = [c.value for c in latest[1]]
    rows = {r[0].value: r for r in latest.iter_rows(min_row=2)}
    assert set(rows) == {c.name for c in await app.deps.communes.all()}
    population = rows["Dân Lực"][header.index("Tỷ lệ tham gia BHYT: Số dân (người)")]
    assert population.value == 9000 and population.data_type == "n"
    assert rows["Thọ Dân"][header.index("Tỷ lệ tham gia BHYT: Số dân (người)")].value is None
    sheet = book["Tỷ lệ tham gia BHYT"]
    head = [c.value for c in sheet[1]]
    versions = [
        (r[head.index("Người gửi")].value, r[head.index("Hiện hành")].value)
        for r in sheet.iter_rows(min_row=2)
    ]
    assert versions[0][0].startswith("Nguyễn Văn An") and versions[0][1].startswith("Không")
    assert versions[1][0].startswith("Trần Thị Bình") and versions[1][1] == "Có"
    table = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    insured = [r for r in table[1:] if r[0] == "Dân Lực" and r[7].startswith("Số người tham gia")]
    assert [(r[5], r[6], r[8], r[9]) for r in insured] == [
        ("1", "Không", "10600", "người"),
        ("2", "Có", "8600", "người"),
    ]

    # §5: the district digest names who has not reported and shows the corrected figure.
    await SubscriptionRepo(app.db).add(
        chat.channel, _external(chat, chat.admin), "vi", 1, app.clock.now()
    )
    await send_digest(runtime, f"digest:{chat.channel}")
    digest = await chat.wait(chat.admin, "Bản tin tuần")
    assert "Báo cáo trong tuần: 1/34 xã, thị trấn" in digest
    assert "Dân Lực: 95,6%" in digest and "Thọ Dân" in digest.split("Chưa báo cáo: ")[1]
    reports = await ReportRepo(app.db).all()
    assert [(r.version, r.channel) for r in reports] == [(1, chat.channel), (2, chat.channel)]


def _external(chat: Chat, who: str) -> str:
    return str(chat.ids[who])  # type: ignore[attr-defined]


async def test_on_telegram(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        await the_office_can_rely_on_what_it_receives(TelegramChat(fake_telegram), runtime)
        photos = [m for m in fake_telegram.sent(ADMIN) if m.kind == "photo"]
        assert photos and photos[-1].file_bytes and photos[-1].file_bytes[:4] == b"\x89PNG"


async def test_on_zalo(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    env = zalo_env(tmp_path, bot=zalo_bot, NTM_PUBLIC_URL=PUBLIC)
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        await the_office_can_rely_on_what_it_receives(ZaloBotChat(zalo_bot, runtime), runtime)
