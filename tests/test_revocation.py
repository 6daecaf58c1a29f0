"""Revocation stops everything the person could still do; invites can be withdrawn and not
guessed; registration and one commune's data stay out of group chats.

Driven through the conversation core, which every channel (Telegram, Zalo Bot, Zalo OA, the
terminal) hands its updates to: a check here holds on each of them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from handlers.broadcast import create_digest_job
from storage.reports import ReportRepo
from tests.harness import Harness, harness

ENDED = "Quyền của bạn vừa thay đổi"


async def bhyt_until_confirm(h: Harness, user: str, commune: str | None = None) -> None:
    """``user`` fills in the BHYT form up to the summary (for ``commune`` when office)."""
    await h.say(user, "/huy")
    await h.say(user, "/baocao")
    if commune is not None:
        await h.tap(user, commune)
    await h.tap(user, "Tỷ lệ người dân tham gia BHYT")
    await h.say(user, "12.500")
    await h.say(user, "10.600")
    assert "Kiểm tra trước khi gửi" in h.last(user), h.last(user)


async def revoke(h: Harness, who: str) -> None:
    await h.say("admin", f"/thuhoi Người {who}")
    await h.tap("admin", f"Người {who}")
    await h.tap("admin", "Thu hồi")
    assert "Đã thu hồi quyền" in h.last("admin"), h.last("admin")


async def staff(h: Harness, who: str) -> None:
    await h.say("admin", "/moi văn phòng")
    await h.tap("admin", "Tạo mã")  # the office code is confirmed too
    code = h.last("admin").split(": ", 1)[1].split()[0]
    await h.say(who, f"/start {code}")
    assert "Đăng ký thành công" in h.all_text(who)
    await h.give_name(who)


async def report_count(h: Harness) -> int:
    return len(await ReportRepo(h.app.db).all())


@pytest.mark.parametrize("confirm", ["ok", "gửi", "đồng ý", "1", "@Gửi báo cáo"])
async def test_a_revoked_officer_cannot_finish_a_report(tmp_path: Path, confirm: str) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await bhyt_until_confirm(h, "o1")
        send_button = h.choice("o1", "Gửi báo cáo")
        await revoke(h, "o1")
        if confirm.startswith("@"):
            await h.act("o1", send_button.action)
        else:
            await h.say("o1", confirm)
        assert ENDED in h.all_text("o1") or "chưa đăng ký là cán bộ xã" in h.last("o1")
        assert "Đã nhận báo cáo" not in h.all_text("o1")
        assert await report_count(h) == 0
        # and nothing left to resume: the dialog is gone
        await h.say("o1", "ok")
        assert "Đã nhận báo cáo" not in h.all_text("o1") and await report_count(h) == 0


async def test_a_revoked_officer_typing_the_next_answer_is_stopped(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao")
        await h.tap("o1", "Tỷ lệ người dân tham gia BHYT")
        await h.say("o1", "12.500")
        await revoke(h, "o1")
        await h.say("o1", "10.600")
        assert ENDED in h.last("o1")
        await h.say("o1", "gửi")
        assert await report_count(h) == 0
        assert await h.app.deps.dialogs.get(await user_id(h, "o1")) is None


async def test_revoked_office_staff_cannot_replace_a_communes_report(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await staff(h, "s1")
        await bhyt_until_confirm(h, "s1", commune="Dân Lực")
        await revoke(h, "s1")
        for typed in ("gửi", "ok"):
            await h.say("s1", typed)
        assert ENDED in h.all_text("s1")
        assert await report_count(h) == 0


async def test_an_officer_moved_to_another_commune_cannot_send_for_the_old_one(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await bhyt_until_confirm(h, "o1")
        # the office moves the officer: a new invite for Thọ Dân, redeemed mid-dialog
        await h.register("admin", "o1", "Thọ Dân")
        await h.say("o1", "gửi")
        assert await report_count(h) == 0
        assert "Đã nhận báo cáo" not in h.all_text("o1")
        # a dialog state from the old commune, however it survived, is refused too
        uid = await user_id(h, "o1")
        communes = {c.name: c.id for c in await h.app.deps.communes.all()}
        state = {
            "form": "bhyt",
            "commune_id": communes["Dân Lực"],
            "answers": {"population": 12500, "insured": 10600},
            "mode": "confirm",
            "edit": None,
            "office": False,
        }
        async with h.app.db.transaction():
            await h.app.deps.dialogs.save(uid, "report", state, h.clock.now())
        await h.say("o1", "gửi")
        assert ENDED in h.last("o1") and await report_count(h) == 0


async def test_an_admin_removed_from_the_settings_cannot_finish_an_announcement(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path, admins=("admin", "admin2")) as h:
        await h.say("admin2", "/thongbao")
        await h.say("admin2", "Họp giao ban thứ Hai")
        h.app.deps.admins = frozenset({("test", "admin")})
        h.app.conversation.deps.admins = h.app.deps.admins
        await h.say("admin2", "1")
        assert ENDED in h.last("admin2")
        rows = await h.app.db.fetchall("SELECT * FROM jobs WHERE kind = 'announcement'")
        assert rows == []


async def user_id(h: Harness, who: str) -> int:
    user = await h.app.deps.users.get("test", who)
    assert user is not None
    return user.id


async def test_revocation_ends_private_digests_and_pending_deliveries(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await staff(h, "s1")
        await h.say("s1", "/dangky")
        assert "Đã đăng ký" in h.last("s1")
        await h.say("s1", "/dangky", group="g-office")  # the office group stays subscribed
        await h.register("admin", "o1", "Dân Lực")
        job = await create_digest_job(h.app.deps, h.clock.today(), "digest:test")
        assert job is not None
        pending = "SELECT chat_id FROM deliveries WHERE status = 'pending' ORDER BY chat_id"
        assert [r["chat_id"] for r in await h.app.db.fetchall(pending)] == ["g-office", "o1", "s1"]
        await revoke(h, "s1")
        await revoke(h, "o1")
        rows = await h.app.db.fetchall(
            "SELECT chat_id, status FROM deliveries WHERE job_id = ? ORDER BY chat_id", (job,)
        )
        assert [(r["chat_id"], r["status"]) for r in rows] == [
            ("g-office", "pending"),
            ("o1", "cancelled"),
            ("s1", "cancelled"),
        ]
        subscribed = await h.app.db.fetchall("SELECT chat_id FROM subscriptions")
        assert [r["chat_id"] for r in subscribed] == ["g-office"]
        # each of them is told, once, through the sender
        notices = await h.app.db.fetchall(
            "SELECT d.chat_id, d.payload FROM deliveries d JOIN jobs j ON j.id = d.job_id"
            " WHERE j.kind = 'notice' AND d.status = 'pending' ORDER BY d.chat_id"
        )
        assert [r["chat_id"] for r in notices] == ["o1", "s1"]
        assert "thu hồi" in notices[0]["payload"]
        audit = await h.app.db.fetchall(
            "SELECT detail FROM audit_log WHERE action = 'user.revoke' ORDER BY id"
        )
        assert '"cancelled_deliveries": 1' in audit[0]["detail"]


async def test_anyone_may_unsubscribe_their_own_chat(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await staff(h, "s1")
        await h.say("s1", "/dangky")
        await h.app.db.execute("UPDATE users SET role = NULL WHERE external_id = 's1'")
        h.app.deps.users.forget()
        await h.say("s1", "/huydangky")
        assert "Đã hủy đăng ký" in h.last("s1")
        assert await h.app.db.fetchall("SELECT * FROM subscriptions") == []
        # a group's subscription is the office's to end, not any member's
        await h.say("admin", "/dangky", group="g1")
        await h.say("stranger", "/huydangky", group="g1")
        assert "Văn phòng" in h.last("stranger")
        assert len(await h.app.db.fetchall("SELECT * FROM subscriptions")) == 1


async def test_unused_invites_are_listed_and_can_be_withdrawn(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Dân Lực")
        await h.say("admin", "/moi văn phòng")
        await h.tap("admin", "Tạo mã")  # the office code is confirmed too
        staff_code = h.last("admin").split(": ", 1)[1].split()[0]
        await h.say("admin", "/thuhoi")
        labels = [c.label for c in h.replies["admin"][-1].flat_choices()]
        assert any(code in label and "Dân Lực" in label for label in labels), labels
        assert any(staff_code in label and "Văn phòng" in label for label in labels), labels
        await h.tap("admin", f"Mã mời {staff_code}")
        await h.tap("admin", "Thu hồi")
        assert f"Đã thu hồi mã mời {staff_code}" in h.last("admin")
        await h.say("leaker", f"/start {staff_code}")
        assert "không đúng, đã được dùng hoặc đã hết hạn" in h.last("leaker")
        user = await h.app.deps.users.get("test", "leaker")
        assert user is not None and user.role is None
        # withdrawn codes are no longer offered; the other one still works
        await h.say("admin", "/thuhoi")
        labels = [c.label for c in h.replies["admin"][-1].flat_choices()]
        assert not any(staff_code in label for label in labels)
        await h.say("o1", f"/start {code}")
        assert "Đăng ký thành công" in h.all_text("o1")


async def test_wrong_invite_codes_lead_to_a_cool_down(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Dân Lực")
        for attempt in range(5):
            guess = f"ABCDEF{attempt + 2}2"
            await h.say("guesser", f"/start {guess}" if attempt % 2 else guess)
            assert "không đúng" in h.all_text("guesser")
        assert "thử lại sau 15 phút" in h.last("guesser")
        await h.say("guesser", f"/start {code}")  # even the right code waits
        assert "thử lại sau" in h.last("guesser")
        assert "Đăng ký thành công" not in h.all_text("guesser")
        await h.say("guesser", "hạn BHYT")  # questions are still answered
        assert "30/09/2021" in h.last("guesser")
        h.clock.advance(dt.timedelta(minutes=16))
        await h.say("guesser", f"/start {code}")
        assert "Đăng ký thành công" in h.all_text("guesser")


async def test_a_plain_word_that_looks_like_a_code_stays_a_question(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        for _ in range(6):
            await h.say("u1", "chuyenha")
        assert "mã mời" not in h.all_text("u1").lower()
        assert await h.app.db.fetchall("SELECT * FROM invite_attempts") == []


async def test_registration_and_commune_data_stay_out_of_groups(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        code = await h.invite("admin", "Dân Lực")
        await h.say("o1", f"/start {code}", group="g1")
        assert "cuộc trò chuyện riêng" in h.last("o1")
        await h.say("o1", code, group="g1")
        assert "cuộc trò chuyện riêng" in h.last("o1")
        user = await h.app.deps.users.get("test", "o1")
        assert user is not None and user.role is None  # the code was not used up
        await h.say("o1", f"/start {code}")
        assert "Đăng ký thành công" in h.all_text("o1")
        for command in ("/cuatoi", "/baocao", "/xa Dân Lực"):
            replies = await h.say("o1", command, group="g1")
            assert "cuộc trò chuyện riêng" in replies[-1].text, command
        for command in ("/xuat", "/moi Dân Lực", "/thuhoi"):
            replies = await h.say("admin", command, group="g1")
            assert "cuộc trò chuyện riêng" in replies[-1].text, command
            assert all(r.document is None for r in replies)
        replies = await h.act("o1", f"xa:{user.commune_id}", group="g1")
        assert "cuộc trò chuyện riêng" in replies[-1].text
        # what a group is for still works there
        await h.say("o1", "hạn BHYT", group="g1")
        assert "30/09/2021" in h.last("o1")
