"""Windows from today as officers say them."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.normalize import fold
from knowledge.temporal import find_range


def _range(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    found = find_range(fold(text), today, lambda month: today.year)
    assert found is not None, text
    return found.start, found.end


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("trong 2 tuần tới", 14),
        ("3 tuan toi", 21),
        ("hai tuần nữa", 14),
        ("trong 1 tháng tới", 31),  # a calendar month: to 15/11
        ("2 tháng tới", 61),  # to 15/12
        ("nửa tháng tới", 15),
        ("the next two weeks", 14),
        ("within 3 weeks", 21),
    ],
)
def test_a_window_of_weeks_or_months(text: str, days: int) -> None:
    today = dt.date(2021, 10, 15)
    assert _range(text, today) == (today, today + dt.timedelta(days=days))


@pytest.mark.parametrize(
    ("text", "today", "end"),
    [
        ("đến hết tháng sau", dt.date(2021, 10, 15), dt.date(2021, 11, 30)),
        ("den het thang sau", dt.date(2021, 12, 20), dt.date(2022, 1, 31)),  # over the year
        ("từ nay đến cuối năm", dt.date(2021, 10, 15), dt.date(2021, 12, 31)),
        ("đến hết tuần này", dt.date(2021, 10, 13), dt.date(2021, 10, 17)),  # a Wednesday
        ("by the end of next month", dt.date(2021, 10, 15), dt.date(2021, 11, 30)),
        ("đến hết quý này", dt.date(2021, 11, 2), dt.date(2021, 12, 31)),
    ],
)
def test_from_today_to_the_end_of_a_period(text: str, today: dt.date, end: dt.date) -> None:
    assert _range(text, today) == (today, end)


def test_a_named_month_is_still_that_month() -> None:
    assert _range("việc đến hạn tháng 11", dt.date(2021, 10, 15)) == (
        dt.date(2021, 11, 1),
        dt.date(2021, 11, 30),
    )


def test_from_today_to_the_end_of_a_named_month() -> None:
    today = dt.date(2021, 10, 15)
    assert _range("từ giờ tới cuối tháng 11 có mốc nào", today) == (today, dt.date(2021, 11, 30))
    assert _range("den het thang 12", today) == (today, dt.date(2021, 12, 31))


def test_to_the_end_of_a_named_year() -> None:
    today = dt.date(2021, 10, 15)
    assert _range("việc đến hết năm 2022", today) == (today, dt.date(2022, 12, 31))


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("sau 20/11 còn hạn gì", dt.date(2021, 11, 21), dt.date(2022, 11, 21)),
        ("ke tu sau ngay 5/12", dt.date(2021, 12, 6), dt.date(2022, 12, 6)),
        ("what is due after 1/11/2021", dt.date(2021, 11, 2), dt.date(2022, 11, 2)),
        ("tháng cuối năm", dt.date(2021, 12, 1), dt.date(2021, 12, 31)),
        ("nhung thang cuoi nam", dt.date(2021, 10, 1), dt.date(2021, 12, 31)),
        ("tháng đầu năm sau", dt.date(2022, 1, 1), dt.date(2022, 1, 31)),
    ],
)
def test_after_a_day_and_the_months_at_a_years_end(text: str, start: dt.date, end: dt.date) -> None:
    assert _range(text, dt.date(2021, 10, 15)) == (start, end)


def test_after_a_day_is_not_the_number_six() -> None:
    # "sau" is also "six": "sau 2 tháng nữa" is still a window of two months from today
    found = find_range(fold("sau 2 tháng nữa"), dt.date(2021, 10, 15), lambda m: 2021)
    assert found is not None and found.kind == "days" and found.days == 61  # to 15/12


def test_a_window_of_weeks_written_in_english_words() -> None:
    assert _range("the next five weeks", dt.date(2021, 10, 15)) == (
        dt.date(2021, 10, 15),
        dt.date(2021, 11, 19),
    )


def test_whole_dates_written_in_a_text() -> None:
    from knowledge.temporal import full_dates

    found = full_dates(fold("van ban ngay 3/5/2017, khong phai 31/2/2017 hay 12/8"))
    assert found == {dt.date(2017, 5, 3)}  # (31/2 is no day; 12/8 has no year)


def test_a_window_of_months_ends_on_the_same_day_or_the_months_last() -> None:
    assert _range("3 tháng tới", dt.date(2021, 11, 30))[1] == dt.date(2022, 2, 28)
    assert _range("trong 1 thang toi", dt.date(2021, 1, 31))[1] == dt.date(2021, 2, 28)


def test_the_end_of_this_year_is_its_last_month_unless_it_is_a_limit() -> None:
    today = dt.date(2021, 10, 15)
    assert _range("cuối năm nay có việc gì hết hạn", today) == (
        dt.date(2021, 12, 1),
        dt.date(2021, 12, 31),
    )
    assert _range("từ nay đến cuối năm nay", today) == (today, dt.date(2021, 12, 31))


@pytest.mark.parametrize("text", ["việc gì phải xong trước cuối năm nay", "truoc cuoi nam nay"])
def test_before_the_end_of_this_year_is_until_then(text: str) -> None:
    today = dt.date(2021, 10, 15)
    assert _range(text, today) == (today, dt.date(2021, 12, 31))
