"""One conversation, four channels: the same script and the same checks on Telegram, the Zalo
Bot API, Zalo OA and the terminal. Only the drivers differ: how a user types and how they pick
an option (a button, a number, a button that sends its label back as text)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.app import App, open_app
from bot.channels.console import ConsoleChannel
from bot.settings import load_settings
from storage.invites import InviteRepo
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA
from tests.telegram_util import running_bot
from tests.zalo_util import number_of, running_zalo, webhook_url, zalo_env

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1 or the bot as its own process

USER = "7001"


class Driver(Protocol):
    app: App

    async def say(self, text: str) -> str: ...

    async def choose(self, label: str) -> str: ...

    async def send_photos(self, *photos: bytes) -> str:
        """Send photos (as an album where the platform has albums); what the bot answered."""
        ...


async def settle(count: Any, quiet: float = 0.25, timeout: float = 10.0) -> None:
    """Wait until ``count()`` changed once and then stayed the same for ``quiet`` seconds."""
    start = count()
    deadline = asyncio.get_running_loop().time() + timeout
    while count() == start:
        assert asyncio.get_running_loop().time() < deadline, "the bot did not answer"
        await asyncio.sleep(0.02)
    seen = count()
    while True:
        await asyncio.sleep(quiet)
        if count() == seen:
            return
        seen = count()


class TelegramDriver:
    def __init__(self, app: App, tg: FakeTelegram) -> None:
        self.app, self.tg, self.user = app, tg, int(USER)

    def _state(self) -> tuple[tuple[int, int], ...]:
        return tuple((m.message_id, m.edits) for m in self.tg.sent(self.user))

    async def _after(self, act: Any) -> str:
        before = dict(self._state())
        act()
        await settle(self._state)
        changed = [m for m in self.tg.sent(self.user) if before.get(m.message_id) != m.edits]
        return "\n".join(m.text for m in changed)

    async def say(self, text: str) -> str:
        return await self._after(lambda: self.tg.push_text(self.user, text))

    async def send_document(self, data: bytes, name: str, mime: str) -> str:
        return await self._after(lambda: self.tg.push_document(self.user, data, name, mime))

    async def send_photos(self, *photos: bytes) -> str:
        group = f"album-{len(self.tg.updates)}" if len(photos) > 1 else None

        def push() -> None:
            for photo in photos:
                self.tg.push_photo(self.user, photo, media_group_id=group)

        return await self._after(push)

    async def choose(self, label: str) -> str:
        message = next(
            m
            for m in reversed(self.tg.sent(self.user))
            if any(b[0].startswith(label) for b in m.buttons)
        )
        text = next(b[0] for b in message.buttons if b[0].startswith(label))
        return await self._after(lambda: self.tg.press(self.user, message, text))


class ZaloBotDriver:
    def __init__(self, app: App, z: FakeZaloBot) -> None:
        self.app, self.z, self.last = app, z, ""

    async def say(self, text: str) -> str:
        before = len(self.z.messages.get(USER, []))
        self.z.push_text(USER, text)
        self.last = await self.z.answer(USER, before)
        return self.last

    async def choose(self, label: str) -> str:
        return await self.say(number_of(self.last, label))

    async def send_photos(self, *photos: bytes) -> str:
        answers = []
        for photo in photos:
            before = len(self.z.messages.get(USER, []))
            self.z.push_photo(USER, photo)
            answers.append(await self.z.answer(USER, before))
        self.last = answers[-1]
        return "\n".join(answers)


class ZaloOADriver:
    def __init__(self, app: App, oa: FakeZaloOA, url: str) -> None:
        self.app, self.oa, self.url, self.last = app, oa, url, ""

    async def say(self, text: str) -> str:
        before = len(self.oa.messages.get(USER, []))
        assert await self.oa.post_event(self.url, self.oa.text_event(USER, text)) == 200
        self.last = await self.oa.answer(USER, before)
        return self.last

    async def choose(self, label: str) -> str:
        buttons = [b for m in self.oa.messages[USER] for b in m.buttons]
        tapped = next((b for b in reversed(buttons) if b["title"].startswith(label)), None)
        if tapped is not None and label not in number_lines(self.last):
            return await self.say(tapped["payload"])  # a tap sends its payload as text
        return await self.say(number_of(self.last, label))

    async def send_photos(self, *photos: bytes) -> str:
        answers = []
        for photo in photos:
            before = len(self.oa.messages.get(USER, []))
            assert await self.oa.post_event(self.url, self.oa.image_event(USER, photo)) == 200
            answers.append(await self.oa.answer(USER, before))
        self.last = answers[-1]
        return "\n".join(answers)


def number_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if re.match(r"\s*\d+\.\s", line))


class ConsoleDriver:
    def __init__(self, app: App) -> None:
        self.app, self.out, self.last = app, io.StringIO(), ""
        self.channel = ConsoleChannel(app.processor, user=USER, stdout=self.out)
        self.folder = Path(app.settings.db_path).parent

    async def say(self, text: str) -> str:
        start = len(self.out.getvalue())
        await self.channel.say(text)
        self.last = self.out.getvalue()[start:]
        return self.last

    async def choose(self, label: str) -> str:
        return await self.say(number_of(self.last, label))

    async def send_photos(self, *photos: bytes) -> str:
        answers = []
        for index, photo in enumerate(photos):
            path = self.folder / f"anh-{index}.jpg"
            path.write_bytes(photo)
            answers.append(await self.say(f"@{path}"))
        return "\n".join(answers)


@asynccontextmanager
async def driver_for(
    channel: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, admin: bool = False
) -> AsyncIterator[Driver]:
    """The user ``USER`` on ``channel``; an administrator there if ``admin``."""
    async with AsyncExitStack() as stack:
        if channel == "telegram":
            tg = await FakeTelegram().start()
            stack.push_async_callback(tg.stop)
            extra = {"NTM_ADMIN_IDS": USER} if admin else {}
            runtime = await stack.enter_async_context(
                running_bot(monkeypatch, tg, tmp_path, **extra)
            )
            assert runtime.app is not None
            yield TelegramDriver(runtime.app, tg)
        elif channel == "zalo_bot":
            z = await FakeZaloBot().start()
            stack.push_async_callback(z.stop)
            env = zalo_env(tmp_path, bot=z) | _zalo_admin(admin)
            runtime = await stack.enter_async_context(
                running_zalo(monkeypatch, tmp_path, bot=z, env=env)
            )
            assert runtime.app is not None
            yield ZaloBotDriver(runtime.app, z)
        elif channel == "zalo_oa":
            oa = await FakeZaloOA().start()
            stack.push_async_callback(oa.stop)
            env = zalo_env(tmp_path, oa=oa) | _zalo_admin(admin)
            runtime = await stack.enter_async_context(
                running_zalo(monkeypatch, tmp_path, oa=oa, env=env)
            )
            assert runtime.app is not None
            yield ZaloOADriver(runtime.app, oa, webhook_url(runtime, "/zalo/oa"))
        else:
            monkeypatch.setenv("NTM_DB_PATH", str(tmp_path / "ntm.sqlite3"))
            monkeypatch.setenv("NTM_TODAY", "2021-10-15")
            app = await stack.enter_async_context(open_app(load_settings()))
            yield ConsoleDriver(app)


def _zalo_admin(admin: bool) -> dict[str, str]:
    return {"NTM_ZALO_ADMIN_IDS": f"bot:{USER},oa:{USER}"} if admin else {}


@pytest.mark.parametrize("channel", ["telegram", "zalo_bot", "zalo_oa", "console"])
async def test_the_same_report_dialog_on_every_channel(
    channel: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with driver_for(channel, monkeypatch, tmp_path) as user:
        app = user.app
        commune = next(c for c in await app.deps.communes.all() if c.name == "Dân Lực")
        admin = await app.deps.users.ensure("test", "admin")
        now = app.clock.now()
        await InviteRepo(app.db).create(
            "DLUC2345", "officer", commune.id, admin.id, now, now + dt.timedelta(days=1)
        )

        answer = await user.say("ai phụ trách tiêu chí 17.4")
        assert "Chỉ tiêu 17.4" in answer and "Phòng Kinh tế và Hạ tầng" in answer
        assert "bạn là cán bộ xã Dân Lực" in await user.say("/start DLUC2345")
        assert "Chọn mẫu báo cáo" in await user.say("/baocao")
        assert "Câu 1/2" in await user.choose("Tỷ lệ người dân tham gia BHYT")
        assert "Câu 2/2" in await user.say("10.000")
        assert "không được lớn hơn số dân (10.000)" in await user.say("12.000")
        assert "Câu 1/2" in await user.say("/quaylai")
        assert "Câu 2/2" in await user.say("9.000")
        summary = await user.say("8.600")
        assert "Tỷ lệ tham gia BHYT: 95,6%" in summary
        assert "Đã nhận báo cáo số BC-000001" in await user.choose("Gửi báo cáo")
        assert "BC-000001" in await user.say("/cuatoi")

        [report] = await app.db.fetchall("SELECT * FROM reports")
        assert report["channel"] == channel
        assert report["commune_id"] == commune.id
        assert '"population": 9000' in report["answers"] and '"insured": 8600' in report["answers"]


async def _officer_of_dan_luc(user: Driver) -> None:
    """``user`` joins Dân Lực with an invite and gives a name."""
    app = user.app
    commune = next(c for c in await app.deps.communes.all() if c.name == "Dân Lực")
    admin = await app.deps.users.ensure("test", "admin")
    now = app.clock.now()
    await InviteRepo(app.db).create(
        "DLUC2345", "officer", commune.id, admin.id, now, now + dt.timedelta(days=1)
    )
    assert "họ và tên" in await user.say("/start DLUC2345")
    assert "Chức vụ" in await user.say("Lê Văn Bình")
    assert "Kiểm tra lại" in await user.say("bỏ qua")
    assert "Đã lưu: Lê Văn Bình" in await user.choose("Đúng, lưu lại")


@pytest.mark.parametrize("channel", ["telegram", "zalo_bot", "zalo_oa"])
async def test_the_task_and_report_steps_people_tripped_on(
    channel: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """/viec takes statuses as people type them, keeps a share written in a note and says it
    back, shows one list with one numbering even with a question pending; a report takes
    spoken numbers ("một vạn hai" is 12.000)."""
    async with driver_for(channel, monkeypatch, tmp_path) as user:
        await _officer_of_dan_luc(user)
        tasks = await user.say("/viec")
        assert "1. Tỷ lệ người dân tham gia BHYT" in tasks
        assert "Tình trạng hiện nay?" in await user.say("1")
        done = await user.say("xong rồi")
        assert "Đã cập nhật: Tỷ lệ người dân tham gia BHYT" in done and "đã hoàn thành" in done

        assert "đã hoàn thành" in await user.say("/viec")
        assert "Tình trạng hiện nay?" in await user.say("2")
        listed = await user.say("/viec")  # a status question pending: one list, not two
        assert "Tình trạng hiện nay?" not in listed
        assert listed.count("1. Tỷ lệ người dân tham gia BHYT") == 1
        asked = await user.say("3")
        assert "Tình trạng hiện nay?" in asked and "quy hoạch xây dựng xã" in asked
        assert "phần trăm" in await user.choose("Đang thực hiện")
        noted = await user.say("da xong 5 xa, dat khoang 40 %")
        assert "40%" in noted and "Ghi chú: da xong 5 xa" in noted
        [mark] = await user.app.db.fetchall(
            "SELECT * FROM task_progress WHERE status = 'in_progress'"
        )
        assert mark["percent"] == 40

        assert "Chọn mẫu báo cáo" in await user.say("/baocao")
        assert "Câu 1/2" in await user.choose("Tỷ lệ người dân tham gia BHYT")
        spoken = await user.say("mot van hai")
        assert "12.000" in spoken and "Câu 2/2" in spoken


@pytest.mark.parametrize("channel", ["telegram", "zalo_bot"])
async def test_the_office_steps_people_tripped_on(
    channel: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """/moi: an unconfirmed invite is named when the next command comes, an office-staff code
    is confirmed like the others; the office's /viec: the number typed after a task is done
    is the number shown."""
    async with driver_for(channel, monkeypatch, tmp_path, admin=True) as user:
        invites = "SELECT role FROM invites"
        assert "Tạo mã mời cho cán bộ xã Dân Lực?" in await user.say("/moi Dân Lực")
        named = await user.say("/moi Thọ Bình")
        assert "Dân Lực ở tin trước chưa được tạo" in named
        staff = await user.say("/moi văn phòng")
        assert "Tạo mã mời cho cán bộ Văn phòng NTM huyện?" in staff and "Thọ Bình" in staff
        assert await user.app.db.fetchall(invites) == []  # nothing made without a tap
        assert "Mã mời cán bộ Văn phòng NTM huyện" in await user.choose("Tạo mã")
        assert [r["role"] for r in await user.app.db.fetchall(invites)] == ["staff"]

        assert "Việc của các đơn vị theo Kế hoạch" in await user.say("/viec")
        assert "Tình trạng hiện nay?" in await user.say("1")
        assert "Đã cập nhật" in await user.say("xong")
        listed = await user.say("/viec")
        assert "14. Hoàn thiện hồ sơ tiêu chí cấp xã 18.5" in listed
        picked = await user.say("14")
        assert "Tình trạng hiện nay?" in picked and "18.5" in picked and "Phòng Tư pháp" in picked


@pytest.mark.parametrize(
    ("channel", "count"), [("telegram", 3), ("zalo_bot", 1), ("zalo_oa", 1), ("console", 1)]
)
async def test_photos_of_the_clean_up_session_reach_the_report(
    channel: str, count: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The officer sends photos at the report's photo question (an album of three on
    Telegram); a renamed program is refused with a clear message; the photos are kept with
    the report, without their EXIF."""
    from PIL import Image

    from storage.media import MediaRepo
    from tests.photos import exe, jpeg, png_bomb

    async with driver_for(channel, monkeypatch, tmp_path) as user:
        await _officer_of_dan_luc(user)
        assert "Chọn mẫu báo cáo" in await user.say("/baocao")
        await user.choose("Ra quân vệ sinh môi trường")
        await user.say("4")
        await user.say("350")
        assert "Ảnh các buổi ra quân" in await user.choose("Đã tổ chức")
        refused = await user.send_photos(exe())
        assert "không phải ảnh (JPEG, PNG, WebP) hay tệp PDF" in refused
        if isinstance(user, TelegramDriver):  # files as files: too big, renamed, a bomb
            fetched = len([c for c in user.tg.calls if c[0] == "getFile"])
            big = await user.send_document(bytes(40 * 1024 * 1024), "video.mp4", "video/mp4")
            assert "Tệp “video.mp4” quá lớn (tối đa 20 MB)" in big
            assert len([c for c in user.tg.calls if c[0] == "getFile"]) == fetched  # not fetched
            renamed = await user.send_document(exe(), "anh.jpg", "image/jpeg")
            assert "Tệp “anh.jpg” không phải ảnh" in renamed
            bomb = await user.send_document(png_bomb(), "bom.png", "image/png")
            assert "Tệp “bom.png” có quá nhiều điểm ảnh" in bomb
        colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)][:count]
        answer = await user.send_photos(*(jpeg(color=c) for c in colours))
        assert f"Đã có {count} tệp" in answer
        summary = await user.say("xong")
        assert f"Ảnh các buổi ra quân: {count} ảnh" in summary
        assert "Đã nhận báo cáo số" in await user.choose("Gửi báo cáo")

        app = user.app
        [report] = await app.db.fetchall("SELECT * FROM reports")
        linked = await MediaRepo(app.db).of_reports([report["id"]])
        assert len(linked) == count
        for item in linked:
            data = await MediaRepo(app.db).content(item.media)
            assert data is not None
            image = Image.open(io.BytesIO(data))
            assert dict(image.getexif()) == {}
            assert item.media.latitude is not None and item.media.taken_at is not None
        got = {
            Image.open(io.BytesIO(await MediaRepo(app.db).content(i.media) or b"")).getpixel(
                (700, 500)
            )
            for i in linked
        }
        assert len(got) == count  # each photo once, none lost in the album


async def test_the_office_gets_a_commune_s_dossier_on_telegram(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """/hoso answers at once; the files come through the sender a moment later (the Word file
    and the photos' .zip as documents), read back from where they were stored once."""
    from docx import Document

    async with driver_for("telegram", monkeypatch, tmp_path, admin=True) as user:
        assert isinstance(user, TelegramDriver)
        tg = user.tg
        answer = await user.say("/hoso Dân Lực")
        assert "Đang lập hồ sơ minh chứng (Dân Lực)" in answer

        def documents() -> list[Any]:
            return [m for m in tg.sent(user.user) if m.kind == "document"]

        await tg.wait_until(lambda: len(documents()) >= 1, timeout=30)
        [word] = documents()  # no photos yet: the Word file alone
        assert word.file_name is not None and word.file_name.endswith(".docx")
        assert word.file_bytes is not None
        assert "Xã Dân Lực" in "\n".join(
            p.text for p in Document(io.BytesIO(word.file_bytes)).paragraphs
        )
