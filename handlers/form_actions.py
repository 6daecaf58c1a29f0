"""The report dialog's button actions: typed values through the one codec
(:mod:`handlers.actions`), in the text forms chats already hold (``rep:form:12:bhyt``), so
buttons sent before an upgrade keep working.

A form's names are short enough by rule (``knowledge.forms.NAME_BYTES``, checked when a form
loads), and the longest action they can make fits a button (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handlers.actions import MAX_ACTION_BYTES, Actions

PREFIX = "rep"
ACTIONS = Actions(PREFIX)
_WHOLE = ":whole"


class Verb(StrEnum):
    """Actions without an argument."""

    SEND = "send"
    EDIT = "edit"
    CANCEL = "cancel"
    BACK = "back"
    SKIP = "skip"
    KEEP = "keep"  # "đúng, giữ số này" for a value far from the last report
    RETYPE = "retype"
    PHOTOS_DONE = "photos"  # "xong": the photos sent so far answer the photo question


@ACTIONS.register()
@dataclass(frozen=True)
class Do:
    verb: Verb


@ACTIONS.register("commune")
@dataclass(frozen=True)
class ForCommune:
    """The office reports for this commune."""

    commune_id: int


@ACTIONS.register("form")
@dataclass(frozen=True)
class StartForm:
    commune_id: int
    form_id: str


@ACTIONS.register("opt")
@dataclass(frozen=True)
class PickOption:
    value: str


@dataclass(frozen=True)
class PickIndicator:
    """A criterion or indicator code (``xa:17.4``); ``whole`` = the criterion itself although
    it has sub-indicators."""

    code: str
    whole: bool = False


@ACTIONS.register("ind")
@dataclass(frozen=True)
class _Indicator:
    """How :class:`PickIndicator` is written: its code, and ":whole" after it if so."""

    target: str


@ACTIONS.register("field")
@dataclass(frozen=True)
class EditField:
    key: str


ReportAction = Do | ForCommune | StartForm | PickOption | PickIndicator | EditField


def encode(action: ReportAction) -> str:
    if isinstance(action, PickIndicator):
        return ACTIONS.encode(_Indicator(action.code + (_WHOLE if action.whole else "")))
    return ACTIONS.encode(action)


def decode(text: str) -> ReportAction | None:
    """The action ``text`` stands for, or None for anything malformed (a forged or stale button
    is ignored, never an error)."""
    action = ACTIONS.decode(text)
    if isinstance(action, _Indicator):
        code = action.target.removesuffix(_WHOLE)
        return PickIndicator(code, whole=code != action.target)
    if isinstance(action, EditField) and ":" in action.key:
        return None
    if isinstance(action, StartForm) and ":" in action.form_id:
        return None
    return action if isinstance(action, ReportAction) else None


def fits(action: ReportAction) -> bool:
    try:
        return len(encode(action).encode("utf-8")) <= MAX_ACTION_BYTES
    except ValueError:
        return False
