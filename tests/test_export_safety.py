"""Text people typed reaches the office's spreadsheets as text, never as a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.cells import csv_cell, risky
from tests.harness import harness

PAYLOADS = [
    '=HYPERLINK("http://evil.example","bấm")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-1+1",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_formula_like_text_is_neutralised(text: str) -> None:
    assert risky(text)
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", [12500, -3, 0.85, None, "Đã trình hồ sơ", "", "1+1", "a=b"])
def test_numbers_and_ordinary_text_pass_unchanged(value: object) -> None:
    assert not risky(value)
    assert csv_cell(value) == value


async def test_typed_formulas_reach_the_exports_as_text(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        for payload in PAYLOADS:
            await h.say("o1", "/baocao")
            await h.tap("o1", "Tình trạng một tiêu chí")
            await h.say("o1", "17.4")
            await h.tap("o1", "Đạt")
            await h.say("o1", payload)
            await h.say("o1", "bỏ qua")  # no photos
            await h.tap("o1", "Gửi báo cáo")
            assert "Đã nhận báo cáo" in h.last("o1"), h.last("o1")
        # a display name is typed by its owner too
        await h.app.db.execute(
            "UPDATE users SET full_name = '=1+2', position = '@x' WHERE external_id = 'o1'"
        )
        h.app.deps.users.forget()
        replies = await h.say("admin", "/xuat")
        xlsx, text = (r.document.data for r in replies if r.document is not None)

    book = load_workbook(io.BytesIO(xlsx))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    notes = {c.value for c in cells if isinstance(c.value, str) and risky(c.value)}
    # exactly as typed (openpyxl's plain XML writer stores a carriage return as a line feed;
    # with lxml installed it keeps it), as string cells...
    for payload in PAYLOADS:
        assert payload in notes or payload.replace("\r", "\n") in notes, (payload, notes)
    assert all(c.quotePrefix for c in cells if risky(c.value))  # ...that Excel keeps as text
    assert "=1+2 (@x)" in notes
    numbers = [c.value for c in cells if isinstance(c.value, int | float)]
    assert numbers  # version numbers and the like stay numeric

    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    flat = [cell for row in rows for cell in row]
    assert not [cell for cell in flat if risky(cell)], "a CSV cell starts like a formula"
    assert "'=1+2 (@x)" in flat
