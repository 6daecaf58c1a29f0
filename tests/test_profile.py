"""People have names: asked at registration, corrected with /toi, shown to the office."""

from __future__ import annotations

import io
import json
from pathlib import Path

from openpyxl import load_workbook

from tests.harness import harness


async def test_registration_asks_name_and_position_and_the_office_sees_them(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Dân Lực")
        replies = await h.say("o1", f"/start {code}")
        assert "Đăng ký thành công" in replies[0].text
        assert "họ và tên" in h.last("o1")
        await h.say("o1", "1234")  # not a name
        assert "bằng chữ" in h.last("o1")
        await h.say("o1", "  Nguyễn   Thị Hoa ")
        assert "Chức vụ" in h.last("o1")
        await h.say("o1", "Công chức Văn hóa - Xã hội")
        assert "Họ tên: Nguyễn Thị Hoa" in h.last("o1")
        await h.tap("o1", "Đúng, lưu lại")
        assert "Đã lưu: Nguyễn Thị Hoa (Công chức Văn hóa - Xã hội)" in h.last("o1")

        await h.say("o1", "/baocao bhyt")
        await h.say("o1", "12.500")
        await h.say("o1", "10.600")
        await h.tap("o1", "Gửi")
        await h.say("admin", "/xa Dân Lực")
        assert "Nguyễn Thị Hoa (Công chức Văn hóa - Xã hội)" in h.last("admin")
        await h.say("admin", "/thuhoi")
        labels = [c.label for c in h.replies["admin"][-1].flat_choices()]
        assert any(label.startswith("Nguyễn Thị Hoa") for label in labels), labels
        replies = await h.say("admin", "/xuat")
        xlsx = next(r.document for r in replies if r.document is not None).data
        sheet = load_workbook(io.BytesIO(xlsx))["Tỷ lệ tham gia BHYT"]
        header = [c.value for c in sheet[1]]
        row = [c.value for c in next(sheet.iter_rows(min_row=2))]
        assert row[header.index("Người gửi")] == "Nguyễn Thị Hoa (Công chức Văn hóa - Xã hội)"


async def test_a_person_corrects_their_name_and_the_office_sees_who_changed_what(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực", name="Nguyễn Văn A")
        await h.say("o1", "/toi")
        assert "Họ tên: Nguyễn Văn A" in h.last("o1")
        await h.tap("o1", "Sửa họ tên")
        await h.say("o1", "Nguyễn Văn An")
        await h.say("o1", "bỏ qua")
        assert "Chức vụ: (không ghi)" in h.last("o1")
        await h.say("o1", "đúng")
        assert "Đã lưu: Nguyễn Văn An." in h.last("o1")
        rows = await h.app.db.fetchall(
            "SELECT user_id, detail FROM audit_log WHERE action = 'user.profile' ORDER BY id"
        )
        last = json.loads(rows[-1]["detail"])
        assert last["before"] == {"full_name": "Nguyễn Văn A", "position": "Công chức xã"}
        assert last["after"] == {"full_name": "Nguyễn Văn An", "position": None}


async def test_someone_registered_without_a_name_is_asked_once(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.app.db.execute(
            "UPDATE users SET full_name = NULL, position = NULL, name_asked_at = NULL"
            " WHERE external_id = 'o1'"
        )
        h.app.deps.users.forget()
        replies = await h.say("o1", "hạn BHYT")
        text = "\n".join(r.text for r in replies)
        assert "30/09/2021" in text  # the question is answered first
        assert "họ và tên" in h.last("o1")
        await h.say("o1", "/huy")  # not now
        replies = await h.say("o1", "hạn BHYT")
        assert all("họ và tên" not in r.text for r in replies)  # asked once, not every time


async def test_a_group_message_never_answers_a_private_dialog(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Dân Lực")
        await h.say("o1", f"/start {code}")
        assert "họ và tên" in h.last("o1")
        await h.say("o1", "hạn BHYT", group="g1")
        assert "30/09/2021" in h.last("o1")  # answered as a question in the group
        await h.say("o1", "Lê Thị Mai")  # the private dialog is still waiting for the name
        assert "Chức vụ" in h.last("o1")


async def test_a_question_typed_when_the_name_is_asked_is_answered_not_saved(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Dân Lực")
        await h.say("o1", f"/start {code}")
        assert "họ và tên" in h.last("o1")
        replies = await h.say("o1", "ai phụ trách tiêu chí 17.4?")
        text = "\n".join(r.text for r in replies)
        assert "Phòng Kinh tế và Hạ tầng" in text  # answered …
        assert "họ và tên" in h.last("o1")  # … and the name is still awaited
        replies = await h.say("o1", "tiêu chí xã 5")  # no question mark, still a question
        assert "Tiêu chí 5 (cấp xã)" in "\n".join(r.text for r in replies)
        assert "họ và tên" in h.last("o1")
        await h.say("o1", "Cán bộ 12")  # a number, but no question: the name check decides
        assert "Chức vụ" in h.last("o1")
        await h.say("o1", "bỏ qua")
        assert "Họ tên: Cán bộ 12" in h.last("o1")
        await h.tap("o1", "Nhập lại")
        await h.say("o1", "Lê Thị Mai")
        assert "Chức vụ" in h.last("o1")
        await h.say("o1", "bỏ qua")
        assert "Họ tên: Lê Thị Mai" in h.last("o1")
