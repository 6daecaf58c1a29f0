"""Criteria status derived from the owners' tasks and the communes' criteria reports."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from handlers.criteria_status import Standing, derive_board, owned_indicators
from handlers.task_view import Progress
from knowledge.base import KnowledgeBase
from storage.reports import Report
from storage.tasks import TaskMark, TaskStatus
from tests.harness import add_report, harness

UTC = dt.UTC
_ids = itertools.count(1)


def report(commune: int, subject: str, status: str, day: str, **answers: Any) -> Report:
    at = dt.datetime.fromisoformat(day + "T08:00:00+00:00")
    return Report(
        id=next(_ids),
        commune_id=commune,
        form_id="tieu-chi",
        subject=subject,
        period="",
        version=1,
        supersedes=None,
        answers={"indicator": subject, "status": status, **answers},
        computed={},
        meets_target=status == "dat",
        submitted_by=1,
        channel="test",
        submitted_at=at,
        report_date=at.date(),
    )


def mark(task: str, status: TaskStatus, commune: int | None = None) -> TaskMark:
    at = dt.datetime(2021, 9, 1, tzinfo=UTC)
    return TaskMark(next(_ids), task, commune, status, None, "x", 1, "test", at)


def progress(*marks: TaskMark) -> Progress:
    return Progress({m.key: m for m in marks}, len(marks), UTC)


def test_a_criterion_is_met_when_every_sub_indicator_is(kb: KnowledgeBase) -> None:
    today = dt.date(2021, 9, 1)  # before every deadline: nothing is late for lack of a task
    reports = [
        report(1, "xa:15.1", "dat", "2021-08-01"),
        report(1, "xa:15.2", "dat", "2021-08-01"),
        report(2, "xa:15", "dat", "2021-08-01"),  # the whole criterion at once
        report(2, "xa:15.3", "chua", "2021-08-20"),  # … then one part found wanting
        report(3, "xa:15", "dat", "2021-08-20"),
        report(3, "xa:15.3", "chua", "2021-08-01"),  # older than the whole: superseded
    ]
    board = derive_board(kb, progress(), reports, [1, 2, 3, 4], today)
    assert board.communes[1]["xa:15"] is Standing.IN_PROGRESS  # 15.3 not reported yet
    assert board.communes[2]["xa:15"] is Standing.IN_PROGRESS
    assert board.communes[3]["xa:15"] is Standing.MET
    assert board.communes[4]["xa:15"] is Standing.NO_DATA
    subs = derive_board(kb, progress(), reports, [1, 2], today, codes=["xa:15.1", "xa:15.3"])
    assert subs.communes[1] == {"xa:15.1": Standing.MET, "xa:15.3": Standing.NO_DATA}
    assert subs.communes[2] == {"xa:15.1": Standing.MET, "xa:15.3": Standing.IN_PROGRESS}
    reports.append(report(1, "xa:15.3", "dat", "2021-08-25"))
    board = derive_board(kb, progress(), reports, [1], today)
    assert board.communes[1]["xa:15"] is Standing.MET
    assert board.count("xa:15") == {Standing.MET: 1}


def test_late_when_the_expected_date_or_a_serving_task_has_passed(kb: KnowledgeBase) -> None:
    reports = [report(1, "xa:18.5", "dang", "2021-08-01", expected="2021-09-15")]
    early = derive_board(kb, progress(), reports, [1, 2], dt.date(2021, 9, 10), codes=["xa:18.5"])
    assert early.communes[1]["xa:18.5"] is Standing.IN_PROGRESS
    assert early.communes[2]["xa:18.5"] is Standing.NO_DATA
    after = derive_board(kb, progress(), reports, [1], dt.date(2021, 9, 20), codes=["xa:18.5"])
    assert after.communes[1]["xa:18.5"] is Standing.LATE  # expected 15/09, still not met
    # Phòng Tư pháp's dossier for 18.5 is due: undelivered it makes 18.5 late everywhere;
    # delivered, and the commune's own share of the remaining contents done, it is not
    due = kb.due(kb.task("van-ban-danh-gia.tp"))  # type: ignore[arg-type]
    later = due + dt.timedelta(days=1)
    undelivered = derive_board(kb, progress(), [], [2], later, codes=["xa:18.5"])
    assert undelivered.communes[2]["xa:18.5"] is Standing.LATE
    delivered = progress(mark("van-ban-danh-gia.tp", TaskStatus.DONE))
    board = derive_board(kb, delivered, [], [2], later, codes=["xa:18.5"])
    assert board.communes[2]["xa:18.5"] is Standing.LATE  # the commune's share is overdue
    both = progress(
        mark("van-ban-danh-gia.tp", TaskStatus.DONE),
        mark("noi-dung-khac.cac-xa", TaskStatus.DONE, commune=2),
    )
    board = derive_board(kb, both, [], [2, 3], later, codes=["xa:18.5"])
    assert board.communes[2]["xa:18.5"] is Standing.IN_PROGRESS
    assert board.communes[3]["xa:18.5"] is Standing.LATE
    met = [report(2, "xa:18", "dat", "2021-08-01")]
    assert (
        derive_board(kb, progress(), met, [2], later, codes=["xa:18.5"]).communes[2]["xa:18.5"]
        is Standing.MET
    )  # a met criterion is not late for an undelivered dossier


def test_a_communes_own_share_counts_for_that_commune_only(kb: KnowledgeBase) -> None:
    bhyt_due = kb.due(kb.task("bhyt.cac-xa"))  # type: ignore[arg-type]
    before = bhyt_due - dt.timedelta(days=3)
    marks = progress(mark("bhyt.cac-xa", TaskStatus.BLOCKED, commune=1))
    board = derive_board(kb, marks, [], [1, 2], before, codes=["xa:15.1"])
    assert board.communes[1]["xa:15.1"] is Standing.IN_PROGRESS  # blocked, but not yet due
    assert board.communes[2]["xa:15.1"] is Standing.NO_DATA


def test_district_criteria_follow_their_tasks(kb: KnowledgeBase) -> None:
    due = kb.due(kb.task("van-ban-danh-gia.nv"))  # type: ignore[arg-type]
    before, after = due - dt.timedelta(days=1), due + dt.timedelta(days=1)
    assert derive_board(kb, progress(), [], [], before).district["huyen:9"] is Standing.NO_DATA
    assert derive_board(kb, progress(), [], [], after).district["huyen:9"] is Standing.LATE
    doing = progress(mark("van-ban-danh-gia.nv", TaskStatus.IN_PROGRESS))
    assert derive_board(kb, doing, [], [], before).district["huyen:9"] is Standing.IN_PROGRESS
    done = progress(mark("van-ban-danh-gia.nv", TaskStatus.DONE))
    assert derive_board(kb, done, [], [], after).district["huyen:9"] is Standing.MET


def test_what_a_unit_answers_for(kb: KnowledgeBase) -> None:
    tp = [i.code for i in owned_indicators(kb, "tp")]
    assert tp == ["xa:18.5"]  # a sub-indicator of criterion 18, not all of it
    bhxh = [i.code for i in owned_indicators(kb, "bhxh")]
    assert "xa:15.1" in bhxh and "xa:15" not in bhxh
    kt = [i.code for i in owned_indicators(kb, "kt")]
    assert "xa:1" in kt and "xa:2" in kt  # whole criteria it owns
    assert owned_indicators(kb, "cac-xa") == []


async def test_units_and_communes_see_the_criteria_board_in_the_chat(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:  # 15/10/2021: the dossiers are due 15/11
        await h.register("admin", "tp1", "Phòng Tư pháp")
        await h.register("admin", "o1", "Dân Lực")
        await h.say("tp1", "/viec")
        text = h.last("tp1")
        assert "Tiêu chí đơn vị phụ trách" in text
        assert "Tiêu chí xã 18.5 — Xã đạt chuẩn tiếp cận pháp luật" in text
        assert "0/34 xã đạt (❔ 34)" in text
        await add_report(h, "Dân Lực", "tieu-chi", "2021-10-14", status="dat", subject="xa:18")
        await add_report(
            h, "Thọ Dân", "tieu-chi", "2021-10-01", status="dang", subject="xa:18.5",
            answers={"expected": "2021-10-10"},
        )  # fmt: skip
        await h.say("tp1", "/viec")
        assert "1/34 xã đạt (⏰ 1 · ❔ 32)" in h.last("tp1")
        await h.say("o1", "/xa")
        text = h.last("o1")
        assert "Tình trạng 19 tiêu chí xã" in text
        assert "✅ Đạt (1): 18" in text and "❔ Chưa có số liệu (17):" in text
        assert "⏰ Chậm (1): 15" in text  # BHYT was due 30/09 and nothing says it is met
        await h.say("admin", "/xa Thọ Dân")
        assert "⏰ Chậm (2): 15, 18" in h.last("admin")
        # the office reads a unit's board too; English reads in English
        await h.say("admin", "/viec tư pháp")
        assert "Tiêu chí xã 18.5" in h.last("admin")
        await h.say("admin", "/lang en")
        await h.say("admin", "/viec tư pháp")
        assert "Commune criterion 18.5" in h.last("admin") and "1/34 communes met" in h.last(
            "admin"
        )
