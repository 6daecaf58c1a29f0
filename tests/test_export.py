"""The office's exports: numbers it can compute with, every commune, versions marked."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook

from handlers.cells import sheet_name
from tests.harness import Harness, harness


async def bhyt(h: Harness, user: str, population: str, insured: str) -> None:
    await h.say(user, "/baocao")
    await h.tap(user, "Tỷ lệ người dân tham gia BHYT")
    await h.say(user, population)
    await h.say(user, insured)
    await h.tap(user, "Gửi báo cáo")
    assert "Đã nhận báo cáo" in h.last(user), h.last(user)


async def exports(h: Harness) -> tuple[bytes, bytes]:
    replies = await h.say("admin", "/xuat")
    xlsx, text = (r.document.data for r in replies if r.document is not None)
    return xlsx, text


async def test_numbers_are_numbers_with_units_in_the_header(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await bhyt(h, "o1", "12.500", "10.600")
        await bhyt(h, "o1", "12.500", "11.000")  # a correction: a second version
        await h.say("o1", "/baocao")
        await h.tap("o1", "Tình trạng một tiêu chí")
        await h.say("o1", "17.4")
        await h.tap("o1", "Đang thực hiện")
        await h.say("o1", "Đang trình hồ sơ")
        await h.say("o1", "30/11/2021")
        await h.say("o1", "bỏ qua")  # no photos
        await h.tap("o1", "Gửi báo cáo")
        xlsx, text = await exports(h)
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames[0] == "Mới nhất"
    assert all(len(name) <= 31 for name in book.sheetnames)
    assert len(set(book.sheetnames)) == len(book.sheetnames)

    sheet = book["Tỷ lệ tham gia BHYT"]
    header = [c.value for c in sheet[1]]
    population = header.index("Số dân (người)")  # short; the question in the comment
    assert sheet.cell(row=1, column=population + 1).comment.text == "Số dân của xã (người)"
    rate = header.index("Tỷ lệ tham gia BHYT (%)")
    current = header.index("Hiện hành")
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 2
    first, second = rows
    assert first[population].value == 12500 and first[population].number_format == "#,##0"
    assert first[population].data_type == "n"
    assert abs(second[rate].value - 88.0) < 0.01 and second[rate].data_type == "n"
    assert first[current].value.startswith("Không") and second[current].value == "Có"
    assert first[0].font.color is not None and first[0].font.color.rgb.endswith("808080")
    submitted = header.index("Gửi lúc")
    assert isinstance(second[submitted].value, dt.datetime)
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref

    status = book["Tình trạng tiêu chí"]
    header = [c.value for c in status[1]]
    row = [c for c in next(status.iter_rows(min_row=2))]
    assert row[header.index("Tình trạng")].value == "Đang thực hiện"  # the label, not "dang"
    expected = row[header.index("Ngày dự kiến")]
    assert expected.value == dt.datetime(2021, 11, 30) and expected.is_date
    assert row[header.index("Tiêu chí")].value.startswith("17.4.")
    assert row[header.index("Kỳ báo cáo")].value == "tính đến 15/10/2021"  # filled: as of its date

    table = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    head = table[0]
    assert head == [
        "Xã", "Mẫu báo cáo", "Chủ đề", "Kỳ báo cáo", "Số báo cáo", "Lần", "Hiện hành",
        "Trường", "Giá trị", "Đơn vị", "Gửi lúc", "Người gửi",
    ]  # fmt: skip
    rates = [r for r in table[1:] if r[7] == "Tỷ lệ tham gia BHYT"]
    assert [(r[5], r[6], r[8], r[9]) for r in rates] == [
        ("1", "Không", "84.8", "%"),
        ("2", "Có", "88", "%"),
    ]
    assert text.startswith("\ufeff".encode())
    dates = [r[8] for r in table[1:] if r[7] == "Ngày dự kiến đạt"]
    assert dates == ["2021-11-30"]


async def test_the_latest_sheet_lists_every_commune(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await bhyt(h, "o1", "12.500", "10.600")
        await bhyt(h, "o1", "12.500", "11.000")
        xlsx, _ = await exports(h)
        communes = [c for c in await h.app.deps.communes.all() if c.active]
    sheet = load_workbook(io.BytesIO(xlsx))["Mới nhất"]
    header = [c.value for c in sheet[1]]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert set(rows) == {c.name for c in communes}  # those that never reported too
    rate = header.index("Tỷ lệ tham gia BHYT: Tỷ lệ tham gia BHYT (%)")
    assert abs(rows["Dân Lực"][rate].value - 88.0) < 0.01  # the correction, not the first
    assert rows["Thọ Dân"][rate].value is None
    date = header.index("Tỷ lệ tham gia BHYT: ngày báo cáo")
    assert rows["Dân Lực"][date].is_date


def test_sheet_names_are_unique_readable_and_short() -> None:
    used: set[str] = set()
    long = "Tình trạng một tiêu chí / chỉ tiêu của xã [bản nháp]: ghi chú?"
    first = sheet_name(long, used)
    second = sheet_name(long, used)
    assert len(first) <= 31 and len(second) <= 31
    assert first != second and second.endswith("(2)")
    assert not set("[]:*?/\\") & set(first + second)


async def test_the_workbook_has_the_tasks_their_history_and_the_criteria(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực", name="Lê Văn Xã")
        await h.register("admin", "tp1", "Phòng Tư pháp", name="Trịnh Thị Pháp")
        await h.say("tp1", "/viec")
        await h.tap_with("tp1", "18.5")
        await h.tap("tp1", "Đang thực hiện")
        await h.say("tp1", "40")
        await h.say("tp1", "/viec")
        await h.tap_with("tp1", "18.5")
        await h.tap("tp1", "Vướng mắc")
        await h.say("tp1", '=HYPERLINK("x") thiếu hồ sơ')  # typed text stays text
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        await h.tap("o1", "Đã hoàn thành")
        await h.say("o1", "/baocao")
        await h.tap("o1", "Tình trạng một tiêu chí")
        await h.say("o1", "1")
        await h.tap_with("o1", "Cả tiêu chí")
        await h.tap("o1", "Đạt")
        await h.say("o1", "bỏ qua")
        await h.say("o1", "bỏ qua")  # no photos
        await h.tap("o1", "Gửi báo cáo")
        xlsx, _ = await exports(h)
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames[-4:] == ["Việc", "Lịch sử việc", "Tiêu chí xã", "Tiêu chí huyện"]

    tasks = book["Việc"]
    header = [c.value for c in tasks[1]]
    rows = [[c.value for c in r] for r in tasks.iter_rows(min_row=2)]
    col = {name: header.index(name) for name in header}
    justice = next(r for r in rows if r[col["Mã việc"]] == "van-ban-danh-gia.tp")
    assert justice[col["Đơn vị / xã"]] == "Phòng Tư pháp"
    assert justice[col["Tình trạng"]] == "Vướng mắc"
    assert justice[col["Ghi chú, vướng mắc"]] == '=HYPERLINK("x") thiếu hồ sơ'
    assert justice[col["Người cập nhật"]].startswith("Trịnh Thị Pháp")
    assert justice[col["Hạn"]] == dt.datetime(2021, 11, 15)
    assert justice[col["Tiêu chí"]] == "18.5"
    planning = [r for r in rows if r[col["Mã việc"]] == "quy-hoach-xa.cac-xa"]
    assert len(planning) == 34  # one row per commune's share
    mine = next(r for r in planning if r[col["Đơn vị / xã"]] == "xã Dân Lực")
    assert mine[col["Tình trạng"]] == "Đã hoàn thành"
    others = {r[col["Tình trạng"]] for r in planning if r is not mine}
    assert others == {"Chưa cập nhật"}
    cell = tasks.cell(row=rows.index(justice) + 2, column=col["Ghi chú, vướng mắc"] + 1)
    assert cell.data_type == "s"

    history = [[c.value for c in r] for r in book["Lịch sử việc"].iter_rows(min_row=2)]
    assert [r[4] for r in history if r[1] == "van-ban-danh-gia.tp"] == [
        "Đang thực hiện",
        "Vướng mắc",
    ]  # nothing overwritten
    assert [r[5] for r in history if r[1] == "van-ban-danh-gia.tp"] == [40, None]

    criteria = book["Tiêu chí xã"]
    header = [c.value for c in criteria[1]]
    assert header[:3] == ["Xã", "Tiêu chí đạt", "TC 1"] and len(header) == 21  # short headers
    assert criteria.cell(row=1, column=3).comment.text == "1. Quy hoạch"  # the name: a comment
    rows = list(criteria.iter_rows(min_row=2))
    by_commune = {r[0].value: r for r in rows}
    assert [r[0].value for r in rows][:4] == ["An Nông", "Bình Sơn", "Dân Lực", "Dân Lý"]
    assert by_commune["Dân Lực"][2].value == "✅ Đạt" and by_commune["Dân Lực"][1].value == "1/19"
    assert by_commune["Dân Lực"][2].fill.start_color.rgb.endswith("C6EFCE")  # and coloured
    assert by_commune["Thọ Dân"][2].value == "❔ Chưa có số liệu"
    assert "Tiêu chí huyện" not in by_commune  # the district has its own sheet
    district = [[c.value for c in r] for r in book["Tiêu chí huyện"].iter_rows(min_row=2)]
    assert district[0][0] == "1. Quy hoạch" and district[0][1] == "❔ Chưa có số liệu"
