"""The one codec of button actions: typed values in, the same text out, garbage ignored."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pytest

from handlers.actions import Actions
from handlers.registration import INVITES, AskCommune, MakeStaff, MakeUnit, NoInvite
from handlers.tasks import Pick, SetStatus, decode
from storage.tasks import TaskStatus


class Colour(StrEnum):
    RED = "red"


CODEC = Actions("t")


@CODEC.register("pick")
@dataclass(frozen=True)
class Pick2:
    n: int
    colour: Colour
    code: str  # last: may hold ":"


def test_values_go_out_and_come_back() -> None:
    action = Pick2(3, Colour.RED, "xa:17.4")
    assert CODEC.encode(action) == "t:pick:3:red:xa:17.4"
    assert CODEC.decode("t:pick:3:red:xa:17.4") == action


@pytest.mark.parametrize(
    "text",
    [
        "t:pick:x:red:a",
        "t:pick:3:blue:a",
        "t:pick:3:red:",
        "t:pick",
        "u:pick:3:red:a",
        "t:nope:1",
        "",
    ],
)
def test_malformed_or_forged_is_nothing(text: str) -> None:
    assert CODEC.decode(text) is None


def test_an_action_that_would_not_fit_a_button_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        CODEC.encode(Pick2(1, Colour.RED, "x" * 80))


def test_the_text_chats_already_hold_still_reads() -> None:
    """Buttons sent before the codec keep working: the same text forms."""
    assert decode("task:pick:quy-hoach-xa.cac-xa:0") == Pick("quy-hoach-xa.cac-xa", None)
    assert decode("task:pick:van-ban-danh-gia.tp:12") == Pick("van-ban-danh-gia.tp", 12)
    assert decode("task:set:done") == SetStatus(TaskStatus.DONE)
    assert Pick("quy-hoach-xa.cac-xa", None).encode() == "task:pick:quy-hoach-xa.cac-xa:0"
    assert INVITES.decode("inv:ask:7") == AskCommune(7)
    assert INVITES.decode("inv:u:tp") == MakeUnit("tp")
    assert INVITES.decode("inv:s") == MakeStaff()
    assert INVITES.decode("inv:no") == NoInvite()
    assert INVITES.decode("inv:s:extra") is None


async def test_a_revocation_button_sent_before_the_codec_still_works(tmp_path: Path) -> None:
    from tests.harness import harness

    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        officer = next(u for u in await h.app.deps.users.registered(role="officer"))
        await h.act("admin", f"rev:{officer.id}")  # the old form of "whom to revoke"
        assert "Thu hồi quyền của" in h.last("admin")
        await h.tap("admin", "Thu hồi")
        assert (await h.app.deps.users.by_id(officer.id)).role is None


def test_a_forms_longest_names_fit_a_button() -> None:
    """knowledge/forms.py keeps a form's names to NAME_BYTES; every report action made of
    names that long (and a commune id of nine digits) fits Telegram's 64 bytes."""
    from handlers.form_actions import EditField, PickIndicator, PickOption, StartForm, encode
    from knowledge.forms import LONGEST_REPETITION, NAME_BYTES

    name = "đ" * (NAME_BYTES // 2)  # two bytes a letter: NAME_BYTES bytes
    key = "k" * (NAME_BYTES - len(LONGEST_REPETITION)) + LONGEST_REPETITION
    for action in (
        StartForm(999_999_999, name),
        EditField(key),
        PickOption(name),
        PickIndicator("huyen:19.10", whole=True),
    ):
        assert len(encode(action).encode("utf-8")) <= 64, action


def test_report_actions_read_as_before() -> None:
    from handlers.form_actions import Do, PickIndicator, StartForm, Verb, decode, encode

    assert decode("rep:send") == Do(Verb.SEND)
    assert decode("rep:form:12:bhyt") == StartForm(12, "bhyt")
    assert decode("rep:ind:xa:17:whole") == PickIndicator("xa:17", whole=True)
    assert encode(PickIndicator("xa:17.4")) == "rep:ind:xa:17.4"
    assert decode("rep:form:12:a:b") is None and decode("rep:nope") is None
