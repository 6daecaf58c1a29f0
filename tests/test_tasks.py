"""The plan's tasks in the chat: /viec lists them with their state; marking one is a short
dialog; an officer marks only their commune's share; the office marks or reopens any."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from storage.tasks import TaskProgressRepo, TaskStatus
from tests.harness import harness


async def test_an_officer_marks_the_communes_tasks(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/viec")
        listing = h.last("o1")
        assert "Việc của xã Dân Lực theo Kế hoạch" in listing
        assert "Hoàn thành quy hoạch xây dựng xã giai đoạn 2021-2030" in listing
        assert "hạn 30/10/2021: chưa cập nhật, còn 15 ngày" in listing  # today is 15/10/2021
        assert "Phòng Tư pháp" not in listing  # nothing of the units' internals
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        assert "Tình trạng hiện nay?" in h.last("o1")
        await h.tap("o1", "Đang thực hiện")
        assert "bao nhiêu phần trăm" in h.last("o1")
        await h.say("o1", "150")
        assert "từ 0 đến 100" in h.last("o1")
        await h.say("o1", "60%")
        assert "đang thực hiện (60%), còn 15 ngày" in h.last("o1")
        h.clock.advance(dt.timedelta(days=2))
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        await h.say("o1", "xong")  # typed words work as well as the buttons
        assert "đã hoàn thành 17/10/2021" in h.last("o1")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Tỷ lệ người dân tham gia BHYT")
        await h.tap("o1", "Vướng mắc")
        await h.say("o1", "ok")
        assert "lý do" in h.last("o1")
        await h.say("o1", "Còn 120 hộ chưa mua thẻ, thiếu kinh phí hỗ trợ")
        assert "vướng mắc: Còn 120 hộ chưa mua thẻ" in h.last("o1")
        communes = {c.name: c.id for c in await h.app.deps.communes.all()}
        current = await TaskProgressRepo(h.app.db).current()
        mine = {k: m.status for k, m in current.items() if k[1] == communes["Dân Lực"]}
        assert sorted(mine.values()) == [TaskStatus.BLOCKED, TaskStatus.DONE]
        history = await TaskProgressRepo(h.app.db).history(
            ("quy-hoach-xa.cac-xa", communes["Dân Lực"])
        )
        assert [m.status for m in history] == [TaskStatus.IN_PROGRESS, TaskStatus.DONE]
        # another commune's share, or a unit's task, cannot be marked by an officer
        before = len(await TaskProgressRepo(h.app.db).since(h.clock.now() - dt.timedelta(days=9)))
        await h.act("o1", f"task:pick:quy-hoach-xa.cac-xa:{communes['Thọ Dân']}")
        assert "chỉ cập nhật được việc của xã mình" in h.last("o1")
        await h.act("o1", "task:pick:van-ban-danh-gia.tp:0")
        assert "chỉ cập nhật được việc của xã mình" in h.last("o1")
        await h.act("o1", "task:set:done")
        after = len(await TaskProgressRepo(h.app.db).since(h.clock.now() - dt.timedelta(days=9)))
        assert after == before


async def test_the_office_sees_every_unit_marks_and_reopens(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("admin", "/viec")
        units = h.replies["admin"][-2].text
        communes = h.last("admin")
        assert "Việc của các đơn vị theo Kế hoạch" in units
        assert "Phòng Tư pháp" in units and "Văn phòng Điều phối nông thôn mới huyện" in units
        assert "Hoàn thiện hồ sơ tiêu chí cấp xã 18.5" in units
        assert "Việc mỗi xã phải làm" in communes and "0/34 xã đã hoàn thành" in communes
        await h.say("admin", "/viec tư pháp")
        only = h.last("admin")
        assert "Phòng Tư pháp" in only and "Phòng Y tế" not in only
        await h.tap_with("admin", "Hoàn thiện hồ sơ tiêu chí cấp xã 18.5")
        await h.tap("admin", "Đã hoàn thành")
        assert "đã hoàn thành 15/10/2021" in h.last("admin")
        await h.say("admin", "/viec tư pháp")
        await h.tap("admin", "1.")
        await h.tap("admin", "Mở lại")  # the office may reopen
        assert "chưa cập nhật, còn 31 ngày" in h.last("admin")
        # the office marks a commune's share too
        await h.say("admin", "/viec dan luc")
        assert "Việc của xã Dân Lực" in h.last("admin")
        await h.tap("admin", "1.")
        await h.tap("admin", "Đã hoàn thành")
        await h.say("admin", "/viec")
        assert "1/34 xã đã hoàn thành" in h.last("admin")
        await h.say("o1", "/viec")
        assert "đã hoàn thành 15/10/2021" in h.last("o1")  # the officer sees it


async def test_a_revoked_officer_cannot_finish_marking(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/viec")
        await h.tap("o1", "1.")
        await h.tap("o1", "Vướng mắc")
        await h.register("admin", "o1", "Thọ Dân")  # moved to another commune mid-dialog
        await h.say("o1", "Thiếu kinh phí")
        assert await TaskProgressRepo(h.app.db).current() == {}


async def test_answers_say_a_task_is_done_instead_of_overdue(tmp_path: Path) -> None:
    async with harness(tmp_path, today="2021-11-20") as h:
        await h.say("admin", "hạn của phòng tư pháp")
        before = h.last("admin")
        assert "Phòng Tư pháp" in before and "đã quá hạn 5 ngày" in before
        await h.say("admin", "/viec tư pháp")
        await h.tap_with("admin", "Hoàn thiện hồ sơ tiêu chí cấp xã 18.5")
        await h.tap("admin", "Đã hoàn thành")
        await h.say("admin", "hạn của phòng tư pháp")
        after = h.last("admin")
        assert "đã hoàn thành 20/11/2021" in after and "đã quá hạn 5 ngày" not in after
        # a deadline shared by many units: the finished one is named, the others stay late
        shared = await h.ask("admin", "việc đến hạn ngày 15/11/2021")  # every page of it
        assert "Phòng Tư pháp: lập hồ sơ" in shared or "Phòng Tư pháp" in shared
        assert "đã hoàn thành 20/11/2021" in shared and "đã quá hạn 5 ngày" in shared


async def test_statuses_and_progress_as_people_type_them(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        await h.tap("o1", "Đang thực hiện")
        await h.say("o1", "da xong 5 thon, dat khoang 40 %")  # the share in words, and a note
        saved = h.last("o1")
        assert "đang thực hiện (40%)" in saved
        assert "Ghi chú: da xong 5 thon, dat khoang 40 %" in saved  # said back
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        await h.tap("o1", "Đang thực hiện")
        await h.say("o1", "còn 30% chưa làm")  # what is left is not the share done
        assert "đang thực hiện (30%)" not in h.last("o1")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        asked = await h.say("o1", "xong rồi à?")  # a question, not a status
        assert "Xin chọn một tình trạng" in asked[0].text
        for typed in ("xong rồi", "Đã xong ạ", "đã hoàn thành hết"):
            await h.say("o1", "/viec")
            await h.tap_with("o1", "Hoàn thành quy hoạch")
            await h.say("o1", typed)
            assert "đã hoàn thành" in h.last("o1"), typed


async def test_a_new_list_replaces_a_pending_status_question(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        assert "Tình trạng hiện nay?" in h.last("o1")
        replies = await h.say("o1", "/viec")
        assert sum(1 for r in replies if r.choices) == 1  # one list, one numbering
        await h.say("o1", "1")  # picks the first task of the list shown
        assert "Tình trạng hiện nay?" in h.last("o1")


async def test_the_office_types_the_number_it_reads(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        listing = next(r for r in await h.say("admin", "/viec") if r.choices)
        first = listing.flat_choices()[0]
        await h.act("admin", first.action)
        await h.tap("admin", "Đã hoàn thành")
        after = next(r for r in await h.say("admin", "/viec") if r.choices)
        numbers = [c.label.split(".")[0] for c in after.flat_choices()]
        assert first.label.split(".")[0] not in numbers  # the done task has no button
        second = after.flat_choices()[0]
        await h.say("admin", second.label.split(".")[0])  # the number written on it
        assert second.label.split(". ", 1)[1][:20] in h.last("admin")
