"""Dates and periods in questions: "15/11/2021", "tháng 12/2021", "tháng 11", "quý I/2022",
"30 ngày tới", "tuần này", "next month", "in November" — as a :class:`DateRange`.

A month or day without a year is read in the plan's calendar: the year whose deadlines fall
in that month (the plan is about 2021 even when the clock says otherwise).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

RangeKind = Literal[
    "day", "month", "months", "quarter", "year", "days", "week", "until", "span", "after"
]
# "phải xong trước 30/10", "due by 30 October": everything up to that day, overdue included.
_FROM_NOW = re.compile(r"\btu (?:nay|gio|bay gio|hom nay) (?:den|toi)(?: (?:ngay|het))?$")
_UNTIL = re.compile(
    r"(?:\btruoc|\bbefore|\bby|\buntil|\bcho den|\bden het|\bno later than)"
    r"(?:\s+(?:ngay|the|hom))?\s*$"
)
BEGINNING = dt.date(1900, 1, 1)
# "sau 15/11 còn hạn nào", "after 15 November": what falls due later (within a year)
_AFTER = re.compile(r"(?:\bsau|\bke tu sau|\btu sau|\bafter)(?:\s+(?:ngay|the|hom))?\s*$")

_MONTHS_EN = {
    name: i
    for i, names in enumerate(
        [
            (),
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}

_DMY = re.compile(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\b")
_DMY_WORDS = re.compile(r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})(?:\s+nam\s+(\d{4}))?\b")
_DM = re.compile(
    r"\b(?:ngay|hom|on|by|han|truoc|den|toi|sau|after)\s+(\d{1,2})\s*[/-]\s*(\d{1,2})\b"
    r"(?!\s*[/.-]\s*\d)"
)
_MONTH = re.compile(r"\bthang\s+(\d{1,2})(?:\s*(?:[/-]|nam)\s*(\d{4}))?\b(?!\s*[/.-]\s*\d{1,2}\b)")
_MONTH_YEAR = re.compile(r"(?<![\d/.])\b(\d{1,2})\s*/\s*(\d{4})\b")
_MONTH_EN = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS_EN, key=len, reverse=True)) + r")\b(?:\s*,?\s*(\d{4}))?"
)
_QUARTER = re.compile(
    r"\b(?:quy|quarter|q)\s*(iv|iii|ii|i|[1-4])\b(?:\s*(?:[/-]|nam|of)?\s*(\d{4}))?"
)
_YEAR = re.compile(r"\b(?:nam|year|in)\s+(\d{4})\b")
_NEXT_DAYS = re.compile(
    r"\b(\d{1,3})\s+ngay\s+(?:toi|sap toi|nua|tiep theo|ke tiep|sau)\b"
    r"|\btrong\s+(\d{1,3})\s+ngay\b"
    r"|\b(?:next|within|coming)\s+(\d{1,3})\s+days?\b"
)

_COUNT = r"(\d{1,2}|mot|hai|ba|bon|sau|one|two|three|four|five|six|seven|eight|ten)"
_COUNT_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "sau": 6, "one": 1, "two": 2}
_COUNT_WORDS |= {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "ten": 10}
_AHEAD = r"(?:toi|sap toi|nua|tiep theo|ke tiep)"
# "2 tuần tới", "trong 3 tuần", "next two weeks"; "1 tháng tới", "trong 2 tháng nữa"
_NEXT_WEEKS = re.compile(
    rf"\b{_COUNT}\s+tuan\s+{_AHEAD}\b|\btrong\s+{_COUNT}\s+tuan\b"
    rf"|\b(?:next|within|coming)\s+{_COUNT}\s+weeks?\b"
)
_NEXT_MONTHS = re.compile(
    rf"\b{_COUNT}\s+thang\s+{_AHEAD}\b|\btrong\s+{_COUNT}\s+thang\s+{_AHEAD}?"
    rf"|\b(?:next|within|coming)\s+{_COUNT}\s+months?\b"
)
# "từ giờ tới cuối tháng 11", "đến hết năm 2022": from today to the end of that month or year
_TO_END_OF_NAMED = re.compile(
    r"\b(?:tu (?:nay|gio|bay gio) )?(?:den|toi) (?:het|cuoi) "
    r"(?:thang (\d{1,2})\b(?!\s*[/-]\s*\d)|nam (\d{4})\b)"
)
# "between now and the end of November", "until the end of December": from today on
_TO_END_OF_MONTH_EN = re.compile(
    r"\b(?:until|till|to|and|by)\s+the\s+end\s+of\s+("
    + "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
    + r")\b"
)
# "từ 20/10 đến 20/11", "from 20/10 to 20/11": between two days of the plan's year
_BETWEEN_DAYS = re.compile(
    r"\b(?:tu|from|giua|between)\s+(?:ngay\s+)?(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?"
    r"\s+(?:den|toi|to|until|and)\s+(?:ngay\s+)?(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?\b"
)
# "từ nay đến giữa tháng 11": from today to the 15th of that month
_TO_MID_MONTH = re.compile(r"\b(?:den|toi) giua thang (\d{1,2})\b(?!\s*[/-]\s*\d)")
# "2 tháng cuối năm", "3 tháng đầu năm sau": the months at either end of a year
# "2 tháng cuối năm"; "tháng cuối năm" is its last month, "các tháng cuối năm" its last quarter
_YEAR_END_MONTHS = re.compile(
    r"\b(?:(\d{1,2}|mot|hai|ba|bon|sau|one|two|three|four|six|cac|nhung) )?"
    r"thang (cuoi|dau) nam( sau| toi| nay| \d{4})?\b"
)
# "cuối năm nay có việc gì hết hạn": the year's last month (not "đến cuối năm nay": until then)
_END_OF_THIS_YEAR = re.compile(
    r"(?<!thang )(?<!den )(?<!toi )(?<!het )(?<!truoc )(?<!sau )(?<!tu )\bcuoi nam (nay|\d{4})\b"
)
# "đầu năm sau", "sang đầu năm tới": the first quarter of next year
_EARLY_NEXT_YEAR = re.compile(r"\bdau nam (?:sau|toi)\b|\bearly next year\b")
_HALF_MONTH = re.compile(r"\bnua\s+thang\s+(?:toi|nua|sap toi)\b|\bnext\s+fortnight\b")
# "đến hết tháng sau", "từ nay đến cuối năm", "by the end of next month": from today on
_TO_END = re.compile(
    r"\b(?:den|toi|tu nay den|tu nay toi|trong|truoc)\s+(?:het|cuoi)\s+"
    r"(thang nay|thang sau|thang toi|tuan nay|tuan sau|tuan toi|nam nay|nam|quy nay)\b"
    r"(?!\s*\d)"  # "đến hết năm 2022" names its year
    r"|\b(?:by|until|till|before|to|and)\s+the\s+end\s+of\s+(this|next|the)\s+"
    r"(month|week|year|quarter)\b"
)

DEFAULT_UPCOMING_DAYS = 30


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date
    kind: RangeKind
    days: int | None = None
    explicit: bool = True  # False for "hôm nay", "tuần này", ...: relative to the clock

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def month_range(year: int, month: int) -> DateRange:
    last = calendar.monthrange(year, month)[1]
    return DateRange(dt.date(year, month, 1), dt.date(year, month, last), "month")


def quarter_range(year: int, quarter: int) -> DateRange:
    first_month = 3 * (quarter - 1) + 1
    last_month = first_month + 2
    last = calendar.monthrange(year, last_month)[1]
    return DateRange(dt.date(year, first_month, 1), dt.date(year, last_month, last), "quarter")


def full_dates(folded: str) -> set[dt.date]:
    """Every whole date (day, month and year) the text writes ("3/5/2017")."""
    found: set[dt.date] = set()
    for day, month, year in _DMY.findall(folded):
        if (moment := _day(int(year), int(month), int(day))) is not None:
            found.add(moment.start)
    return found


def _months_later(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the month's last day where it has none)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_days(today: dt.date, days: int) -> DateRange:
    return DateRange(today, today + dt.timedelta(days=days), "days", days, explicit=False)


def find_range(
    folded: str,
    today: dt.date,
    default_year: Callable[[int], int],
) -> DateRange | None:
    """The first date or period the question names, or ``None``.

    ``default_year(month)`` picks the year for a month or day given without one.
    """
    if match := _BETWEEN_DAYS.search(folded):
        span = _between(match, default_year)
        if span is not None:
            return span
    if match := _DMY.search(folded):
        day = _day(int(match[3]), int(match[2]), int(match[1]))
        return _until(folded, match.start(), day, today)
    if match := _DMY_WORDS.search(folded):
        month = int(match[2])
        year = int(match[3]) if match[3] else default_year(month)
        return _until(folded, match.start(), _day(year, month, int(match[1])), today)
    if match := _DM.search(folded):
        month = int(match[2])
        day = _day(default_year(month), month, int(match[1]))
        return _until(folded, match.start(1), day, today)
    if match := _NEXT_DAYS.search(folded):
        days = int(next(g for g in match.groups() if g))
        return next_days(today, max(1, min(days, 366)))
    ahead = _ahead(folded, today)
    if ahead is not None:
        return ahead
    if (match := _TO_END_OF_MONTH_EN.search(folded)) and match[1] != "may":
        month = _MONTHS_EN[match[1]]
        if span := _from_today(today, month_range(default_year(month), month).end):
            return span
    ends = _year_ends(folded, today)
    if ends is not None:
        return ends
    if match := _TO_MID_MONTH.search(folded):
        month = int(match[1])
        if 1 <= month <= 12 and (
            span := _from_today(today, dt.date(default_year(month), month, 15))
        ):
            return span
    if match := _TO_END_OF_NAMED.search(folded):
        year_end = dt.date(int(match[2]), 12, 31) if match[2] and int(match[2]) <= 2200 else None
        if year_end is not None and (span := _from_today(today, year_end)):
            return span
        if match[1] and 1 <= int(match[1]) <= 12:
            month = int(match[1])
            if span := _from_today(today, month_range(default_year(month), month).end):
                return span
    if match := _QUARTER.search(folded):
        quarter = _ROMAN[match[1]] if match[1] in _ROMAN else int(match[1])
        year = int(match[2]) if match[2] else default_year(3 * quarter)
        return quarter_range(year, quarter)
    for pattern in (_MONTH, _MONTH_YEAR):
        if match := pattern.search(folded):
            month = int(match[1])
            if 1 <= month <= 12:
                year = int(match[2]) if match[2] else default_year(month)
                if 1900 <= year <= 2200:
                    return month_range(year, month)
    # "may" is also a Vietnamese word ("mấy"); only read it as May with a year.
    if (match := _MONTH_EN.search(folded)) and (match[1] != "may" or match[2]):
        month = _MONTHS_EN[match[1]]
        year = int(match[2]) if match[2] else default_year(month)
        return month_range(year, month)
    relative = _relative(folded, today)
    if relative is not None:
        return relative
    if match := _YEAR.search(folded):
        year = int(match[1])
        if 1900 <= year <= 2200:
            return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")
    return None


def _from_today(today: dt.date, last: dt.date) -> DateRange | None:
    """The days from today to ``last``; ``None`` when ``last`` is past."""
    return next_days(today, (last - today).days) if last >= today else None


def _until(folded: str, position: int, day: DateRange | None, today: dt.date) -> DateRange | None:
    """``day``, or everything up to it when the words before it say "before"/"by", or from
    today to it ("từ giờ đến 20/11")."""
    if day is None:
        return day
    before = folded[:position].rstrip()
    if _FROM_NOW.search(before) and (span := _from_today(today, day.end)):
        return span
    if _AFTER.search(before):
        return DateRange(day.end + dt.timedelta(days=1), day.end + dt.timedelta(days=366), "after")
    if not _UNTIL.search(before):
        return day
    return DateRange(BEGINNING, day.end, "until")


def _day(year: int, month: int, day: int) -> DateRange | None:
    try:
        moment = dt.date(year, month, day)
    except ValueError:
        return None
    return DateRange(moment, moment, "day")


def _relative(folded: str, today: dt.date) -> DateRange | None:
    padded = f" {folded} "
    if any(p in padded for p in (" hom nay ", " today ")):
        return DateRange(today, today, "day", explicit=False)
    if any(p in padded for p in (" ngay mai ", " tomorrow ")):
        tomorrow = today + dt.timedelta(days=1)
        return DateRange(tomorrow, tomorrow, "day", explicit=False)
    if any(p in padded for p in (" tuan nay ", " this week ")):
        monday = today - dt.timedelta(days=today.weekday())
        return DateRange(monday, monday + dt.timedelta(days=6), "week", explicit=False)
    if any(p in padded for p in (" tuan toi ", " tuan sau ", " next week ")):
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
        return DateRange(monday, monday + dt.timedelta(days=6), "week", explicit=False)
    if any(p in padded for p in (" thang nay ", " this month ")):
        return replace(month_range(today.year, today.month), explicit=False)
    if any(p in padded for p in (" thang toi ", " thang sau ", " next month ")):
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return replace(month_range(year, month), explicit=False)
    return None


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _COUNT_WORDS[word]


def _ahead(folded: str, today: dt.date) -> DateRange | None:
    """Windows from today: "2 tuần tới", "trong 3 tháng tới", "đến hết tháng sau"."""
    if match := _NEXT_WEEKS.search(folded):
        weeks = _count(next(g for g in match.groups() if g))
        return next_days(today, max(1, min(7 * weeks, 366)))
    if match := _NEXT_MONTHS.search(folded):
        # calendar months: "1 tháng tới" from 15/10 runs to 15/11, as people count it
        months = max(1, min(_count(next(g for g in match.groups() if g)), 12))
        return next_days(today, (_months_later(today, months) - today).days)
    if _HALF_MONTH.search(folded):
        return next_days(today, 15)
    if match := _TO_END.search(folded):
        if match[1]:
            unit, _, which = match[1].partition(" ")
            later = which in ("sau", "toi")
        else:
            unit = {"month": "thang", "week": "tuan", "year": "nam", "quarter": "quy"}[match[3]]
            later = match[2] == "next"
        end = _end_of(unit, today, later)
        return next_days(today, max(0, (end - today).days))
    return None


def _between(match: re.Match[str], default_year: Callable[[int], int]) -> DateRange | None:
    """ "từ 20/10 đến 20/11": both days (a year given to one serves the other)."""
    d1, m1, y1, d2, m2, y2 = match.groups()
    year1 = int(y1) if y1 else (int(y2) if y2 else default_year(int(m1)))
    year2 = int(y2) if y2 else (int(y1) if y1 else default_year(int(m2)))
    first, last = _day(year1, int(m1), int(d1)), _day(year2, int(m2), int(d2))
    if first is None or last is None or last.end < first.start:
        return None
    return DateRange(first.start, last.end, "span")


def _year_ends(folded: str, today: dt.date) -> DateRange | None:
    """ "2 tháng cuối năm" (November and December), "3 tháng đầu năm sau", "đầu năm sau"
    (its first quarter): the months at either end of this year or the next."""
    if match := _YEAR_END_MONTHS.search(folded):
        said = match[1] or "1"
        months = 3 if said in ("cac", "nhung") else max(1, min(_count(said), 12))
        which = (match[3] or "").strip()
        year = int(which) if which.isdigit() else today.year + (which in ("sau", "toi"))
        first, last = (13 - months, 12) if match[2] == "cuoi" else (1, months)
        end = dt.date(year, last, calendar.monthrange(year, last)[1])
        kind: RangeKind = "month" if months == 1 else "months"
        if months == 3 and first in (1, 4, 7, 10):
            kind = "quarter"
        return DateRange(dt.date(year, first, 1), end, kind)
    if _EARLY_NEXT_YEAR.search(folded):
        return quarter_range(today.year + 1, 1)
    if match := _END_OF_THIS_YEAR.search(folded):
        year = int(match[1]) if match[1].isdigit() else today.year
        return month_range(year, 12)
    return None


def _end_of(unit: str, today: dt.date, later: bool) -> dt.date:
    if unit == "tuan":
        sunday = today + dt.timedelta(days=6 - today.weekday())
        return sunday + dt.timedelta(days=7) if later else sunday
    if unit == "thang":
        year, month = today.year, today.month
        if later:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    if unit == "quy":
        last_month = 3 * ((today.month - 1) // 3) + 3
        return dt.date(today.year, last_month, calendar.monthrange(today.year, last_month)[1])
    return dt.date(today.year + (1 if later else 0), 12, 31)
