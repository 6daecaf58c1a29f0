"""Staff of a district unit as users: invited with /moi <đơn vị>, they see and mark their
unit's tasks and nothing of other units' or the communes' internals."""

from __future__ import annotations

from pathlib import Path

from storage.tasks import TaskProgressRepo, TaskStatus
from tests.harness import CHANNEL, harness


async def test_a_unit_is_invited_by_name_and_marks_its_own_tasks(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.say("admin", "/moi phong tu phap")  # no diacritics
        assert "Tạo mã mời cho cán bộ Phòng Tư pháp?" in h.last("admin")
        await h.tap("admin", "Tạo mã")
        assert "Mã mời cán bộ Phòng Tư pháp:" in h.last("admin")
        code = h.last("admin").split(": ", 1)[1].split()[0]
        await h.say("tp1", f"/start {code}")
        assert "Đăng ký thành công: bạn là cán bộ Phòng Tư pháp." in h.all_text("tp1")
        await h.give_name("tp1", "Trịnh Văn Pháp")
        await h.say("tp1", "/toi")
        assert "Cán bộ đơn vị: Phòng Tư pháp" in h.last("tp1")

        await h.say("tp1", "/viec")
        listing = h.last("tp1")
        assert "Việc của Phòng Tư pháp theo Kế hoạch" in listing
        assert "Hoàn thiện hồ sơ tiêu chí cấp xã 18.5" in listing
        assert "Phòng Y tế" not in listing and "Việc mỗi xã phải làm" not in listing
        await h.tap_with("tp1", "18.5")
        await h.tap("tp1", "Đã hoàn thành")
        assert "đã hoàn thành 15/10/2021" in h.last("tp1")
        marks = await TaskProgressRepo(h.app.db).current()
        mark = marks[("van-ban-danh-gia.tp", None)]
        assert mark.status is TaskStatus.DONE
        user = await h.app.deps.users.get(CHANNEL, "tp1")
        assert user is not None and mark.by_user == user.id
        audit = await h.app.db.fetchall("SELECT detail FROM audit_log WHERE action='user.register'")
        assert '"unit": "tp"' in audit[-1]["detail"]

        # another unit's task, a commune's share, and reopening are not theirs
        count = len(marks)
        await h.act("tp1", "task:pick:van-ban-danh-gia.yte:0")
        assert "chỉ cập nhật được việc của đơn vị mình" in h.last("tp1")
        await h.act("tp1", "task:pick:quy-hoach-xa.cac-xa:1")
        assert "chỉ cập nhật được việc của đơn vị mình" in h.last("tp1")
        await h.act("tp1", "task:set:open")
        assert len(await TaskProgressRepo(h.app.db).current()) == count
        # the office's views and the communes' reports are not theirs either
        await h.say("tp1", "/tonghop")
        assert "chỉ dành cho cán bộ Văn phòng" in h.last("tp1")
        await h.say("tp1", "/baocao")
        assert "dành cho cán bộ xã" in h.last("tp1") and "/viec" in h.last("tp1")
        await h.say("tp1", "/xa Dân Lực")
        assert "dành cho cán bộ xã và Văn phòng" in h.last("tp1")
        # questions still work
        await h.say("tp1", "ai phụ trách tiêu chí 18.5")
        assert "Phòng Tư pháp" in h.last("tp1")
        marked = "SELECT count(*) FROM audit_log WHERE action = 'task.mark'"
        assert await h.app.db.fetchval(marked) == 1


async def test_units_are_offered_as_buttons_and_unknown_names_explained(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.say("admin", "/moi")
        await h.tap("admin", "Cán bộ một đơn vị của huyện")
        assert "Cán bộ đơn vị nào?" in h.last("admin")
        labels = [c.label for row in h.replies["admin"][-1].choices for c in row]
        assert "Văn phòng Điều phối nông thôn mới huyện" not in " ".join(labels)  # office staff
        await h.tap_with("admin", "Bảo hiểm xã hội")
        await h.tap("admin", "Tạo mã")
        assert "Mã mời cán bộ Bảo hiểm xã hội huyện" in h.last("admin")
        await h.say("admin", "/moi phòng không có thật")
        assert "Không tìm thấy xã hay đơn vị" in h.last("admin")
        await h.act("admin", "inv:u:khong-co")  # a forged unit creates nothing
        assert "Đã bỏ" in h.last("admin")
        assert await h.app.db.fetchval("SELECT count(*) FROM invites WHERE role='unit'") == 1


async def test_revoking_unit_staff_ends_their_access(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "yt1", "Phòng Y tế", name="Lê Thị Y")
        await h.say("yt1", "/viec")
        assert "Việc của Phòng Y tế theo Kế hoạch" in h.last("yt1")
        await h.tap_with("yt1", "1.")  # a dialog is open when the role is taken away
        await h.say("admin", "/thuhoi Lê Thị Y")
        assert "Lê Thị Y (Công chức xã) — cán bộ Phòng Y tế" in h.choice("admin", "Lê Thị Y").label
        await h.tap_with("admin", "Lê Thị Y")
        await h.tap("admin", "Thu hồi")
        await h.say("yt1", "xong")
        assert await TaskProgressRepo(h.app.db).current() == {}
        await h.say("yt1", "/viec")
        assert "Việc của Phòng Y tế" not in h.last("yt1")
        user = await h.app.deps.users.get(CHANNEL, "yt1")
        assert user is not None and user.role is None and user.unit_key is None


async def test_what_a_unit_is_in_charge_of_follows_its_tasks(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "bx", "bảo hiểm xã hội")
        await h.say("bx", "/viec")
        await h.tap("bx", "1.")
        await h.tap("bx", "Vướng mắc")
        await h.say("bx", "Còn 300 hộ chưa có thẻ")
        await h.say("bx", "/viec")
        await h.tap("bx", "2.")
        await h.tap("bx", "Đã hoàn thành")
        await h.say("bx", "BHXH huyện phụ trách gì")
        duties = h.last("bx")
        assert "Lập hồ sơ kết quả tỷ lệ người dân tham gia BHYT" in duties  # not "hồ sơ hồ sơ"
        assert "hạn 15/11/2021 (đã hoàn thành 15/10/2021)" in duties
        assert "hạn 30/09/2021 (vướng mắc: Còn 300 hộ chưa có thẻ (quá hạn 15 ngày))" in duties
        await h.say("bx", "hạn BHYT")
        assert "vướng mắc: Còn 300 hộ chưa có thẻ" in h.last("bx")
