"""Reports are evidence for the commune's tasks: what a report changes in them is a task
mark whose source is the report (evidence.yaml, completions, and any report)."""

from __future__ import annotations

from pathlib import Path

from storage.tasks import TaskProgressRepo, TaskStatus
from tests.harness import Harness, harness


async def criterion(h: Harness, who: str, code: str, status: str) -> str:
    """Report one sub-indicator's status through the dialog; the receipt."""
    await h.say(who, "/baocao")
    await h.tap(who, "Tình trạng một tiêu chí")
    await h.say(who, code)
    await h.tap(who, status)
    await h.say(who, "bỏ qua")
    if status != "Đạt":
        await h.say(who, "30/11/2021")
    await h.say(who, "bỏ qua")  # no photos
    await h.tap(who, "Gửi báo cáo")
    return h.last(who)


async def bhyt(h: Harness, who: str, population: str, insured: str) -> str:
    await h.say(who, "/baocao bhyt")
    await h.say(who, population)
    await h.say(who, insured)
    await h.tap(who, "Gửi báo cáo")
    return h.last(who)


async def state(h: Harness, task: str) -> tuple[TaskStatus, int | None, str | None]:
    commune = next(c for c in await h.app.deps.communes.all() if c.name == "Dân Lực")
    mark = await TaskProgressRepo(h.app.db).current_of((task, commune.id))
    assert mark is not None
    return mark.status, mark.report_id, mark.note


async def test_a_status_report_completes_a_task_whose_every_indicator_is_met(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await h.register("admin", "o1", "Dân Lực")
        receipt = await criterion(h, "o1", "15.1", "Đạt")
        assert "Tỷ lệ người dân tham gia BHYT ở mỗi xã đạt trên 85%” của xã được ghi là đã" in (
            receipt
        )
        assert await state(h, "bhyt.cac-xa") == (TaskStatus.DONE, 1, None)
        await h.say("o1", "/viec")
        assert "đã hoàn thành 18/10/2021 (theo báo cáo BC-000001)" in h.last("o1")
        # a task serving forty indicators is not done because one of them is met
        await criterion(h, "o1", "17.4", "Đạt")
        marks = await TaskProgressRepo(h.app.db).current()
        assert not [k for k in marks if k[0] == "noi-dung-khac.cac-xa"]
        # a newer report saying 15.1 is not met opens the task again, saying why
        receipt = await criterion(h, "o1", "15.1", "Chưa đạt")
        assert "của xã được ghi là chưa hoàn thành" in receipt
        status, report, note = await state(h, "bhyt.cac-xa")
        assert (status, report) == (
            TaskStatus.IN_PROGRESS,
            3,
        ) and note == "BC-000003: chưa đạt 15.1"


async def test_a_measure_below_target_keeps_the_task_open_with_the_figure(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, today="2021-10-18") as h:
        await h.register("admin", "o1", "Dân Lực")
        receipt = await bhyt(h, "o1", "10.000", "8.020")
        assert "chưa hoàn thành" in receipt
        status, _report, note = await state(h, "bhyt.cac-xa")
        assert status is TaskStatus.IN_PROGRESS
        assert note == "BC-000001: Tỷ lệ tham gia BHYT 80,2% — mục tiêu trên 85%"
        await h.say("o1", "/viec")
        assert "đang thực hiện (BC-000001: Tỷ lệ tham gia BHYT 80,2%" in h.last("o1")
        await bhyt(h, "o1", "10.000", "8.800")
        assert (await state(h, "bhyt.cac-xa"))[:2] == (TaskStatus.DONE, 2)
        # blocked by the commune: a report below target leaves its reason in view
        await h.say("o1", "/viec")
        await h.tap_with("o1", "BHYT")
        await h.tap("o1", "Vướng mắc")
        await h.say("o1", "Thiếu kinh phí mua thẻ")
        await bhyt(h, "o1", "10.000", "8.000")
        assert (await state(h, "bhyt.cac-xa"))[0] is TaskStatus.BLOCKED
