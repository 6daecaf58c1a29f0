"""Registration and guided reports, driven through the channel-agnostic core."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.parsing import ParseError, parse_date, parse_number
from storage.reports import ReportRepo
from tests.harness import Harness, harness


async def start_form(h: Harness, user: str, form_label: str) -> None:
    await h.say(user, "/baocao")
    await h.tap(user, form_label)


async def reports_of(h: Harness) -> list:  # type: ignore[type-arg]
    return await ReportRepo(h.app.db).all()


@pytest.mark.parametrize(
    ("text", "integer", "value"),
    [
        ("12.500", True, 12500),
        ("12 500", True, 12500),
        ("12500", True, 12500),
        ("12,500", True, 12500),
        ("87,5%", False, 87.5),
        ("87.5", False, 87.5),
        ("1.234,5", False, 1234.5),
        ("  4 lần ", True, 4),
        ("bốn", True, 4),
        ("0", True, 0),
        # spoken short forms: a lone digit after a scale is the next order down
        ("mot van hai", True, 12000),
        ("một triệu hai", True, 1200000),
        ("hai nghìn năm", True, 2500),
        ("ba trăm hai", True, 320),
        ("hai nghìn lẻ năm", True, 2005),  # "lẻ": the digit is a unit
        ("ba trăm linh năm", True, 305),
    ],
)
def test_vietnamese_numbers(text: str, integer: bool, value: float) -> None:
    assert parse_number(text, integer=integer) == value


@pytest.mark.parametrize(
    ("text", "integer", "code"),
    [
        ("abc", True, "not_a_number"),
        ("-5", True, "negative"),
        ("12,5", True, "not_an_integer"),
        ("1.2.3", False, "not_a_number"),
        ("", True, "not_a_number"),
    ],
)
def test_bad_numbers(text: str, integer: bool, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_number(text, integer=integer)
    assert caught.value.code == code


def test_dates() -> None:
    today = dt.date(2021, 10, 15)
    assert parse_date("30/10/2021", today) == dt.date(2021, 10, 30)
    assert parse_date("30-10", today) == dt.date(2021, 10, 30)
    assert parse_date("hôm nay", today) == today
    with pytest.raises(ParseError):
        parse_date("31/02/2021", today)
    with pytest.raises(ParseError):
        parse_date("sắp tới", today)


async def test_invite_registration_and_reuse(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.say("admin", "/moi dan luc")  # no diacritics
        assert "Tạo mã mời cho cán bộ xã Dân Lực?" in h.last("admin")
        await h.tap("admin", "Tạo mã")
        code = h.last("admin").split(": ", 1)[1].split()[0]
        await h.say("o1", f"/start {code.lower()}")
        assert "bạn là cán bộ xã Dân Lực" in h.all_text("o1")
        await h.say("o2", f"/start {code}")  # single use
        assert "đã được dùng" in h.last("o2")
        await h.say("admin", "/moi Dan Lục")  # a typo still finds it, with a confirmation
        assert "Dân Lực" in h.last("admin")
        await h.say("admin", "/moi Hà Nội")
        assert "Không tìm thấy xã" in h.last("admin")


async def test_typed_code_registers_and_codes_expire(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Thọ Dân")
        await h.say("z1", code)  # Zalo users may type just the code
        assert "bạn là cán bộ xã Thọ Dân" in h.all_text("z1")
        late = await h.invite("admin", "Thọ Dân")
        h.clock.advance(dt.timedelta(days=8))
        await h.say("z2", f"/start {late}")
        assert "đã hết hạn" in h.last("z2")


async def test_an_office_code_is_confirmed_and_a_pending_one_is_not_dropped(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.say("admin", "/moi văn phòng")
        assert "Tạo mã mời cho cán bộ Văn phòng NTM huyện?" in h.last("admin")
        assert "mọi xã" in h.last("admin")  # what the code gives, said before it is made
        replies = await h.say("admin", "/moi Dân Lực")  # the confirmation left untapped
        assert "mã mời cho cán bộ Văn phòng NTM huyện ở tin trước chưa được tạo" in replies[0].text
        await h.say("admin", "/moi Thọ Dân")
        assert "cán bộ xã Dân Lực ở tin trước chưa được tạo" in h.all_text("admin")
        await h.tap("admin", "Tạo mã")
        assert "Thọ Dân" in h.last("admin") and ": " in h.last("admin")
        await h.say("admin", "/moi Tho D")  # several communes: a pick, then the confirmation
        if "Ý bạn là xã nào?" in h.last("admin"):
            await h.tap("admin", "Thọ Dân")
            assert "Tạo mã mời cho cán bộ xã Thọ Dân?" in h.last("admin")


async def test_staff_invite(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.say("admin", "/moi văn phòng")
        await h.tap("admin", "Tạo mã")  # the office code is confirmed too
        code = h.last("admin").split(": ", 1)[1].split()[0]
        await h.say("s1", f"/start {code}")
        assert "cán bộ Văn phòng NTM huyện" in h.all_text("s1")
        await h.give_name("s1")
        await h.say("s1", "/tonghop")
        assert "Tổng hợp các xã" in h.replies["s1"][-2].text


async def test_bhyt_report_with_every_kind_of_bad_input(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
        assert "Câu 1/2: Số dân của xã" in h.last("o1") and "Ví dụ: 10.000" in h.last("o1")
        await h.say("o1", "mười ngàn người kia")
        assert "không phải là số" in h.last("o1") and "Câu 1/2" in h.last("o1")
        await h.say("o1", "89,5%")
        assert "là một số đếm, không phải tỷ lệ phần trăm" in h.last("o1")
        assert "ví dụ 10.000" in h.last("o1")
        await h.say("o1", "-5")
        assert "không thể là số âm" in h.last("o1")
        await h.say("o1", "10,5")
        assert "phải là số nguyên" in h.last("o1")
        await h.say("o1", "0")
        assert "không được nhỏ hơn 1" in h.last("o1")
        await h.say("o1", "10.000")
        assert "Câu 2/2" in h.last("o1")
        await h.say("o1", "12.500")
        assert "Số người tham gia BHYT (12.500) không được lớn hơn số dân (10.000)" in h.last("o1")
        await h.say("o1", "8 750")
        summary = h.last("o1")
        assert "Tỷ lệ tham gia BHYT: 87,5%" in summary and "Đạt mục tiêu" in summary
        await h.tap("o1", "Gửi")
        receipt = h.last("o1")
        assert "Đã nhận báo cáo số BC-000001" in receipt and "tháng 10/2021" in receipt
        [report] = await reports_of(h)
        assert report.answers == {"population": 10000, "insured": 8750}
        assert report.computed == {"rate": 87.5} and report.meets_target is True
        assert report.channel == "test" and report.period == "2021-10"


async def test_below_target_and_correction_is_a_new_version(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
        await h.say("o1", "8000")
        assert "Chưa đạt mục tiêu" in h.last("o1")
        await h.tap("o1", "Gửi")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
        await h.say("o1", "9000")
        await h.tap("o1", "Gửi")
        assert "bản sửa lần 1, thay cho báo cáo BC-000001" in h.last("o1")
        first, second = await reports_of(h)
        assert (first.version, second.version) == (1, 2)
        assert second.supersedes == first.id
        assert first.answers["insured"] == 8000  # the old version is kept, not overwritten
        await h.say("o1", "/cuatoi")
        assert "BC-000002" in h.last("o1") and "sửa, thay BC-000001" in h.last("o1")


async def test_back_edit_and_cancel(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "/quaylai")
        assert "Đây là câu hỏi đầu tiên" in h.all_text("o1")
        await h.say("o1", "10000")
        await h.say("o1", "quay lại")
        assert "Câu 1/2" in h.last("o1")
        await h.say("o1", "20000")
        await h.say("o1", "15000")
        await h.tap("o1", "Sửa")
        await h.tap("o1", "Số dân")
        await h.say("o1", "14000")
        assert "Số người tham gia BHYT (15.000) không được lớn hơn số dân (14.000)" not in h.last(
            "o1"
        )
        assert "Kiểm tra trước khi gửi" in h.last("o1")
        await h.tap("o1", "Hủy")
        assert "Đã hủy" in h.last("o1")
        assert await reports_of(h) == []
        await h.say("o1", "Gửi")
        assert await reports_of(h) == []  # nothing left to send


async def test_criterion_status_form(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tình trạng")
        await h.say("o1", "tiêu chí 99")
        assert "Không nhận ra tiêu chí" in h.last("o1")
        await h.tap("o1", "17.")
        await h.tap("o1", "17.4")
        await h.say("o1", "tốt")  # not one of the options
        assert "Xin chọn một trong các lựa chọn" in h.last("o1")
        await h.say("o1", "đang làm")
        note = "Đã trình <b>hồ sơ</b> & 'chờ'; DROP TABLE reports; --"
        await h.say("o1", note)
        await h.say("o1", "31/02/2021")
        assert "không phải là ngày hợp lệ" in h.last("o1")
        await h.say("o1", "30/11/2021")
        await h.say("o1", "bỏ qua")  # no photos
        await h.tap("o1", "Gửi")
        [report] = await reports_of(h)
        assert report.subject == "xa:17.4"
        assert report.answers["note"] == note  # stored verbatim
        assert report.answers["expected"] == "2021-11-30"
        assert report.meets_target is False
        # A code typed directly, the whole criterion, "đạt" (no expected date asked).
        await start_form(h, "o1", "Tình trạng")
        await h.say("o1", "8")
        await h.tap("o1", "Cả tiêu chí 8")
        await h.tap("o1", "Đạt")
        await h.say("o1", "bỏ qua")
        await h.say("o1", "bỏ qua")  # no photos
        assert "Kiểm tra trước khi gửi" in h.last("o1") and "Ngày dự kiến" not in h.last("o1")
        await h.tap("o1", "Gửi")
        reports = await reports_of(h)
        assert {r.subject for r in reports} == {"xa:17.4", "xa:8"}


async def test_production_form_repeats_per_product(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Phát triển sản xuất")
        for answer in ["1", "2", "2", "Chè lam", "4", "Nem chua", "chờ xếp hạng"]:
            await h.say("o1", answer)
        summary = h.last("o1")
        assert "Tên sản phẩm OCOP (2): Nem chua" in summary
        assert "Số sao OCOP của sản phẩm (1): 4 sao" in summary
        await h.tap("o1", "Gửi")
        [report] = await reports_of(h)
        assert report.answers["ocop_stars.0"] == "s4"
        assert report.answers["ocop_stars.1"] == "cho"
        assert report.period == "2021-Q4"


async def test_model_village_cleanup_and_planning_forms(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tiến độ thôn")
        for answer in ["12", "13", "1", "2", "bỏ qua"]:
            await h.say("o1", answer)
        assert "Kiểm tra trước khi gửi" in h.last("o1")
        assert "(13) không được lớn hơn tổng số thôn (12)" in h.all_text("o1")
        await h.tap("o1", "Gửi")
        await start_form(h, "o1", "Ra quân")
        for answer in ["3", "bỏ qua", "có", "bỏ qua"]:
            await h.say("o1", answer)
        assert "Chưa đạt mục tiêu: 4 lần/tháng" in h.last("o1")
        await h.tap("o1", "Gửi")
        await start_form(h, "o1", "Quy hoạch")
        await h.tap("o1", "Đã được phê duyệt")
        await h.say("o1", "1234/QĐ-UBND ngày 15/10/2021")
        assert "Đạt mục tiêu" in h.last("o1")
        await h.tap("o1", "Gửi")
        forms = sorted(r.form_id for r in await reports_of(h))
        assert forms == ["quy-hoach", "thon-kieu-mau", "ve-sinh"]


async def test_a_redelivered_update_never_creates_a_second_report(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
        await h.say("o1", "9000")
        send = h.choice("o1", "Gửi")
        from handlers.types import Incoming

        incoming = Incoming(
            "test",
            "o1",
            "o1",
            action=send.action,
            kind="action",
            update_key="send-once",
            display_name="Người o1",
        )
        assert await h.app.processor.process(incoming) is not None
        assert await h.app.processor.process(incoming) is None  # Telegram delivered it twice
        assert len(await reports_of(h)) == 1


async def test_the_dialog_survives_a_restart(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
    async with harness(tmp_path) as h:  # a new process on the same database
        await h.say("o1", "9000")
        assert "Kiểm tra trước khi gửi" in h.last("o1") and "90%" in h.last("o1")
        await h.tap("o1", "Gửi")
        assert len(await reports_of(h)) == 1


async def test_abandoned_dialogs_expire_politely(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
        h.clock.advance(dt.timedelta(hours=25))
        await h.say("o1", "9000")
        texts = [r.text for r in h.replies["o1"][-2:]]
        assert any("đã hết hạn sau 24 giờ" in t for t in texts)
        assert await reports_of(h) == []


async def test_office_staff_report_for_a_commune(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.say("admin", "/baocao")
        await h.say("admin", "tho dan")  # typed name, no diacritics
        await h.tap("admin", "Ra quân")
        for answer in ["4", "200", "có", "bỏ qua"]:
            await h.say("admin", answer)
        await h.tap("admin", "Gửi")
        assert "xã Thọ Dân" in h.last("admin")
        [report] = await reports_of(h)
        commune = await h.app.deps.communes.get(report.commune_id)
        assert commune is not None and commune.name == "Thọ Dân"


async def test_access_is_limited_to_ones_own_commune(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "a1", "Dân Lực")
        await h.register("admin", "b1", "Thọ Dân")
        await start_form(h, "b1", "Tỷ lệ người dân")
        await h.say("b1", "5000")
        await h.say("b1", "4500")
        await h.tap("b1", "Gửi")
        await h.say("a1", "/xa Thọ Dân")
        assert "chỉ xem được số liệu của xã mình" in h.last("a1")
        assert "4.500" not in h.all_text("a1")
        await h.say("a1", "/tonghop")
        assert "chỉ dành cho cán bộ Văn phòng" in h.last("a1")
        await h.say("a1", "/xuat")
        assert "chỉ dành cho cán bộ Văn phòng" in h.last("a1")
        await h.say("a1", "/moi Thọ Dân")
        assert "quản trị viên" in h.last("a1")
        # Forged actions for another commune are refused too.
        tho_dan = next(c for c in await h.app.deps.communes.all() if c.name == "Thọ Dân")
        await h.act("a1", f"rep:form:{tho_dan.id}:bhyt")
        assert "chỉ báo cáo được cho xã của mình" in h.last("a1")
        await h.act("a1", f"xa:{tho_dan.id}")
        assert "chỉ xem được số liệu của xã mình" in h.last("a1")
        await h.act("a1", "rep:commune:1")
        assert "chỉ báo cáo được cho xã của mình" in h.last("a1")
        # Unregistered people can ask questions but not report.
        await h.say("guest", "/baocao")
        assert "chưa đăng ký là cán bộ xã" in h.last("guest")
        await h.say("guest", "hạn BHYT")
        assert "30/09/2021" in h.last("guest")


async def test_revoking_a_user(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("admin", "/thuhoi")
        await h.tap("admin", "Người o1")
        await h.tap("admin", "Thu hồi")
        assert "Đã thu hồi quyền" in h.last("admin")
        await h.say("o1", "/baocao")
        assert "chưa đăng ký là cán bộ xã" in h.last("o1")


async def test_summary_commune_detail_and_export(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
        await h.say("o1", "8000")
        await h.tap("o1", "Gửi")
        await start_form(h, "o1", "Tỷ lệ người dân")
        await h.say("o1", "10000")
        await h.say("o1", "9000")
        await h.tap("o1", "Gửi")
        summary = "\n".join(r.text for r in await h.say("admin", "/tonghop"))
        assert "Đã báo cáo trong tuần: 1/34 xã, thị trấn" in summary
        assert "Dân Lực: 90% ✅" in summary and "Thọ Dân" in summary  # the latter has not reported
        await h.say("admin", "/xa dan luc")
        detail = h.last("admin")
        assert "Xã Dân Lực" in detail and "BC-000002" in detail and "BC-000001" in detail
        replies = await h.say("admin", "/xuat")
        documents = [r.document for r in replies if r.document is not None]
        names = [d.filename for d in documents]
        assert names == ["bao-cao-ntm-20211015.xlsx", "bao-cao-ntm-20211015.csv"]
        book = load_workbook(io.BytesIO(documents[0].data))
        sheet = book["Tỷ lệ tham gia BHYT"]
        rows = list(sheet.values)
        assert rows[0][0] == "Số báo cáo" and len(rows) == 3  # header + both versions
        assert {r[4] for r in rows[1:]} == {1, 2}
        table = list(csv.reader(io.StringIO(documents[1].data.decode("utf-8-sig"))))
        assert table[0][:2] == ["Xã", "Mẫu báo cáo"]
        assert len(table) == 1 + 2 * 3  # two versions × population, insured, rate
        assert all(row[0] == "Dân Lực" for row in table[1:])


@pytest.mark.parametrize(
    ("population", "insured", "stored"),
    [
        ("12,5 nghìn", "11 nghìn", (12500, 11000)),
        ("12 nghìn 5", "mười một nghìn", (12500, 11000)),
        ("12.5k", "khoảng 11000", (12500, 11000)),
        ("1,25 vạn", "1,1 vạn", (12500, 11000)),
        ("mười hai nghìn năm trăm", "11.000 người", (12500, 11000)),
    ],
)
async def test_numbers_as_officers_say_them(
    tmp_path: Path, population: str, insured: str, stored: tuple[int, int]
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
        replies = await h.say("o1", population)
        echoed = "\n".join(r.text for r in replies)
        assert "Đã ghi số dân: 12.500 người." in echoed, echoed  # what was read, said back
        await h.say("o1", insured)
        assert "Kiểm tra trước khi gửi" in h.last("o1")
        await h.tap("o1", "Gửi")
        [report] = await reports_of(h)
        assert (report.answers["population"], report.answers["insured"]) == stored


@pytest.mark.parametrize(
    "asked", ["/baocao bhyt", "báo cáo BHYT", "tôi muốn báo cáo bảo hiểm y tế", "bao cao bhyt"]
)
async def test_a_form_asked_for_by_name_starts_at_once(tmp_path: Path, asked: str) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", asked)
        assert "Câu 1/2: Số dân của xã" in h.last("o1"), h.last("o1")


async def test_a_form_named_at_the_menu_is_picked(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao")
        await h.say("o1", "vệ sinh môi trường")  # not a label, but names one form
        assert "Câu 1/" in h.last("o1") and "ra quân" in h.all_text("o1").lower()
        # office staff: the commune first, then straight into the named form
        await h.say("admin", "/baocao bhyt")
        await h.tap("admin", "Thọ Dân")
        assert "Câu 1/2: Số dân của xã" in h.last("admin")


async def test_a_question_about_a_report_stays_a_question(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "ai phụ trách báo cáo BHYT")
        assert "Câu 1/2" not in h.last("o1")
        officer = await h.app.deps.users.get("test", "o1")
        assert officer is not None and await h.app.deps.dialogs.get(officer.id) is None
        await h.say("o1", "/baocao xyz")
        assert "Không có mẫu báo cáo “xyz”" in h.all_text("o1")
        assert "Chọn mẫu báo cáo" in h.last("o1")


async def test_a_correction_is_announced_and_the_replaced_officer_told(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
        await h.say("o1", "12.500")
        await h.say("o1", "10.600")
        assert "Kỳ này đã có" not in h.last("o1")  # nothing to replace yet
        await h.tap("o1", "Gửi")
        receipt = h.last("o1")
        assert "Tỷ lệ tham gia BHYT: 84,8%" in receipt  # the figures received, not only a verdict
        assert "Số dân của xã: 12.500 người" in receipt
        # the office enters a correction it got by phone
        await h.say("admin", "/baocao bhyt")
        await h.tap("admin", "Dân Lực")
        await h.say("admin", "12.000")
        await h.say("admin", "10.600")
        summary = h.last("admin")
        assert "Kỳ này đã có BC-000001 do Người o1 gửi lúc" in summary
        assert "gửi bản này sẽ thay thế bản đó" in summary
        await h.tap("admin", "Gửi")
        assert "thay cho báo cáo BC-000001" in h.last("admin")
        notices = await h.app.db.fetchall(
            "SELECT d.chat_id, d.payload FROM deliveries d JOIN jobs j ON j.id = d.job_id"
            " WHERE j.kind = 'notice'"
        )
        assert [n["chat_id"] for n in notices] == ["o1"]
        told = notices[0]["payload"]
        assert "BC-000001" in told and "BC-000002" in told and "Người admin" in told
        assert "12.500 người → 12.000 người" in told
        # correcting one's own report tells nobody; replacing the office's entry tells it
        for value in ("10.700", "10.800"):
            await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
            await h.say("o1", "12.000")
            await h.say("o1", value)
            await h.tap("o1", "Gửi")
        notices = await h.app.db.fetchall(
            "SELECT d.chat_id FROM deliveries d JOIN jobs j ON j.id = d.job_id"
            " WHERE j.kind = 'notice' ORDER BY d.id"
        )
        assert [n["chat_id"] for n in notices] == ["o1", "admin"]
        await h.say("admin", "/xa Dân Lực")
        history = h.last("admin")
        assert "BC-000002" in history and "(Người admin)" in history
        assert "Số dân của xã: 12.500 người → 12.000 người" in history  # old and new
        assert "Số người tham gia BHYT (có thẻ còn hạn): 10.700 người → 10.800 người" in history


async def test_a_value_far_from_the_last_report_is_questioned_once(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
        await h.say("o1", "12.500")
        await h.say("o1", "10.600")
        await h.tap("o1", "Gửi")
        h.clock.advance(dt.timedelta(days=31))  # next month's report
        await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
        await h.say("o1", "9.000")
        asked = h.last("o1")
        assert "Số dân 9.000 người khác nhiều so với lần báo cáo trước (12.500 người)" in asked
        await h.tap("o1", "Nhập lại")
        assert "Câu 1/2: Số dân của xã" in h.last("o1")
        await h.say("o1", "9.000")  # the same again: asked again, this time kept
        await h.say("o1", "đúng")
        assert "Câu 2/2" in h.last("o1")
        await h.say("o1", "8.000")  # 10.600 → 8.000 is −25%: questioned; a new number answers
        assert "khác nhiều so với lần báo cáo trước (10.600 người)" in h.last("o1")
        await h.say("o1", "8.600")
        assert "Kiểm tra trước khi gửi" in h.last("o1")
        await h.tap("o1", "Gửi")
        newest = max(await reports_of(h), key=lambda r: r.id)
        assert newest.answers == {"population": 9000, "insured": 8600}
        # a close value is not questioned
        h.clock.advance(dt.timedelta(days=31))
        await start_form(h, "o1", "Tỷ lệ người dân tham gia BHYT")
        await h.say("o1", "9.500")
        assert "Câu 2/2" in h.last("o1")


async def test_a_form_opens_with_its_first_question_in_the_same_message(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao")
        replies = await h.tap("o1", "Tỷ lệ người dân tham gia BHYT")
        [opening] = replies  # one message to read, not an introduction then a question
        assert "Dân Lực" in opening.text and "/huy" in opening.text
        assert opening.text.index("/huy") < opening.text.index("Câu 1/2: Số dân của xã")


async def test_a_welcome_carries_the_question_for_the_name(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Thọ Dân")
        replies = await h.say("n1", f"/start {code}")
        welcome = [r for r in replies if "Đăng ký thành công" in r.text]
        assert len(welcome) == 1 and "họ và tên" in welcome[0].text
