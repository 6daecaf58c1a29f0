"""Pieces of the query engine: normalisation, dates, spelling, levels, answers' JSON fields."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.i18n import Tr
from handlers.qa import QA, PlanWriter
from knowledge import results as r
from knowledge.engine import QueryEngine
from knowledge.normalize import fold, has_diacritics, words
from knowledge.temporal import find_range
from tests.conftest import PLAN_TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tiêu chí 17,4", ["tieu", "chi", "17.4"]),
        ("ĐƯỜNG  giao   thông", ["duong", "giao", "thong"]),
        ("Phòng NN&PTNT", ["phong", "nnptnt"]),
        ("TN-MT; LĐ-TB&XH", ["tnmt", "ldtbxh"]),
        ("hạn 30/9/2021, BHYT trên 85%", ["han", "30/9/2021", "bhyt", "tren", "85%"]),
        ("tiêu chí 3, 4", ["tieu", "chi", "3", "4"]),
        ("Tiêu\u200b chí\x00 6", ["tieu", "chi", "6"]),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_fold_is_nfc_safe() -> None:
    decomposed = "Tie\u0302\u0301u chi\u0301"  # "Tiêu chí" typed with combining marks
    assert fold(decomposed) == "tieu chi"
    assert has_diacritics("tiêu") and not has_diacritics("tieu chi 17.4")


def _plan_year(month: int) -> int:
    return 2022 if month <= 3 else 2021


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("viec den han ngay 15/11/2021", dt.date(2021, 11, 15), dt.date(2021, 11, 15)),
        ("thang 12/2021", dt.date(2021, 12, 1), dt.date(2021, 12, 31)),
        ("viec den han thang 11", dt.date(2021, 11, 1), dt.date(2021, 11, 30)),
        ("thang 10 nam 2021", dt.date(2021, 10, 1), dt.date(2021, 10, 31)),
        ("quy i/2022", dt.date(2022, 1, 1), dt.date(2022, 3, 31)),
        ("han 30/9", dt.date(2021, 9, 30), dt.date(2021, 9, 30)),
        ("what is due in november 2021", dt.date(2021, 11, 1), dt.date(2021, 11, 30)),
        ("trong 10 ngay toi", dt.date(2021, 10, 15), dt.date(2021, 10, 25)),
    ],
)
def test_date_ranges(text: str, start: dt.date, end: dt.date) -> None:
    found = find_range(text, PLAN_TODAY, _plan_year)
    assert found is not None
    assert (found.start, found.end) == (start, end)


@pytest.mark.parametrize(
    "text",
    ["tieu chi 17.4", "4 lan/thang", "32/32 xa", "quyet dinh 1415/2017", "quy hoach", "may lan"],
)
def test_not_dates(text: str) -> None:
    assert find_range(text, PLAN_TODAY, _plan_year) is None


def test_spelling_is_corrected_but_unknown_words_are_left(engine: QueryEngine) -> None:
    assert engine.speller.correct(["phu", "trac"]) == ["phu", "trach"]
    assert engine.speller.correct(["phutrach"]) == ["phu", "trach"]
    assert engine.speller.correct(["weather"]) == ["weather"]
    assert engine.speller.correct(["gia", "lua"]) == ["gia", "lua"]


def test_a_word_of_the_language_is_changed_only_where_a_known_phrase_supports_it(
    engine: QueryEngine,
) -> None:
    # "riêng", "miệng", "tiếng" are words, not slips for "giếng" or "tiền"
    for word in ("rieng", "mieng", "tieng"):
        assert engine.speller.correct(["viec", word]) == ["viec", word]
    # a slip into another word of the language is still mended inside a known phrase
    assert engine.speller.correct(["phu", "trac"]) == ["phu", "trach"]


def test_number_alone_is_ambiguous_and_level_words_decide(engine: QueryEngine) -> None:
    _, both = engine.ask("tiêu chí 6", PLAN_TODAY)
    assert isinstance(both, r.Ambiguous)
    assert [level for level, _ in both.options] == ["xa", "huyen"]
    for question, code in [
        ("tiêu chí 6 cấp xã", "xa:6"),
        ("tiêu chí 6 huyện", "huyen:6"),
        ("tiêu chí huyện số 6", "huyen:6"),
        ("tiêu chí 6 sản xuất", "huyen:6"),
        ("tiêu chí 6 nhà văn hóa", "xa:6"),
    ]:
        _, result = engine.ask(question, PLAN_TODAY)
        assert isinstance(result, r.Owner), question
        assert result.indicator.code == code, question


def test_unit_names_do_not_decide_the_level(engine: QueryEngine) -> None:
    # "Bảo hiểm xã hội huyện" contains both "xã" and "huyện".
    _, result = engine.ask("Bảo hiểm xã hội huyện có phụ trách tiêu chí 15.1 không", PLAN_TODAY)
    assert isinstance(result, r.Owner)
    assert result.indicator.code == "xa:15.1" and result.asked_unit == "bhxh"


def test_ambiguous_answer_offers_both_levels(qa: QA) -> None:
    answer = qa.answer("tiêu chí 7", PLAN_TODAY)
    assert answer.intent == "ambiguous"
    assert "Cấp xã" in answer.text and "Cấp huyện" in answer.text
    actions = [c.action for row in answer.choices for c in row]
    assert actions == ["crit:xa:7", "crit:huyen:7"]


def test_relative_state_against_the_clock(qa: QA) -> None:
    before = qa.answer("hạn BHYT", dt.date(2021, 9, 18)).text
    assert "còn 12 ngày" in before
    after = qa.answer("hạn BHYT", dt.date(2021, 10, 3)).text
    assert "đã quá hạn 3 ngày" in after
    today = qa.answer("hạn BHYT", dt.date(2021, 9, 30)).text
    assert "hạn là hôm nay" in today


def test_english_is_detected_and_forced(qa: QA) -> None:
    assert qa.answer("who handles clean water", PLAN_TODAY).lang == "en"
    assert qa.answer("tieu chi 17.4 ai phu trach", PLAN_TODAY).lang == "vi"
    forced = qa.answer("tiêu chí 17.4", PLAN_TODAY, "en")
    assert forced.lang == "en" and "Lead unit" in forced.text


def test_out_of_scope_names_no_department(qa: QA) -> None:
    for question in ("giá lúa hôm nay", "thời tiết ngày mai", "bóng đá"):
        answer = qa.answer(question, PLAN_TODAY)
        assert answer.intent == "out_of_scope"
        assert answer.departments == [] and answer.criteria == []
        assert "Ví dụ" in answer.text


def test_dates_are_dd_mm_yyyy(qa: QA) -> None:
    text = qa.answer("hạn BHYT", PLAN_TODAY).text
    assert "30/09/2021" in text


@pytest.mark.parametrize(
    ("lang", "value", "written"),
    [("vi", 15, "15"), ("en", -77, "-77"), ("vi", 12000, "12.000"), ("en", 12000, "12,000")],
)
def test_day_counts_are_written_the_languages_way(
    qa: QA, lang: str, value: int, written: str
) -> None:
    # small counts need no locale data (none of ours groups below a thousand); larger are
    # grouped by Babel as the language does
    writer = PlanWriter(qa.kb, Tr(qa.translator, lang), PLAN_TODAY)
    assert writer.number(value) == written
