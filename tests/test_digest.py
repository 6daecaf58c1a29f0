"""Weekly digests, reminders, announcements and the sender."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.scheduler import Scheduler
from bot.sender import Rejected, RetryLater, Sender, Unreachable
from bot.settings import load_settings
from handlers.broadcast import create_digest_job
from handlers.chart import coverage_chart
from handlers.digest import commune_digest, district_digest, load_digest_data
from handlers.i18n import Tr
from handlers.types import Reply
from storage.communes import Commune
from storage.sending import SendingRepo, SubscriptionRepo
from tests.cli_util import run_cli
from tests.fakes.telegram import FakeTelegram
from tests.harness import Harness, add_report, harness
from tests.telegram_util import ADMIN, running_bot


class Recorder:
    """A transport that records what it sends; it can fail on purpose."""

    channel = "test"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.crash_after: int | None = None
        self.blocked: set[str] = set()
        self.flood_once = False

    def parts(self, reply: Reply) -> list[Any]:
        parts: list[Any] = [reply.text] if reply.text else []
        if reply.photo is not None:
            parts.append(f"[photo {reply.photo.filename}]")
        return parts

    async def send_part(self, chat_id: str, part: Any) -> None:
        if chat_id in self.blocked:
            raise Unreachable("Forbidden: bot was blocked by the user")
        if self.flood_once:
            self.flood_once = False
            raise RetryLater(0.2, "429")
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise _Crash
        if part == "reject me":
            raise Rejected("Bad Request")
        self.sent.append((chat_id, part))


class _Crash(BaseException):
    """The process dies in the middle of a send."""


def sender_for(h: Harness, recorder: Recorder, rate: float = 200.0) -> Sender:
    # the same sender each time, as the bot restarted on its machine
    return Sender(
        h.app.db, {"test": recorder}, rate=rate, per_chat=0.0, now=h.clock.now, owner="host:bot"
    )


def scheduler_for(h: Harness) -> Scheduler:
    return Scheduler(h.app.deps, load_settings(), h.clock, lambda: None)


async def add_officers(h: Harness, count: int) -> None:
    communes = await h.app.deps.communes.all()
    for n in range(count):
        user = await h.app.deps.users.ensure(
            "test", f"off{n}", chat_id=f"off{n}", display_name=f"Cán bộ {n}"
        )
        await h.app.deps.users.register(user.id, "officer", communes[n % len(communes)].id)


async def jobs(h: Harness) -> list[str]:
    rows = await h.app.db.fetchall("SELECT key FROM jobs ORDER BY id")
    return [r["key"] for r in rows]


async def digest_jobs(h: Harness) -> list[str]:
    return [key for key in await jobs(h) if key.startswith("digest:")]


async def test_the_digest_goes_out_at_the_configured_time_once(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:  # a Monday
        await add_officers(h, 3)
        await SubscriptionRepo(h.app.db).add("test", "office-group", "vi", 1, h.clock.now())
        scheduler = scheduler_for(h)
        h.clock.set(dt.datetime(2021, 10, 18, 7, 29))
        assert await scheduler.tick() == []
        h.clock.set(dt.datetime(2021, 10, 18, 7, 31))
        assert len(await scheduler.tick()) == 1
        assert await scheduler.tick() == []
        assert await jobs(h) == ["digest:2021-W42"]
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        chats = Counter(chat for chat, _ in recorder.sent)
        assert set(chats) == {"office-group", "off0", "off1", "off2"}
        district = next(p for c, p in recorder.sent if c == "office-group")
        assert "huyện Triệu Sơn" in district and "Báo cáo trong tuần" in district
        commune = next(p for c, p in recorder.sent if c == "off0")
        assert "Bản tin tuần" in commune and "xã" in commune
    async with harness(tmp_path, today="2021-10-18") as h:  # restarted the same morning
        h.clock.set(dt.datetime(2021, 10, 18, 9, 0))
        assert await scheduler_for(h).tick() == []


async def test_a_digest_missed_while_down_is_sent_once_on_return(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-17") as h:
        await add_officers(h, 1)
        scheduler = scheduler_for(h)
        await scheduler.tick()  # installed and running on Sunday
        assert await digest_jobs(h) == []
    async with harness(tmp_path, today="2021-10-20") as h:  # Wednesday: down since Sunday
        scheduler = scheduler_for(h)
        h.clock.set(dt.datetime(2021, 10, 20, 10, 0))
        await scheduler.tick()
        assert await digest_jobs(h) == ["digest:2021-W42"]
        h.clock.set(dt.datetime(2021, 10, 25, 6, 0))  # next Monday, before the time
        await scheduler.tick()
        assert await digest_jobs(h) == ["digest:2021-W42"]
        h.clock.set(dt.datetime(2021, 10, 25, 8, 0))
        await scheduler.tick()
        assert await digest_jobs(h) == ["digest:2021-W42", "digest:2021-W43"]


async def test_a_new_installation_waits_for_the_next_digest_time(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-20") as h:  # first started on a Wednesday
        await add_officers(h, 1)
        scheduler = scheduler_for(h)
        h.clock.set(dt.datetime(2021, 10, 20, 10, 0))
        await scheduler.tick()
        assert await digest_jobs(h) == []
        h.clock.set(dt.datetime(2021, 10, 25, 7, 30))
        await scheduler.tick()
        assert await digest_jobs(h) == ["digest:2021-W43"]


async def test_reminders_seven_days_and_one_day_before_exactly_once(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-23") as h:
        await add_officers(h, 2)
        await SubscriptionRepo(h.app.db).add("test", "office", "vi", 1, h.clock.now())
        scheduler = scheduler_for(h)
        h.clock.set(dt.datetime(2021, 10, 23, 8, 0))  # 7 days before 30/10/2021
        await scheduler.tick()
        week = [k for k in await jobs(h) if k.startswith("reminder:")]
        assert "reminder:quy-hoach-xa:7" in week and "reminder:ho-so-tinh:7" in week
        assert await scheduler.tick() == []
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        reminders = [(c, p) for c, p in recorder.sent if p.startswith("⏰ Nhắc hạn")]
        planning = [p for c, p in reminders if "quy hoạch xây dựng xã" in p]
        assert {c for c, p in reminders if p in planning} == {"office", "off0", "off1"}
        assert "30/10/2021 (còn 7 ngày)" in planning[0] and "Các xã" in planning[0]
        dossier = [c for c, p in reminders if "trình tỉnh thẩm tra" in p]
        assert dossier == ["office"]  # a district deadline: the office, not the communes
        h.clock.set(dt.datetime(2021, 10, 29, 8, 0))
        await scheduler.tick()
        assert "reminder:quy-hoach-xa:1" in await jobs(h)
    async with harness(tmp_path, today="2021-10-29") as h:
        h.clock.set(dt.datetime(2021, 10, 29, 9, 0))
        await scheduler_for(h).tick()
        keys = await jobs(h)
        assert len(keys) == len(set(keys))
        assert keys.count("reminder:quy-hoach-xa:1") == 1


async def test_a_crash_in_the_middle_resumes_without_duplicates(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 30)
        h.clock.set(dt.datetime(2021, 10, 18, 8, 0))
        await create_digest_job(h.app.deps, h.clock.today(), "digest:2021-W42")
        first = Recorder()
        first.crash_after = 13
        with pytest.raises(_Crash):
            await sender_for(h, first).drain()
        second = Recorder()
        await sender_for(h, second).drain()
        everything = first.sent + second.sent
        assert len(everything) == len(set(everything)) == 30
        sending = SendingRepo(h.app.db)
        job = await sending.job("digest:2021-W42")
        assert job is not None and job.completed_at is not None
        assert (await sending.outcome(job.id)) == {"sent": 30}


async def test_outcomes_are_recorded_and_shown_to_the_office(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 4)
        recorder = Recorder()
        recorder.blocked = {"off1"}
        recorder.flood_once = True
        await create_digest_job(h.app.deps, h.clock.today(), "digest:2021-W42")
        await sender_for(h, recorder).drain()
        assert len(recorder.sent) == 3
        user = await h.app.deps.users.get("test", "off1")
        assert user is not None and user.unreachable_at is not None
        report, _board = (r.text for r in await h.say("admin", "/tonghop"))
        assert "Gửi tin gần đây" in report and "đã gửi 3" in report and "không đến được 1" in report
        assert "Cán bộ 1" in report and "blocked" in report


async def test_sending_keeps_to_the_rate(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_officers(h, 40)
        await create_digest_job(h.app.deps, h.clock.today(), "digest:2021-W42")
        recorder = Recorder()
        started = time.monotonic()
        await sender_for(h, recorder, rate=50).drain()
        elapsed = time.monotonic() - started
        assert len(recorder.sent) == 40
        assert 39 / 50 * 0.9 <= elapsed < 39 / 50 * 3  # paced, not faster than allowed


async def test_subscribe_in_a_group_and_announce(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await add_officers(h, 2)
        from handlers.types import Incoming

        group = Incoming(
            "test",
            "admin",
            "-100500",
            text="/dangky",
            is_group=True,
            update_key="g1",
            display_name="admin",
        )
        delivery = await h.app.processor.process(group)
        assert delivery is not None and "nhóm này sẽ nhận bản tin" in delivery.replies[0].text
        assert [s.chat_id for s in await SubscriptionRepo(h.app.db).all()] == ["-100500"]
        await h.say("admin", "/thongbao")
        await h.say("admin", "Họp giao ban NTM lúc 8h thứ Hai <b>đúng giờ</b> & mang số liệu.")
        await h.tap("admin", "Tất cả")
        assert "Xem trước thông báo" in h.last("admin")
        await h.tap("admin", "Gửi ngay")
        assert "tới 3 người/nhóm" in h.last("admin")
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        assert {c for c, _ in recorder.sent} == {"-100500", "off0", "off1"}
        assert all("<b>đúng giờ</b> & mang" in p for _, p in recorder.sent)
        await h.say("o9", "/thongbao")
        assert "quản trị viên" in h.last("o9")


async def test_the_district_digest_shows_progress_changes_and_who_is_behind(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await add_report(h, "Dân Lực", "bhyt", "2021-10-04", rate=80.0)
        await add_report(h, "Dân Lực", "bhyt", "2021-10-13", rate=83.5)
        await add_report(h, "Dân Lực", "bhyt", "2021-10-18", rate=86.2)  # this week
        await add_report(h, "Thọ Ngọc", "bhyt", "2021-10-12", rate=72.0)
        await add_report(h, "Xuân Thọ", "tieu-chi", "2021-10-01", status="dang", subject="xa:17")
        await add_report(h, "Xuân Thọ", "tieu-chi", "2021-10-15", status="dat", subject="xa:17")
        await add_report(h, "Xuân Thọ", "tieu-chi", "2021-10-15", status="chua", subject="xa:5")
        data = await load_digest_data(h.app.deps, h.clock.today())
        tr = Tr(h.app.deps.translator, "vi")
        text = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        assert "Báo cáo trong tuần: 1/34 xã, thị trấn" in text
        missing = text.split("Chưa báo cáo: ")[1].split("\n")[0]
        assert "Thọ Ngọc" in missing and "Dân Lực" not in missing
        coverage = text.split("Tỷ lệ tham gia BHYT theo xã")[1].split("Tình trạng tiêu chí")[0]
        assert coverage.index("Thọ Ngọc: 72%") < coverage.index("Dân Lực: 86,2%")  # worst first
        assert "Thọ Ngọc: 72% ⚠️ dưới mục tiêu" in coverage
        assert "Dân Lực: 86,2% (+6,2 điểm so với tuần trước) ✅" in coverage  # vs 80% on 04/10
        assert "• Xuân Thọ: ✅ 1 · ⏰ 1 · ⏳ 1 · ❔ 16" in text  # the criteria board, per commune
        changes = text.split("Thay đổi trong 7 ngày qua")[1].split("Thời hạn")[0]
        assert "Dân Lực: Tỷ lệ tham gia BHYT 80% → 86,2%" in changes  # vs before the 7 days
        assert "Thọ Ngọc: Tỷ lệ tham gia BHYT 72%" in changes
        assert "Xuân Thọ: tiêu chí 17 báo cáo đạt" in changes
        assert "Xuân Thọ: tiêu chí 5" not in changes
        one = commune_digest(h.app.deps.kb, data, await commune_named(h, "Xuân Thọ"), tr).plain()
        assert "✅ 1 · ⏰ 1 · ⏳ 1 · ❔ 16" in one and "Dân Lực" not in one


async def commune_named(h: Harness, name: str) -> Commune:
    return next(c for c in await h.app.deps.communes.all() if c.name == name)


def test_the_chart_has_every_vietnamese_glyph(tmp_path: Path) -> None:
    rates = [("Đồng Lợi", 91.5), ("Thọ Ngọc", 72.0), ("Xuân Thịnh", 85.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font"
        png = coverage_chart(
            rates, 85, title="Tỷ lệ tham gia BHYT — tuần 42", target_label="Mục tiêu 85%"
        )
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    many = coverage_chart(
        [(f"Xã {i}", i % 100) for i in range(500)], 85, title="t", target_label="m"
    )
    assert many[:4] == b"\x89PNG"


@pytest.mark.slow
def test_digest_preview_command(tmp_path: Path) -> None:
    env = {"NTM_DB_PATH": str(tmp_path / "d.sqlite3"), "NTM_TODAY": "2021-10-18"}
    result = run_cli("digest", "--preview", "--out", str(tmp_path / "c.png"), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Bản tin tuần 18/10/2021 – 24/10/2021: huyện Triệu Sơn" in result.stdout
    one = run_cli("digest", "--preview", "--commune", "dan luc", env=env, cwd=tmp_path)
    assert "xã Dân Lực" in one.stdout
    bad = run_cli("digest", "--preview", "--commune", "Hà Nội", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "không tìm thấy xã" in bad.stderr
    nowhere = run_cli("digest", "--send", env=env, cwd=tmp_path)
    assert nowhere.returncode == 2 and "TELEGRAM_BOT_TOKEN" in nowhere.stderr


@pytest.mark.slow
async def test_a_300_recipient_digest_against_telegrams_rate_limit(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    tg = fake_telegram
    tg.max_per_second = 30  # what Telegram enforces; 429 with retry_after beyond it
    async with running_bot(
        monkeypatch, tg, tmp_path, NTM_SEND_RATE="25", NTM_PER_CHAT_INTERVAL="1"
    ) as runtime:
        app = runtime.app
        assert app is not None
        communes = await app.deps.communes.all()
        for n in range(300):
            user = await app.deps.users.ensure("telegram", str(70_000 + n), chat_id=str(70_000 + n))
            await app.deps.users.register(user.id, "officer", communes[n % len(communes)].id)
        await SubscriptionRepo(app.db).add("telegram", str(ADMIN), "vi", 1, app.clock.now())
        tg.block(70_007)
        job_id = await create_digest_job(app.deps, app.clock.today(), "digest:test")
        assert job_id is not None
        runtime.sender.poke()
        sending = SendingRepo(app.db)

        async def finished() -> bool:
            outcome = await sending.outcome(job_id)
            return outcome.get("pending", 0) == 0

        deadline = time.monotonic() + 90
        while not await finished():
            assert time.monotonic() < deadline, await sending.outcome(job_id)
            await asyncio.sleep(0.5)
        outcome = await sending.outcome(job_id)
    assert outcome == {"sent": 300, "unreachable": 1}
    per_chat = Counter(chat for chat, messages in tg.messages.items() for _ in messages)
    digest_chats = [c for c in per_chat if 70_000 <= c < 70_300]
    assert len(digest_chats) == 299 and 70_007 not in digest_chats
    texts = Counter((chat, m.text) for chat, messages in tg.messages.items() for m in messages)
    assert all(n == 1 for n in texts.values())  # nothing delivered twice
    assert json.dumps(outcome)


async def test_the_deadline_window_reaches_the_end_of_the_week_and_names_what_is_next(
    tmp_path: Path,
) -> None:
    """On Friday 15/10/2021 the next 14 days end on 29/10; the plan's big date is Saturday
    30/10 (seven items, the office's own dossier among them): it must be in the digest."""
    async with harness(tmp_path, today="2021-10-15") as h:
        data = await load_digest_data(h.app.deps, h.clock.today())
        tr = Tr(h.app.deps.translator, "vi")
        text = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        assert "30/10/2021" in text and "Hoàn thiện hồ sơ, thủ tục trình tỉnh" in text
        assert "31/10/2021" in text  # "to the end of that week"
    async with harness(tmp_path, today="2021-12-01", db_name="later.sqlite3") as h:
        # nothing falls due until 19/12: say what comes next, every item of that day
        data = await load_digest_data(h.app.deps, h.clock.today())
        tr = Tr(h.app.deps.translator, "vi")
        text = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        assert "Không có việc nào đến hạn" in text
        after = text.split("Thời hạn gần nhất sau đó: 31/12/2021", 1)[1]
        next_items = [line for line in after.splitlines() if line.startswith("• ")]
        due_then = [d for d in h.app.deps.kb.deadlines if d.due == dt.date(2021, 12, 31)]
        assert len(due_then) >= 3
        assert len(next_items) >= len(due_then)


async def test_criteria_in_progress_are_named_with_their_commune_and_date(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao")
        await h.tap("o1", "Tình trạng một tiêu chí")
        await h.say("o1", "17.4")
        await h.tap("o1", "Đang thực hiện")
        await h.say("o1", "-")
        await h.say("o1", "30/11/2021")
        await h.say("o1", "bỏ qua")  # no photos
        await h.tap("o1", "Gửi báo cáo")
        data = await load_digest_data(h.app.deps, h.clock.today())
        tr = Tr(h.app.deps.translator, "vi")
        district = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        assert "Đang thực hiện: Dân Lực — tiêu chí 17.4, dự kiến đạt 30/11/2021" in district
        communes = {c.name: c for c in data.communes}
        own = commune_digest(h.app.deps.kb, data, communes["Dân Lực"], tr).plain()
        assert "tiêu chí 17.4, dự kiến đạt 30/11/2021" in own
        other = commune_digest(h.app.deps.kb, data, communes["Thọ Dân"], tr).plain()
        assert "17.4" not in other


def test_the_chart_shows_every_commune_and_the_weeks_change() -> None:
    from handlers.chart import _bars

    _figure, axes = _bars(
        [("Dân Lực", 88.2), ("Thọ Dân", 80.0)],
        85,
        "Mục tiêu 85%",
        None,
        ["Hợp Lý"],
        "chưa báo cáo",
        {"Dân Lực": 2.1},
    )
    labels = [t.get_text() for t in axes.get_yticklabels()]
    assert labels == ["Thọ Dân", "Dân Lực", "Hợp Lý"]  # lowest first, the gap labelled on top
    texts = [t.get_text() for t in axes.texts]
    assert "chưa báo cáo" in texts and "88,2 (+2,1)" in texts and "80,0" in texts
    legend = axes.get_legend()
    anchor = legend.get_bbox_to_anchor().transformed(axes.transAxes.inverted())
    assert anchor.y1 <= 0  # under the axes: it never covers a bar or a name


async def test_a_commune_digest_lists_the_communes_own_tasks_only(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        data = await load_digest_data(h.app.deps, h.clock.today())
        tr = Tr(h.app.deps.translator, "vi")
        commune = next(c for c in data.communes if c.name == "Dân Lực")
        text = commune_digest(h.app.deps.kb, data, commune, tr).plain()
        deadlines = text.split("Việc đến hạn", 1)[1]
        assert "Hoàn thành các nội dung khác của bộ tiêu chí xã NTM" in deadlines  # theirs
        assert "Văn phòng Điều phối" not in deadlines  # the office's dossier is not theirs
        assert "Ủy ban Mặt trận" not in deadlines


async def test_criteria_status_by_commune_shows_where_to_push(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        for code, status in (("xa:1", "dat"), ("xa:2", "dat"), ("xa:5", "chua")):
            await add_report(h, "Xuân Thọ", "tieu-chi", "2021-10-15", status=status, subject=code)
        await add_report(h, "Dân Lực", "tieu-chi", "2021-10-15", status="dang", subject="xa:17")
        data = await load_digest_data(h.app.deps, h.clock.today())
        tr = Tr(h.app.deps.translator, "vi")
        text = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        assert "• Xuân Thọ: ✅ 2 · ⏰ 1 · ⏳ 1 · ❔ 15" in text
        assert "• Dân Lực: ✅ 0 · ⏰ 1 · ⏳ 1 · ❔ 17" in text
        assert text.index("Dân Lực: ✅ 0") < text.index("Xuân Thọ: ✅ 2")  # most to do first
        assert "Đang thực hiện: Dân Lực — tiêu chí 17, chưa có ngày dự kiến" in text  # whole
        summary, board = (r.text for r in await h.say("admin", "/tonghop"))
        assert "Xuân Thọ: ✅ 2 · ⏰ 1 · ⏳ 1 · ❔ 15" in summary
        assert "Việc được giao theo Kế hoạch" in board


async def test_reminders_go_only_to_those_whose_task_is_open(tmp_path: Path) -> None:
    from storage.tasks import TaskProgressRepo, TaskStatus

    async with harness(tmp_path, today="2021-10-23") as h:
        await add_officers(h, 2)  # off0 in the first commune, off1 in the second
        await SubscriptionRepo(h.app.db).add("test", "office", "vi", 1, h.clock.now())
        communes = await h.app.deps.communes.all()
        marker = await h.app.deps.users.ensure("test", "office", chat_id="office")
        progress = TaskProgressRepo(h.app.db)
        async with h.app.db.transaction():
            await progress.mark(("quy-hoach-xa.cac-xa", communes[0].id), TaskStatus.DONE,
                                by_user=marker.id, channel="test", now=h.clock.now())  # fmt: skip
            await progress.mark(("ho-so-tinh.vpntm", None), TaskStatus.DONE,
                                by_user=marker.id, channel="test", now=h.clock.now())  # fmt: skip
            await progress.mark(("thpt.gd", None), TaskStatus.IN_PROGRESS, percent=50,
                                by_user=marker.id, channel="test", now=h.clock.now())  # fmt: skip
        h.clock.set(dt.datetime(2021, 10, 23, 8, 0))  # 7 days before 30/10/2021
        await scheduler_for(h).tick()
        keys = await jobs(h)
        assert "reminder:ho-so-tinh:7" not in keys  # the office's dossier is done
        assert "reminder:quy-hoach-xa:7" in keys and "reminder:thpt:7" in keys
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        planning = [(c, p) for c, p in recorder.sent if "quy hoạch xây dựng xã" in p]
        assert {c for c, _ in planning} == {"office", "off1"}  # off0's commune has finished
        school = [p for c, p in recorder.sent if "Phòng Giáo dục" in p and "Nhắc hạn" in p]
        assert school and "đang thực hiện (50%)" in school[0]


async def test_the_digest_shows_a_finished_task_as_done_not_overdue(tmp_path: Path) -> None:
    from storage.tasks import TaskProgressRepo, TaskStatus

    async with harness(tmp_path, today="2021-11-01") as h:
        tr = Tr(h.app.deps.translator, "vi")
        data = await load_digest_data(h.app.deps, h.clock.today())
        before = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        dossier = [line for line in before.splitlines() if "trình tỉnh thẩm tra" in line]
        assert dossier and "đã quá hạn 2 ngày" in dossier[0]
        marker = await h.app.deps.users.ensure("test", "office", chat_id="office")
        async with h.app.db.transaction():
            await TaskProgressRepo(h.app.db).mark(("ho-so-tinh.vpntm", None), TaskStatus.DONE,
                by_user=marker.id, channel="test", now=h.clock.now())  # fmt: skip
        data = await load_digest_data(h.app.deps, h.clock.today())
        after = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        overdue = after.split("Đã quá hạn:")[1]
        assert "trình tỉnh thẩm tra" not in overdue  # finished: not overdue any more
        done = after.split("Hoàn thành trong 7 ngày qua (1):")[1].splitlines()[1]
        assert "01/11" in done and "Văn phòng Điều phối" in done


async def test_unit_staff_are_reminded_of_their_own_open_task_only(tmp_path: Path) -> None:
    from storage.tasks import TaskProgressRepo, TaskStatus

    async with harness(tmp_path, today="2021-11-01") as h:
        staff = {}
        for unit in ("tp", "yte", "nv"):
            user = await h.app.deps.users.ensure("test", f"staff-{unit}", chat_id=f"staff-{unit}")
            await h.app.deps.users.register(user.id, "unit", None, unit)
            staff[unit] = user
        async with h.app.db.transaction():
            await TaskProgressRepo(h.app.db).mark(("van-ban-danh-gia.tp", None), TaskStatus.DONE,
                by_user=staff["tp"].id, channel="test", now=h.clock.now())  # fmt: skip
            await TaskProgressRepo(h.app.db).mark(("van-ban-danh-gia.nv", None),
                TaskStatus.BLOCKED, note="Chờ số liệu của các xã", by_user=staff["nv"].id,
                channel="test", now=h.clock.now())  # fmt: skip
        h.clock.set(dt.datetime(2021, 11, 8, 8, 0))  # 7 days before 15/11/2021
        await scheduler_for(h).tick()
        assert "reminder:van-ban-danh-gia:7" in await jobs(h)
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        by_chat = {c: p for c, p in recorder.sent if "Nhắc hạn" in p}
        assert "staff-tp" not in by_chat  # their dossier is done
        health = by_chat["staff-yte"]
        assert "Phòng Y tế" in health and "/viec" in health
        assert "Phòng Tư pháp" not in health and "Phòng Nội vụ" not in health
        assert "vướng mắc: Chờ số liệu của các xã" in by_chat["staff-nv"]


async def test_the_digest_has_the_tasks_board(tmp_path: Path) -> None:
    from storage.tasks import TaskProgressRepo, TaskStatus

    async with harness(tmp_path, today="2021-11-18") as h:  # the dossiers were due 15/11
        communes = await h.app.deps.communes.all()
        who = await h.app.deps.users.ensure("test", "office", chat_id="office")
        repo = TaskProgressRepo(h.app.db)

        async def mark(key: tuple[str, int | None], status: TaskStatus, **kw: Any) -> None:
            async with h.app.db.transaction():
                await repo.mark(key, status, by_user=who.id, channel="test", now=h.clock.now(),
                                **kw)  # fmt: skip

        h.clock.set(dt.datetime(2021, 11, 5, 9, 0))
        await mark(("van-ban-danh-gia.ca", None), TaskStatus.DONE)  # two weeks ago
        h.clock.set(dt.datetime(2021, 11, 16, 9, 0))
        await mark(("van-ban-danh-gia.tp", None), TaskStatus.DONE)
        await mark(("van-ban-danh-gia.nv", None), TaskStatus.BLOCKED, note="Chờ số liệu xã")
        await mark(("quy-hoach-xa.cac-xa", communes[0].id), TaskStatus.DONE)
        h.clock.set(dt.datetime(2021, 11, 18, 9, 0))
        tr = Tr(h.app.deps.translator, "vi")
        data = await load_digest_data(h.app.deps, h.clock.today())
        text = district_digest(h.app.deps.kb, data, tr, "Triệu Sơn").plain()
        board = text[text.index("Việc được giao theo Kế hoạch") :]
        assert "Phòng Tư pháp: 1/1 (100%)" in board and "Phòng Y tế: 0/1 (0%)" in board
        overdue = board[board.index("Quá hạn, chưa hoàn thành") : board.index("Việc mỗi xã")]
        assert "Phòng Nội vụ — Hoàn thiện hồ sơ" in overdue
        assert "vướng mắc: Chờ số liệu xã (quá hạn 3 ngày)" in overdue
        assert "Phòng Tư pháp" not in overdue and "Công an huyện" not in overdue
        assert (
            "Hoàn thành quy hoạch xây dựng xã giai đoạn 2021-2030: 1/34 xã đã hoàn thành" in board
        )
        done = board[board.index("Hoàn thành trong 7 ngày qua") : board.index("Tiêu chí huyện")]
        assert "16/11 Phòng Tư pháp — Hoàn thiện hồ sơ tiêu chí cấp xã 18.5" in done
        assert f"16/11 xã {communes[0].name} — Hoàn thành quy hoạch" in done
        assert "Công an huyện" not in done  # finished two weeks ago
        assert "Tiêu chí huyện (theo việc của các đơn vị phụ trách)" in board
        # the office's /tonghop shows the same board
        await h.say("admin", "/tonghop")
        assert "Phòng Tư pháp: 1/1 (100%)" in h.last("admin")


async def test_announcements_reach_the_units_staff(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await add_officers(h, 1)
        for unit in ("tp", "yte"):
            user = await h.app.deps.users.ensure("test", f"staff-{unit}", chat_id=f"staff-{unit}")
            await h.app.deps.users.register(user.id, "unit", None, unit)
        await h.say("admin", "/thongbao")
        await h.say("admin", "Nộp hồ sơ thẩm định trước 12/11.")
        await h.tap("admin", "Cán bộ các đơn vị của huyện")
        await h.tap("admin", "Gửi ngay")
        assert "tới 2 người/nhóm" in h.last("admin")
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        assert {c for c, _ in recorder.sent} == {"staff-tp", "staff-yte"}
        await h.say("admin", "/thongbao")
        await h.say("admin", "Họp giao ban.")
        await h.tap("admin", "Tất cả")
        await h.tap("admin", "Gửi ngay")
        assert "tới 3 người/nhóm" in h.last("admin")  # the officer and both units' staff


async def test_each_units_staff_get_their_units_week(tmp_path: Path) -> None:
    from storage.tasks import TaskProgressRepo, TaskStatus

    async with harness(tmp_path, today="2021-10-18") as h:
        for unit, lang in (("bhxh", "vi"), ("tp", "en")):
            user = await h.app.deps.users.ensure("test", f"staff-{unit}", chat_id=f"staff-{unit}")
            await h.app.deps.users.register(user.id, "unit", None, unit)
            await h.app.deps.users.set_lang(user.id, lang)
        await add_officers(h, 1)
        who = await h.app.deps.users.get("test", "staff-bhxh")
        assert who is not None
        async with h.app.db.transaction():
            await TaskProgressRepo(h.app.db).mark(
                ("bhyt.bhxh", None), TaskStatus.BLOCKED, note="Thiếu kinh phí",
                by_user=who.id, channel="test", now=h.clock.now(),
            )  # fmt: skip
        await add_report(h, "An Nông", "tieu-chi", "2021-10-15", status="dat", subject="xa:15")
        assert await create_digest_job(h.app.deps, h.clock.today(), "digest:units") is not None
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        sent = dict(recorder.sent)
        health = sent["staff-bhxh"]
        assert "Bản tin tuần 18/10/2021 – 24/10/2021: Bảo hiểm xã hội huyện" in health
        assert "vướng mắc: Thiếu kinh phí (quá hạn 18 ngày)" in health
        assert "Tiêu chí xã 15.1" in health and "1/34 xã đạt" in health
        assert "Phòng Tư pháp" not in health and "BHYT theo xã" not in health
        justice = sent["staff-tp"]
        assert "Department of Justice" in justice and "Commune criterion 18.5" in justice
        assert "off0" in sent  # officers still get their commune's digest


async def test_the_districts_goal_is_no_communes_task_nor_its_reminder(tmp_path: Path) -> None:
    """32/32 xã đạt chuẩn is counted over the communes: an officer is not reminded of it,
    and it is not listed as their commune's overdue work."""
    from handlers.broadcast import create_reminder_job

    async with harness(tmp_path, today="2021-09-23") as h:
        await add_officers(h, 1)
        await SubscriptionRepo(h.app.db).add("test", "office", "vi", 1, h.clock.now())
        deadline = h.app.deps.kb.deadline_by_id["xa-dat-chuan"]
        assert await create_reminder_job(h.app.deps, deadline, 7, h.clock.today()) is not None
        recorder = Recorder()
        await sender_for(h, recorder).drain()
        reached = {c for c, p in recorder.sent if "32/32" in p}
        assert "office" in reached and "off0" not in reached
        h.clock.set(dt.datetime(2021, 10, 18, 8, 0))
        data = await load_digest_data(h.app.deps, h.clock.today())
        own = commune_digest(h.app.deps.kb, data, (await h.app.deps.communes.all())[0],
                             Tr(h.app.deps.translator, "vi")).plain()  # fmt: skip
        overdue = own.split("Đã quá hạn", 1)[1] if "Đã quá hạn" in own else ""
        assert "32/32" not in overdue and "BHYT" in overdue


async def test_an_officers_answers_speak_of_their_own_communes_share(tmp_path: Path) -> None:
    """Once a commune has done its share of a deadline (a report met its target), its
    officer is no longer told that deadline is overdue; the district still is, while other
    communes have not."""
    async with harness(tmp_path, today="2021-10-18") as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao bhyt")
        await h.say("o1", "10.000")
        await h.say("o1", "8.800")
        await h.tap("o1", "Gửi báo cáo")
        assert "được ghi là đã hoàn thành" in h.last("o1")
        mine = "\n".join(r.text for r in await h.say("o1", "việc nào đã quá hạn"))
        district = "\n".join(r.text for r in await h.say("admin", "việc nào đã quá hạn"))
        assert "BHYT" in district.split("Đã quá hạn")[1].split("\n\n")[0]
        overdue = mine.split("Đã quá hạn: ")[1].split("\n\n")[0]
        assert overdue.startswith("1 việc") and "BHYT" not in overdue
        assert "Ủy ban nhân dân huyện: Phấn đấu 32/32 xã" in overdue  # the goal: the district's
