"""Values that go into spreadsheets the office opens: text stays text, never a formula.

Anything people typed (notes, product names, decision numbers, their display names) may start
with a character a spreadsheet reads as a formula: ``=HYPERLINK(…)``, ``+cmd|…``, ``@SUM(1)``,
``-1+1`` (OWASP "CSV injection"). In the .xlsx such text is a string cell marked with Excel's
own quote prefix (shown and kept exactly as typed, never evaluated); in the .csv it gets a
leading apostrophe, the usual neutraliser. Numbers, dates and empty cells pass through.
"""

from __future__ import annotations

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
