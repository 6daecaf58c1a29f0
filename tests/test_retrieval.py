"""The plan's full text: passages with their sections, and retrieval as the last resort."""

from __future__ import annotations

import datetime as dt

from handlers.qa import QA
from knowledge.base import KnowledgeBase
from knowledge.engine import QueryEngine
from knowledge.passages import LEGAL_BASES, Passage, split_passages
from knowledge.results import NoFigure, OutOfScope, Passages
from tests.conftest import PLAN_TODAY

SAMPLE = """KẾ HOẠCH
Căn cứ Quyết định số 1/QĐ ngày 01/01/2020 của Tỉnh;

I. MỤC ĐÍCH

1. Mục đích

Làm cho xã đẹp hơn và dân giàu hơn.

II. NHIỆM VỤ

1.2. Đối với huyện:

- Phòng Tư pháp:

+ Hướng dẫn tiếp cận pháp luật xong trước ngày 15/11/2021.

- Phòng Tài chính: Chuẩn bị nguồn lực đầu tư, tham gia

chương trình chung.

Nơi nhận:
- Lưu: VT.
"""


def test_passages_carry_their_section_heading_and_bullet() -> None:
    passages = split_passages(SAMPLE)

    def starting(text: str) -> Passage:
        return next(p for p in passages if p.text.startswith(text))

    legal = starting("Căn cứ Quyết định số")
    assert legal.section == LEGAL_BASES
    goal = starting("Làm cho xã đẹp hơn")
    assert (goal.section, goal.heading) == ("I.1", "Mục đích")
    justice = starting("Hướng dẫn tiếp cận")
    assert (justice.section, justice.heading, justice.lead) == (
        "II.1.2",
        "Đối với huyện",
        "Phòng Tư pháp",
    )
    finance = starting("Phòng Tài chính")
    assert finance.text.endswith("tham gia chương trình chung.")  # a line broken mid-sentence
    assert finance.lead == "Phòng Tài chính"
    assert not any("Lưu" in p.text for p in passages)  # the distribution list is not the plan


def test_every_line_of_the_shipped_plan_is_in_a_passage(kb: KnowledgeBase) -> None:
    words = " ".join(p.text for p in kb.passages)
    assert len(kb.passages) > 80
    for needle in ("558/QĐ-TTg", "4 lần/tháng", "Sân vận động huyện", "Quý I năm 2022"):
        assert needle in words, needle
    sections = {p.section for p in kb.passages}
    assert {"I.1", "II.5", "III.1.1", "III.1.2", "III.2.2", "IV.2", LEGAL_BASES} <= sections


# Questions no curated fact answers, only the plan's text (the curated ones win elsewhere).
TEXT_ONLY = {
    "rãnh thoát nước trong khu dân cư": "III.2.2",
    "tính tiên phong gương mẫu của đảng viên": "III.2.2",
    "mỗi người một việc": "III.2.1",
    "kết quả thực hiện là tiêu chí đánh giá cuối năm": "IV.1",
}


def test_retrieval_quotes_the_plan_with_its_section(engine: QueryEngine, qa: QA) -> None:
    for question, section in TEXT_ONLY.items():
        _, result = engine.ask(question, PLAN_TODAY)
        assert isinstance(result, Passages), (question, result)
        assert result.passages[0].section == section, question
        answer = qa.answer(question, PLAN_TODAY)
        assert answer.text.startswith(f"Theo mục {section} của Kế hoạch"), answer.text
        assert answer.departments == []  # these passages name no owning unit


def test_a_passage_under_a_unit_names_it_and_its_dates(engine: QueryEngine, qa: QA) -> None:
    question = "Sở Nội vụ về thẩm tra thẩm định có văn bản"
    _, result = engine.ask(question, PLAN_TODAY)
    if isinstance(result, Passages):
        answer = qa.answer(question, PLAN_TODAY)
        assert "Phòng Nội vụ" in answer.departments
        assert "2021-11-15" in answer.deadlines


def test_words_that_only_share_syllables_are_not_a_match(engine: QueryEngine) -> None:
    # "tỷ" is in "tỷ lệ" and "giá" in "đánh giá", but "tỷ giá" (exchange rate) is not there.
    for question in ("tỷ giá đô la", "giá vàng", "cách nấu phở", "ty gia do la hom nay"):
        _, result = engine.ask(question, PLAN_TODAY)
        assert not isinstance(result, Passages), question


def test_a_match_on_a_small_part_of_the_question_is_no_answer(engine: QueryEngine, qa: QA) -> None:
    # "điện" (criterion 4) is one word of a question about phones, "bảo hiểm y tế" a part of
    # one about fees: the plan has nothing on them, and says so instead of a near topic.
    for question in (
        "điện thoại di động thông minh",
        "chợ đầu mối hải sản",
        "phí bảo hiểm y tế hộ gia đình bao nhiêu",
        "trường mầm non có tuyển giáo viên không",
        "mức phạt xây nhà không phép",
        "bao giờ có lương tháng 10",
    ):
        _, result = engine.ask(question, PLAN_TODAY)
        answer = qa.answer(question, PLAN_TODAY)
        if isinstance(result, NoFigure):  # a figure asked: said not to be given, and no more
            assert isinstance(result.then, OutOfScope), (question, result)
            assert "không nêu con số" in answer.text and "nêu như sau" not in answer.text
        else:
            assert isinstance(result, OutOfScope), (question, result)
            assert "không có thông tin" in answer.text
        assert answer.departments == [] and answer.deadlines == []


def test_english_answers_quote_the_vietnamese_text(qa: QA) -> None:
    answer = qa.answer("rãnh thoát nước trong khu dân cư", dt.date(2021, 10, 15), "en")
    assert "section III.2.2" in answer.text
    assert "in Vietnamese" in answer.text and "rãnh thoát nước" in answer.text


def test_a_time_line_after_a_list_holds_for_each_item() -> None:
    passages = split_passages(
        "II. NHIỆM VỤ\n1.1. Đối với xã:\n- Về hạ tầng:\n- + Làm đường.\n- + Sửa chợ.\n"
        "Thời gian hoàn thành trước ngày 31/12/2021.\n- Về sản xuất: làm mô hình.\n"
    )
    road, market = (p for p in passages if p.text in ("Làm đường.", "Sửa chợ."))
    assert road.closing == market.closing == "Thời gian hoàn thành trước ngày 31/12/2021."
    assert not next(p for p in passages if "làm mô hình" in p.text).closing
