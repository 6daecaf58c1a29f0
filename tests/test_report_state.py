"""The report dialog's typed state and button actions: stored forms round-trip, odd ones are
refused politely, and states written by earlier versions carry on."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.form_actions import (
    Do,
    EditField,
    ForCommune,
    PickIndicator,
    PickOption,
    ReportAction,
    StartForm,
    Verb,
    decode,
    encode,
)
from handlers.report_state import Mode, ReportState
from storage.reports import ReportRepo
from tests.harness import harness


@pytest.mark.parametrize(
    ("action", "text"),
    [
        (Do(Verb.SEND), "rep:send"),
        (Do(Verb.KEEP), "rep:keep"),
        (ForCommune(12), "rep:commune:12"),
        (StartForm(3, "bhyt"), "rep:form:3:bhyt"),
        (PickOption("dang_cho"), "rep:opt:dang_cho"),
        (PickIndicator("xa:17.4"), "rep:ind:xa:17.4"),
        (PickIndicator("xa:17", whole=True), "rep:ind:xa:17:whole"),
        (EditField("ocop_name.1"), "rep:field:ocop_name.1"),
    ],
)
def test_actions_keep_the_text_chats_already_hold(action: ReportAction, text: str) -> None:
    assert encode(action) == text
    assert decode(text) == action


@pytest.mark.parametrize(
    "text",
    [
        "",
        "rep",
        "rep:",
        "rep:explode",
        "rep:commune:",
        "rep:commune:abc",
        "rep:commune:-1",
        "rep:form:x:bhyt",
        "rep:form:3:",
        "rep:form:3:a:b",
        "rep:field:a:b",
        "sub:send",
    ],
)
def test_malformed_actions_decode_to_nothing(text: str) -> None:
    assert decode(text) is None


def test_a_state_written_by_an_earlier_version_loads() -> None:
    stored = {
        "form": "bhyt",
        "commune_id": 4,
        "answers": {"population": 12500},
        "mode": "edit_field",
        "edit": "population",
        "office": False,
        "check": {"key": "insured", "value": 9000},
        "confirmed": {"population": 12500},
        "something_old": 1,
    }
    state = ReportState.load("report", stored)
    assert state is not None
    assert state.mode is Mode.EDIT_FIELD and state.check is not None
    assert isinstance(state.check.value, int)  # an integer stays an integer
    assert ReportState.load("report", state.dump()) == state


@pytest.mark.parametrize(
    "stored",
    [
        {"mode": "flying"},
        {"mode": "fields", "answers": "not a dict"},
        {"mode": "fields", "commune_id": "x"},
        {"check": {"key": "population"}},
    ],
)
def test_a_damaged_state_does_not_load(stored: dict[str, object]) -> None:
    assert ReportState.load("report", stored) is None


async def test_a_damaged_dialog_ends_with_an_explanation_and_nothing_stored(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao bhyt")
        await h.say("o1", "12.500")
        user = await h.app.deps.users.get("test", "o1")
        assert user is not None
        async with h.app.db.transaction():
            await h.app.deps.dialogs.save(user.id, "report", {"mode": "??"}, h.clock.now())
        replies = await h.say("o1", "10.600")
        assert "không tiếp tục được nữa" in replies[0].text
        assert await ReportRepo(h.app.db).all() == []
        await h.say("o1", "/baocao bhyt")  # a fresh start works
        assert "Câu 1/2" in h.last("o1")


async def test_a_forged_button_changes_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.say("o1", "/baocao bhyt")
        before = len(h.replies["o1"])
        for forged in ("rep:field:nope", "rep:opt:nope", "rep:ind:xa:99", "rep:zzz", "rep:skip"):
            await h.act("o1", forged)
        assert h.replies["o1"][before:] == []  # ignored: nothing to say, nothing changed
        await h.say("o1", "12.500")  # the dialog is where it was
        assert "Câu 2/2" in h.last("o1")
