"""What a question is about, measured generally (issue 23): the words that only frame a
question (the district's name, the programme's, "kế hoạch"), a head word of another subject,
another subject's "hết hạn", units typed as pieces of their acronym, and documents asked by
their issuer and subject. The examples are not those of any question set."""

from __future__ import annotations

import pytest

from handlers.qa import QA
from tests.conftest import PLAN_TODAY


def ask(qa: QA, question: str) -> dict[str, object]:
    return qa.answer(question, PLAN_TODAY).to_json()


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("p tn mt phụ trách gì", "Phòng Tài nguyên và Môi trường"),
        ("phong ld tb xh lo viec gi", "Phòng Lao động - Thương binh và Xã hội"),
        ("p. tư pháp làm gì", "Phòng Tư pháp"),
    ],
)
def test_a_unit_typed_as_pieces_of_its_acronym_or_with_p(qa: QA, question: str, unit: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "duties"
    assert answer["departments"] == [unit]


def test_the_district_name_is_not_what_a_question_is_about(qa: QA) -> None:
    # "Triệu Sơn" names where, not what: the school exam is another subject …
    answer = ask(qa, "tra cứu điểm thi lớp 10 ở Triệu Sơn")
    assert answer["intent"] == "out_of_scope" and answer["departments"] == []
    # … but inside a school's name it is the name a deadline says
    answer = ask(qa, "trường THPT Triệu Sơn 2 đạt chuẩn khi nào")
    assert answer["departments"] == ["Phòng Giáo dục và Đào tạo"]
    assert "2021-10-30" in answer["deadlines"]


@pytest.mark.parametrize(
    "question",
    ["phí làm thẻ bảo hiểm y tế bao nhiêu", "lương giáo viên mầm non triệu sơn bao nhiêu"],
)
def test_a_head_word_of_another_subject_before_a_topic_is_no_answer(qa: QA, question: str) -> None:
    answer = ask(qa, question)
    assert answer["departments"] == []
    assert "không có thông tin" in str(answer["text"])


def test_another_subjects_expiry_is_not_the_plans_calendar(qa: QA) -> None:
    answer = ask(qa, "thẻ căn cước hết hạn thì làm sao")
    assert answer["intent"] == "out_of_scope" and answer["deadlines"] == []
    assert ask(qa, "việc gì sắp hết hạn")["intent"] == "calendar"


def test_a_task_about_all_criteria_is_a_task_not_the_list(qa: QA) -> None:
    answer = ask(qa, "quay phóng sự về các tiêu chí do đơn vị nào")
    assert answer["intent"] == "owner"
    assert answer["departments"] == ["Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch huyện"]


@pytest.mark.parametrize(
    ("question", "number"),
    [
        ("tb của ban thường vụ huyện ủy số mấy", "325-TB/HU"),
        ("qd cua ubnd tinh so may", "1415/2017/QĐ-UBND"),
        ("quyết định của thủ tướng về tiêu chí huyện là số nào", "558/QĐ-TTg"),
    ],
)
def test_a_document_by_its_issuer_written_short(qa: QA, question: str, number: str) -> None:
    answer = ask(qa, question)
    assert answer["intent"] == "document"
    assert number in str(answer["text"])


def test_the_legal_bases_asked_in_other_words_list_every_document(qa: QA) -> None:
    answer = ask(qa, "kế hoạch dựa trên những văn bản nào")
    assert answer["intent"] == "document"
    for number in ("558/QĐ-TTg", "1415/2017/QĐ-UBND", "325-TB/HU", "01-NQ/ĐH"):
        assert number in str(answer["text"])


def test_a_plan_of_another_year_is_not_this_plan_though_its_dates_reach_it(qa: QA) -> None:
    answer = ask(qa, "kế hoạch năm 2022 giao cho xã việc gì")
    assert answer["intent"] == "not_this_plan" and answer["departments"] == []
    assert "năm 2022" in str(answer["text"])
    # a deadline of this plan that falls in 2022 is still this plan's
    answer = ask(qa, "đoàn trung ương thẩm định năm 2022 khi nào")
    assert answer["intent"] == "deadline" and "2022-03-31" in answer["deadlines"]
