"""The read model of the criteria: every (place, indicator) from the reports, the task marks and
the plan's evidence rules (evidence.yaml), with its reason and source."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from handlers.criteria_view import reason
from handlers.i18n import Catalogs, Tr
from handlers.readmodel.criteria import Basis, Standing, derive_board
from handlers.task_view import Progress
from knowledge.base import KnowledgeBase
from storage.communes import Commune
from storage.reports import Report
from storage.tasks import TaskMark, TaskStatus

UTC = dt.UTC
_ids = itertools.count(1)


def commune(n: int, kind: str = "xa") -> Commune:
    return Commune(n, f"c{n}", f"Xã {n}", kind, True)


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day + "T08:00:00+00:00")


def status(place: int, subject: str, value: str, day: str, **answers: Any) -> Report:
    return _report(place, "tieu-chi", subject, "", {"indicator": subject, "status": value,
                   **answers}, {}, value == "dat", day)  # fmt: skip


def bhyt(place: int, rate: float, day: str) -> Report:
    answers = {"population": 1000, "insured": round(rate * 10)}
    return _report(place, "bhyt", "", day[:7], answers, {"rate": rate}, rate > 85, day)


def _report(
    place: int,
    form: str,
    subject: str,
    period: str,
    answers: dict[str, Any],
    computed: dict[str, Any],
    meets: bool,
    day: str,
) -> Report:
    moment = at(day)
    return Report(next(_ids), place, form, subject, period, 1, None, answers, computed, meets,
                  1, "test", moment, moment.date())  # fmt: skip


def mark(
    task: str, state: TaskStatus, place: int | None = None, day: str = "2021-09-01"
) -> TaskMark:
    return TaskMark(next(_ids), task, place, state, None, "x", 1, "test", at(day))


def progress(*marks: TaskMark) -> Progress:
    return Progress({m.key: m for m in marks}, len(marks), UTC)


def test_a_criterion_is_met_when_every_sub_indicator_is(kb: KnowledgeBase) -> None:
    today = dt.date(2021, 9, 1)  # before every deadline: nothing is late for lack of evidence
    reports = [
        status(1, "xa:15.1", "dat", "2021-08-01"),
        status(1, "xa:15.2", "dat", "2021-08-01"),
        status(2, "xa:15", "dat", "2021-08-01"),  # the whole criterion at once
        status(2, "xa:15.3", "chua", "2021-08-20"),  # … then one part found wanting
        status(3, "xa:15", "dat", "2021-08-20"),
        status(3, "xa:15.3", "chua", "2021-08-01"),  # older than the whole: superseded
    ]
    places = [commune(n) for n in (1, 2, 3, 4)]
    board = derive_board(kb, progress(), reports, places, today)
    assert board.standing(1, "xa:15") is Standing.IN_PROGRESS  # 15.3 not reported yet
    assert board.cell(1, "xa:15").parts == (2, 3)
    assert board.standing(2, "xa:15") is Standing.IN_PROGRESS
    assert board.standing(3, "xa:15") is Standing.MET
    assert board.standing(4, "xa:15") is Standing.NO_DATA
    assert board.standing(1, "xa:15.3") is Standing.NO_DATA
    reports.append(status(1, "xa:15.3", "dat", "2021-08-25"))
    board = derive_board(kb, progress(), reports, places[:1], today)
    assert board.standing(1, "xa:15") is Standing.MET
    assert board.count("xa:15") == {Standing.MET: 1}


def test_a_measure_report_meeting_its_target_meets_the_indicator(kb: KnowledgeBase) -> None:
    """BHYT 88% (target above 85%) is criterion 15.1 met, with the report as the reason; 80,2%
    is the figure, in progress before the due date and late after it."""
    tr = Tr(Catalogs(), "vi")
    places = [commune(1), commune(2)]
    reports = [bhyt(1, 88.0, "2021-09-20"), bhyt(2, 80.2, "2021-09-20")]
    before = derive_board(kb, progress(), reports, places, dt.date(2021, 9, 25))
    met = before.cell(1, "xa:15.1")
    assert met.standing is Standing.MET and met.basis is Basis.REPORT
    assert met.report is reports[0]
    why = reason(tr, kb, met, dt.date(2021, 9, 25), UTC)
    assert why.startswith(reports[0].number) and "88%" in why
    assert before.standing(2, "xa:15.1") is Standing.IN_PROGRESS
    after = derive_board(kb, progress(), reports, places, dt.date(2021, 10, 15))
    assert after.standing(1, "xa:15.1") is Standing.MET  # not late: it is met
    late = after.cell(2, "xa:15.1")
    assert late.standing is Standing.LATE
    why = reason(tr, kb, late, dt.date(2021, 10, 15), UTC)
    assert "80,2%" in why and "mục tiêu trên 85%" in why and "30/09/2021 đã qua" in why
    # a newer report below the target takes the place of the met one (a month later)
    worse = [*reports, bhyt(1, 84.0, "2021-10-05")]
    assert (
        derive_board(kb, progress(), worse, places, dt.date(2021, 10, 15)).standing(1, "xa:15.1")
        is Standing.LATE
    )


def test_a_district_units_dossier_never_moves_a_communes_standing(kb: KnowledgeBase) -> None:
    """Phòng Tư pháp's dossier on 18.5 is its own work: marked in progress (or done), no
    commune's 18.5 or 18 changes."""
    today = dt.date(2021, 10, 1)
    places = [commune(n) for n in range(1, 35)]
    quiet = derive_board(kb, progress(), [], places, today)
    for state in (TaskStatus.IN_PROGRESS, TaskStatus.DONE, TaskStatus.BLOCKED):
        marked = derive_board(kb, progress(mark("van-ban-danh-gia.tp", state)), [], places, today)
        assert marked.communes == quiet.communes
        assert all(marked.standing(p.id, "xa:18") is Standing.NO_DATA for p in places)


def test_late_when_the_due_date_or_the_expected_date_has_passed(kb: KnowledgeBase) -> None:
    reports = [status(1, "xa:18.5", "dang", "2021-08-01", expected="2021-09-15")]
    places = [commune(1), commune(2)]
    early = derive_board(kb, progress(), reports, places, dt.date(2021, 9, 10))
    assert early.standing(1, "xa:18.5") is Standing.IN_PROGRESS
    assert early.standing(2, "xa:18.5") is Standing.NO_DATA
    expected = derive_board(kb, progress(), reports, places, dt.date(2021, 9, 20))
    assert expected.standing(1, "xa:18.5") is Standing.LATE  # expected 15/09, still not met
    assert expected.standing(2, "xa:18.5") is Standing.NO_DATA  # due 30/10: not yet late
    due = derive_board(kb, progress(), [], places, dt.date(2021, 10, 31))
    cell = due.cell(2, "xa:18.5")
    assert cell.standing is Standing.LATE and cell.basis is Basis.DUE
    assert cell.due == dt.date(2021, 10, 30)


def test_the_communes_own_tasks_are_evidence_for_that_commune_only(kb: KnowledgeBase) -> None:
    """Food safety (17.8) rests on the commune's share of the ATTP task: done is met there;
    a newer report saying otherwise decides; tasks finished after it decide again."""
    places = [commune(1), commune(2)]
    today = dt.date(2021, 11, 10)
    done = progress(mark("attp.cac-xa", TaskStatus.DONE, 1, "2021-10-20"))
    board = derive_board(kb, done, [], places, today)
    cell = board.cell(1, "xa:17.8")
    assert cell.standing is Standing.MET and cell.basis is Basis.TASKS
    assert board.standing(2, "xa:17.8") is Standing.LATE
    contradicted = [status(1, "xa:17.8", "chua", "2021-10-25")]
    assert derive_board(kb, done, contradicted, places, today).standing(1, "xa:17.8") is (
        Standing.LATE
    )
    finished = progress(mark("attp.cac-xa", TaskStatus.DONE, 1, "2021-10-30"))
    assert derive_board(kb, finished, contradicted, places, today).standing(1, "xa:17.8") is (
        Standing.MET
    )
    # a task merely in progress does not undo a criterion reported met
    met = [status(1, "xa:17.8", "dat", "2021-10-01")]
    doing = progress(mark("attp.cac-xa", TaskStatus.IN_PROGRESS, 1, "2021-10-20"))
    assert derive_board(kb, doing, met, places, today).standing(1, "xa:17.8") is Standing.MET


def test_district_criteria_follow_their_units_tasks(kb: KnowledgeBase) -> None:
    due = kb.due(kb.task("van-ban-danh-gia.nv"))  # type: ignore[arg-type]
    before, after = due - dt.timedelta(days=1), due + dt.timedelta(days=1)
    assert derive_board(kb, progress(), [], [], before).district["huyen:9"].standing is (
        Standing.NO_DATA
    )
    assert derive_board(kb, progress(), [], [], after).district["huyen:9"].standing is (
        Standing.LATE
    )
    doing = progress(mark("van-ban-danh-gia.nv", TaskStatus.IN_PROGRESS))
    assert derive_board(kb, doing, [], [], before).district["huyen:9"].standing is (
        Standing.IN_PROGRESS
    )
    done = progress(mark("van-ban-danh-gia.nv", TaskStatus.DONE))
    cell = derive_board(kb, done, [], [], after).district["huyen:9"]
    assert cell.standing is Standing.MET and cell.mark is not None
    # 5 (Y tế - Văn hóa - Giáo dục) from its three parts
    parts = progress(mark("van-ban-danh-gia.yte", TaskStatus.DONE))
    five = derive_board(kb, parts, [], [], dt.date(2021, 10, 1)).district["huyen:5"]
    assert five.standing is Standing.IN_PROGRESS and five.parts == (1, 3)


def test_the_goal_counts_the_communes_meeting_every_criterion(kb: KnowledgeBase) -> None:
    today = dt.date(2021, 9, 1)
    places = [commune(1), commune(2), commune(3, "thi_tran")]
    reports = [status(p, f"xa:{n}", "dat", "2021-08-01") for p in (1, 3) for n in range(1, 20)]
    board = derive_board(kb, progress(), reports, places, today)
    assert board.meets_all(1) and board.meets_all(3) and not board.meets_all(2)
    [goal] = board.goals
    assert (goal.deadline, goal.met, goal.total) == ("xa-dat-chuan", 1, 2)  # xã only, not towns
    assert board.tally(1) == {Standing.MET: 19}


def test_what_a_unit_answers_for(kb: KnowledgeBase) -> None:
    assert [i.code for i in kb.owned_by("tp")] == ["xa:18.5"]  # part of criterion 18
    bhxh = [i.code for i in kb.owned_by("bhxh")]
    assert "xa:15.1" in bhxh and "xa:15" not in bhxh
    kt = [i.code for i in kb.owned_by("kt")]
    assert "xa:1" in kt and "xa:2" in kt  # whole criteria it owns
    assert kb.owned_by("cac-xa") == []


def test_with_several_tasks_it_is_late_only_on_an_unfinished_tasks_own_date(
    kb: KnowledgeBase,
) -> None:
    """15.2 rests on "the other contents" (due 30/10) and the infrastructure (due 31/12); the
    district's 5.3 on the schools (30/10) and the appraisal (15/11). What is late, and why,
    follows the task still to finish, not the earliest date of all."""
    tr = Tr(Catalogs(), "vi")
    day = dt.date(2021, 11, 1)
    places = [commune(1)]
    first_done = progress(
        mark("noi-dung-khac.cac-xa", TaskStatus.DONE, 1, "2021-10-20"),
        mark("ha-tang.cac-xa", TaskStatus.IN_PROGRESS, 1, "2021-10-21"),
    )
    cell = derive_board(kb, first_done, [], places, day).cell(1, "xa:15.2")
    assert cell.standing is Standing.IN_PROGRESS and cell.task == "ha-tang.cac-xa"
    assert "còn 60 ngày" in reason(tr, kb, cell, day, UTC)
    second_done = progress(mark("ha-tang.cac-xa", TaskStatus.DONE, 1, "2021-10-21"))
    cell = derive_board(kb, second_done, [], places, day).cell(1, "xa:15.2")
    assert cell.standing is Standing.LATE and cell.task == "noi-dung-khac.cac-xa"
    why = reason(tr, kb, cell, day, UTC)
    assert "Hoàn thành các nội dung khác" in why and "quá hạn 2 ngày" in why
    schools = progress(mark("thpt.gd", TaskStatus.DONE, None, "2021-10-20"))
    five = derive_board(kb, schools, [], [], day).district["huyen:5.3"]
    assert five.standing is Standing.NO_DATA or five.standing is Standing.IN_PROGRESS
    assert five.standing is not Standing.LATE and five.due == dt.date(2021, 11, 15)
    assert (
        derive_board(kb, schools, [], [], dt.date(2021, 11, 16)).district["huyen:5.3"].standing
        is Standing.LATE
    )
