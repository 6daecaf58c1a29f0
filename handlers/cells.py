"""Values that go into spreadsheets the office opens: text stays text, never a formula.

Anything people typed (notes, product names, decision numbers, their display names) may start
with a character a spreadsheet reads as a formula: ``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(1)``,
``-1+1`` (OWASP "CSV injection"). In the .xlsx such text is a string cell marked with Excel's
own quote prefix (shown and kept exactly as typed, never evaluated); in the .csv it gets a
leading apostrophe, the usual neutraliser. Numbers, dates and empty cells pass through.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def risky(value: object) -> bool:
    """A text a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """The value for a CSV cell: risky text behind an apostrophe, the rest unchanged."""
    return "'" + value if risky(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """``sheet.append`` that never creates a formula from text (openpyxl would)."""
    values = list(values)
    sheet.append([None if risky(v) else v for v in values])
    row = sheet.max_row
    for column, value in enumerate(values, start=1):
        if risky(value):
            cell = sheet.cell(row=row, column=column)
            cell.value = value
            cell.data_type = "s"  # assigning "=…" made it a formula: text it is
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited


SHEET_NAME_LIMIT = 31  # Excel's
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, no []:*?/\\), unique in the workbook."""
    base = _SHEET_FORBIDDEN.sub("-", title).strip("' ") or "Sheet"
    name = _shorten(base, SHEET_NAME_LIMIT)
    number = 2
    while name.lower() in used:
        suffix = f" ({number})"
        name = _shorten(base, SHEET_NAME_LIMIT - len(suffix)) + suffix
        number += 1
    used.add(name.lower())
    return name


def _shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut between words, without a dangling dash."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if text[limit] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" -–,:;/") or text[:limit]


def finish(sheet: Any) -> None:
    """Bold frozen header, an autofilter, widths that fit the content (within reason)."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font = bold
        cell.fill = fill
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            text = cell.value
            length = 16 if isinstance(text, dt.date) else len(str(text or ""))
            widths[cell.column] = max(widths.get(cell.column, 0), length)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(50, max(8, width + 2))
