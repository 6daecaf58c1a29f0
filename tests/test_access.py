"""Who may do what: every command and every kind of button against every role.

Roles: a stranger (unregistered), an officer of Dân Lực (A), an officer of Thọ Dân (B), the
staff of a district unit (Phòng Tư pháp), office staff, an administrator. Each commune has a
report with numbers found nowhere else, so any leak of one commune's data to the other
commune's officer, a unit's staff or a stranger shows. Admin actions refuse everyone else;
buttons crafted to point at another commune (or another unit's task) are refused too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import pytest

from handlers.core import ADMIN, GUEST, OFFICER, STAFF, UNIT
from tests.harness import Harness, harness
from tests.own_loop import own_loop

ROLES = {
    "stranger": GUEST,
    "officer_a": OFFICER,
    "officer_b": OFFICER,
    "unit_tp": UNIT,
    "staff": STAFF,
    "admin": ADMIN,
}
# Numbers each commune reported, written as the bot shows them.
SECRETS = {"officer_a": ("11.111", "10.101"), "officer_b": ("22.222", "20.202")}
DENIED = ("Xin lỗi", "Bạn chưa đăng ký là cán bộ xã", "Bạn chỉ", "Chức năng này dành cho")


@contextmanager
def district(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Harness, dict[str, int]]]:
    """Two officers with a report each, office staff, an admin; ids of their communes."""
    stack = AsyncExitStack()

    async def setup() -> tuple[Harness, dict[str, int]]:
        h = await stack.enter_async_context(harness(tmp_path))
        await h.register("admin", "officer_a", "Dân Lực")
        await h.register("admin", "officer_b", "Thọ Dân")
        await h.register("admin", "unit_tp", "Phòng Tư pháp")
        await h.say("admin", "/moi văn phòng")
        await h.tap("admin", "Tạo mã")  # the office code is confirmed too
        code = h.last("admin").split(": ", 1)[1].split()[0]
        await h.say("staff", f"/start {code}")
        for officer, (population, insured) in SECRETS.items():
            await h.say(officer, "/baocao")
            await h.tap(officer, "Tỷ lệ người dân tham gia BHYT")
            await h.say(officer, population)
            await h.say(officer, insured)
            await h.tap(officer, "Gửi báo cáo")
            assert "Đã nhận báo cáo số" in h.last(officer)
        communes = {c.name: c.id for c in await h.app.deps.communes.all()}
        return h, {"a": communes["Dân Lực"], "b": communes["Thọ Dân"]}

    with own_loop() as loop:
        try:
            h, ids = loop.run_until_complete(setup())
            yield loop, h, ids
        finally:
            loop.run_until_complete(stack.aclose())


def leaks(who: str, text: str) -> list[str]:
    """Another commune's numbers in what ``who`` was shown."""
    others = [o for o in SECRETS if o != who] if who in SECRETS else list(SECRETS)
    if who in ("staff", "admin"):
        return []
    return [number for o in others for number in SECRETS[o] if number in text]


COMMAND_ARGS = {
    "xa": ["", "Thọ Dân", "Dân Lực"],
    "moi": ["Thọ Dân", "văn phòng", "phòng tư pháp"],
    "viec": ["", "Thọ Dân", "phòng y tế"],
    "baocao": ["", "Thọ Dân"],
    "thuhoi": ["", "officer_b"],
    "lang": ["en", "vi"],
}


def test_every_command_against_every_role(tmp_path: Path) -> None:
    with district(tmp_path) as (loop, h, ids):
        assert h.app.conversation.role_of  # the roles below are what the core computes
        for who, role in ROLES.items():
            user = loop.run_until_complete(h.app.deps.users.get("test", who))
            if user is not None:
                assert h.app.conversation.role_of(user) == role, who
        checked = 0
        for name, spec in h.app.conversation.commands.items():
            for args in COMMAND_ARGS.get(name, [""]):
                for who, role in ROLES.items():
                    loop.run_until_complete(h.say(who, "/huy"))
                    replies = loop.run_until_complete(h.say(who, f"/{name} {args}".strip()))
                    text = "\n".join(r.text for r in replies)
                    assert not leaks(who, text), (name, args, who, text)
                    if role not in spec.roles:
                        assert any(d in text for d in DENIED), (name, who, text)
                        assert not any(
                            c.action.startswith(("inv:", "rev:", "ann:"))
                            for r in replies
                            for c in r.flat_choices()
                        )
                    checked += 1
        assert checked >= len(h.app.conversation.commands) * len(ROLES)
        officer_a = loop.run_until_complete(h.app.deps.users.get("test", "officer_a"))
        assert officer_a is not None and officer_a.commune_id == ids["a"]


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        ("xa:{b}", {"officer_b", "staff", "admin"}),
        ("xa:{a}", {"officer_a", "staff", "admin"}),
        ("rep:commune:{b}", {"staff", "admin"}),
        ("rep:form:{b}:bhyt", {"officer_b", "staff", "admin"}),
        ("inv:c:{b}", {"admin"}),
        ("inv:staff", {"admin"}),
        ("inv:s", {"admin"}),
        ("inv:u:tp", {"admin"}),
        ("task:pick:van-ban-danh-gia.tp:0", {"unit_tp", "staff", "admin"}),
        ("task:pick:van-ban-danh-gia.yte:0", {"staff", "admin"}),
        ("task:pick:quy-hoach-xa.cac-xa:{b}", {"officer_b", "staff", "admin"}),
        ("rev:ok:1", {"admin"}),
        ("ann:to:officers", {"admin"}),
        ("rep:send", set()),  # no report in progress: nothing to send for anyone
    ],
)
def test_buttons_pointing_at_another_commune_or_an_admin_action(
    tmp_path: Path, action: str, allowed: set[str]
) -> None:
    with district(tmp_path) as (loop, h, ids):
        for who in ROLES:
            loop.run_until_complete(h.say(who, "/huy"))
            before = loop.run_until_complete(state_of(h))
            replies = loop.run_until_complete(h.act(who, action.format(**ids)))
            text = "\n".join(r.text for r in replies)
            assert not leaks(who, text), (action, who, text)
            if who not in allowed:
                refused = any(d in text for d in DENIED) or "đã kết thúc" in text
                assert refused, (action, who, text)
                assert loop.run_until_complete(state_of(h)) == before, (action, who)
            else:
                assert not any(d in text for d in DENIED), (action, who, text)


async def state_of(h: Harness) -> tuple[object, ...]:
    """What a refused action must not change: reports, invites, roles, send-outs."""
    db = h.app.db
    return (
        await db.fetchval("SELECT count(*) FROM reports"),
        await db.fetchval("SELECT count(*) FROM invites"),
        await db.fetchval("SELECT count(*) FROM jobs"),
        await db.fetchval("SELECT count(*) FROM task_progress"),
        [
            tuple(r)
            for r in await db.fetchall(
                "SELECT id, role, commune_id, unit_key FROM users ORDER BY id"
            )
        ],
    )


def test_an_officer_cannot_finish_a_report_for_another_commune(tmp_path: Path) -> None:
    with district(tmp_path) as (loop, h, ids):

        async def attempt() -> None:
            await h.act("officer_a", f"rep:form:{ids['b']}:bhyt")  # a crafted button
            await h.say("officer_a", "5.000")
            await h.say("officer_a", "4.000")
            await h.act("officer_a", "rep:send")

        loop.run_until_complete(attempt())
        rows = loop.run_until_complete(
            h.app.db.fetchall(
                "SELECT r.commune_id FROM reports r JOIN users u"
                " ON u.id = r.submitted_by WHERE u.external_id = 'officer_a'"
            )
        )
        assert {r["commune_id"] for r in rows} == {ids["a"]}
