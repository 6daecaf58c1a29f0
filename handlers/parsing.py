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
_DIGIT_WORDS = {
    "khong": 0,
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "lam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
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
# Scales people say after a number: "12,5 nghìn", "1,2 vạn", "12.5k", "3 trăm".
_SCALES = {
    "tram": 100,
    "nghin": 1000,
    "ngan": 1000,
    "k": 1000,
    "van": 10_000,
    "trieu": 1_000_000,
    "tr": 1_000_000,
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
}
# Matched on the text as typed: unaccented "tam" is "tám" (eight) as often as "tầm" (about).
_APPROXIMATE = re.compile(
    r"^(?:khoảng|khoang|tầm|chừng|chung|gần|gan|xấp xỉ|xap xi|ước tính|ước|uoc|about|around"
    r"|approx(?:imately)?|~)\s*",
    re.IGNORECASE,
)
_UNITS = re.compile(
    r"\s*(%|phần trăm|phan tram|người|nguoi|thôn|thon|lần|lan|sp|sản phẩm|san pham|hộ|ho)\s*$",
    re.IGNORECASE,
)


class ParseError(Exception):
    """``code``: not_a_number | not_an_integer | negative | percent_for_count | not_a_date |
    bad_date."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_number(text: str, *, integer: bool) -> float:
    """``"12.500"`` → 12500, ``"87,5%"`` → 87.5; raises :class:`ParseError`."""
    return read_number(text, integer=integer)[0]


def read_number(text: str, *, integer: bool) -> tuple[float, bool]:
    """The number and whether it was written in words, with a scale or as an estimate
    ("mười hai nghìn", "12,5 nghìn", "khoảng 12000"): then the dialog repeats what it read."""
    raw = text.strip().replace("\u00a0", " ")
    percent = "%" in raw or re.search(r"phần trăm|phan tram", raw, re.IGNORECASE)
    if integer and percent:
        raise ParseError("percent_for_count")  # "89,5%" where a count is asked
    raw = _UNITS.sub("", raw).strip()
    approximate = _APPROXIMATE.match(raw)
    if approximate:
        raw = raw[approximate.end() :].strip()
    if raw.startswith(("-", "−")):
        raise ParseError("negative")
    if raw.startswith("+"):
        raw = raw[1:].strip()
    value, unusual = _plain_or_scaled(raw, fold(raw), integer=integer)
    if integer and value != int(value):
        raise ParseError("not_an_integer")
    return value, unusual or bool(approximate)


def _plain_or_scaled(raw: str, folded: str, *, integer: bool) -> tuple[float, bool]:
    try:
        return _digits(raw, integer=integer), False
    except ParseError:
        pass
    # "12,5 nghìn", "12.5k", "1,2 vạn", "12 nghìn 5" (= 12.500), "12 nghìn 500"
    scaled = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)(?:\s+(\d{1,3}))?", folded)
    if scaled and scaled[2] in _SCALES:
        head = float(scaled[1].replace(",", "."))
        scale = _SCALES[scaled[2]]
        rest = scaled[3]
        tail = 0
        if rest is not None:
            # "12 nghìn 5": the next order down (5 trăm); "12 nghìn 500": as written
            tail = int(rest) * (scale // 10 if len(rest) == 1 and scale >= 1000 else 1)
        return round(head * scale + tail, 6), True
    words = folded.split()
    if words and all(w in _DIGIT_WORDS or w in _SCALES or w in _NUMBER_GLUE for w in words):
        return float(_vietnamese_numeral(words)), True
    raise ParseError("not_a_number")


def _digits(raw: str, *, integer: bool) -> float:
    if _PLAIN.match(raw):
        return float(raw)
    if _GROUPED_DOT.match(raw) or _GROUPED_SPACE.match(raw):
        return float(raw.replace(".", "").replace(" ", ""))
    if _GROUPED_COMMA.match(raw) and integer:
        return float(raw.replace(",", ""))  # "12,500" cannot be a decimal in a count
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+,\d+", raw):
        return float(raw.replace(".", "").replace(",", "."))
    if _DECIMAL.match(raw):
        return float(raw.replace(",", "."))
    raise ParseError("not_a_number")


_NUMBER_GLUE = {"muoi", "linh", "le", "va", "and"}


def _vietnamese_numeral(words: list[str]) -> int:
    """ "mười hai nghìn" → 12000, "ba trăm linh năm" → 305, "hai mươi mốt" → 21."""
    total = 0
    group = 0  # the part below the current scale ("hai trăm mười" of "… nghìn")
    digit: int | None = None
    tens = False
    units_said = False  # "linh"/"lẻ": the digit after it is a unit, not the next order down
    for word in words:
        if word in ("linh", "le", "va", "and"):
            units_said = True
            continue
        if word == "muoi":
            group += 10 * (digit if digit is not None else 1)
            digit, tens = None, True
        elif word in _DIGIT_WORDS:
            if tens:
                group += _DIGIT_WORDS[word]
                tens = False
            elif digit is not None:
                raise ParseError("not_a_number")
            else:
                digit = _DIGIT_WORDS[word]
        elif word in ("tram", "hundred"):
            group += 100 * (digit if digit is not None else 1)
            digit, tens = None, False
        elif word in _SCALES:
            amount = group + (digit or 0)
            total += (amount or 1) * _SCALES[word]
            group, digit, tens = 0, None, False
        else:
            raise ParseError("not_a_number")
    if digit is not None and not units_said and words[-1] in _DIGIT_WORDS:
        # Spoken short forms: a lone digit after a scale is the next order down, "một vạn
        # hai" = 12.000, "hai nghìn rưỡi"-like "hai nghìn năm" = 2.500, "ba trăm hai" = 320.
        before = words[-2] if len(words) > 1 else ""
        if before in ("tram", "hundred"):
            return total + group + digit * 10
        if before in _SCALES and _SCALES[before] >= 1000:
            return total + group + digit * _SCALES[before] // 10
    return total + group + (digit or 0)


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
