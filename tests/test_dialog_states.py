"""Every dialog declares its state once (a DialogState: kind and steps), and a stored state
that no longer reads (damaged, written by another version) ends that dialog politely."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.dialog_state import DialogState
from handlers.profile import ProfileState, ProfileStep
from handlers.report_state import ReportState
from handlers.subscriptions import AnnouncementState
from handlers.tasks import TaskDialog
from tests.harness import harness


def _all_states() -> set[type[DialogState]]:
    found: set[type[DialogState]] = set()
    todo = list(DialogState.__subclasses__())
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


async def test_each_dialog_declares_one_state_and_each_state_one_dialog(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        dialogs = h.app.conversation.dialogs
        assert set(dialogs) == {"report", "task", "profile", "announce"}
        for kind, handler in dialogs.items():
            assert handler.state.kind == kind
        assert {cls.kind for cls in _all_states()} == set(dialogs)


def test_a_state_reads_back_typed_and_refuses_other_kinds_and_bad_steps() -> None:
    state = ProfileState(step=ProfileStep.POSITION, name="Lê Thị Mai")
    stored = state.dump()
    assert stored == {"step": "position", "name": "Lê Thị Mai", "position": None}
    assert ProfileState.load("profile", stored) == state
    assert ProfileState.load("announce", stored) is None  # another dialog's row
    assert ProfileState.load("profile", {"step": "nickname"}) is None
    assert TaskDialog.load("task", {"task": "t1", "percent": 140}) is None
    # what an earlier version wrote, extra keys and all, still reads
    assert AnnouncementState.load("announce", {"step": "text", "old": 1}) is not None


@pytest.mark.parametrize(
    ("kind", "stored", "who"),
    [
        ("profile", {"step": "nickname"}, "o1"),
        ("announce", {"step": "audience", "text": 5}, "admin"),
        ("task", {"task": "t1", "step": "when"}, "o1"),
        ("report", {"mode": "fields", "commune_id": "x"}, "o1"),
    ],
)
async def test_a_damaged_state_ends_its_dialog_politely(
    tmp_path: Path, kind: str, stored: dict[str, object], who: str
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực", name="Lê Văn Bình")
        user = await h.app.deps.users.get(h.channel, who)
        assert user is not None
        await h.app.deps.dialogs.save(user.id, kind, stored, h.clock.now())
        h.app.deps.dialogs.forget()
        replies = await h.say(who, "hạn BHYT")
        text = "\n".join(r.text for r in replies)
        assert "không tiếp tục được nữa" in text, text
        assert "30/09/2021" in text  # the question itself is still answered
        assert await h.app.deps.dialogs.get(user.id) is None


def test_report_state_is_a_dialog_state() -> None:
    assert issubclass(ReportState, DialogState) and ReportState.kind == "report"
