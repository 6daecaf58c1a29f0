"""Reading what officers type into report fields: Vietnamese number forms and dates.

Vietnamese writes ``12.500`` (dot for thousands) and ``87,5`` (comma for decimals); people
also type ``12 500``, ``12500``, ``87.5`` and ``87,5%``. Errors are returned as codes so that
the dialog can explain them in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re

from knowledge.normalize import fold

_GROUPED_DOT = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_GROUPED_COMMA = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_GROUPED_SPACE = re.compile(r"^\d{1,3}(?: \d{3})+$")
_PLAIN = re.compile(r"^\d+$")
_DECIMAL = re.compile(r"^\d+[.,]\d+$")
_WORDS = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


class ParseError(Exception):
    """``code``: not_a_number | not_an_integer | negative | not_a_date | bad_date."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_number(text: str, *, integer: bool) -> float:
    """``"12.500"`` → 12500, ``"87,5%"`` → 87.5; raises :class:`ParseError`."""
    raw = text.strip().replace("\u00a0", " ")
    raw = re.sub(
        r"\s*(%|phần trăm|phan tram|người|nguoi|thôn|thon|lần|lan|sp)\s*$",
        "",
        raw,
        flags=re.IGNORECASE,
    ).strip()
    if raw.startswith(("-", "−")):
        raise ParseError("negative")
    if raw.startswith("+"):
        raw = raw[1:].strip()
    folded = fold(raw)
    if folded in _WORDS:
        return float(_WORDS[folded])
    if _PLAIN.match(raw):
        return float(raw)
    if _GROUPED_DOT.match(raw) or _GROUPED_SPACE.match(raw):
        return float(raw.replace(".", "").replace(" ", ""))
    if _GROUPED_COMMA.match(raw) and integer:
        return float(raw.replace(",", ""))  # "12,500" cannot be a decimal in a count
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", raw):
        value = float(raw.replace(".", "").replace(",", "."))
    elif _DECIMAL.match(raw):
        value = float(raw.replace(",", "."))
    else:
        raise ParseError("not_a_number")
    if integer and value != int(value):
        raise ParseError("not_an_integer")
    return value


def parse_date(text: str, today: dt.date) -> dt.date:
    """``30/10/2021``, ``30-10-2021``, ``30/10`` (this year), ``hôm nay``, ``ngày mai``."""
    folded = fold(text).strip()
    if folded in ("hom nay", "today"):
        return today
    if folded in ("ngay mai", "mai", "tomorrow"):
        return today + dt.timedelta(days=1)
    match = re.fullmatch(
        r"(?:ngay\s+)?(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2}|\d{4}))?", folded
    )
    if match is None:
        raise ParseError("not_a_date")
    day, month = int(match[1]), int(match[2])
    year = today.year if match[3] is None else int(match[3])
    if year < 100:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ParseError("bad_date") from None
