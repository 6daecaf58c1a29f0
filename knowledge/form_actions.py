"""The report dialog's button actions: typed values and their compact text form.

A button carries text (Telegram's ``callback_data`` holds at most 64 bytes; Zalo and the
terminal carry the same text back as a typed number or word), so each action the report dialog
offers is a small frozen dataclass with one way out (:func:`encode`) and one way in
(:func:`decode`). The text form is the one chats already hold (``rep:form:12:bhyt``), so buttons
sent before an upgrade keep working. Forms are checked at load against the longest action they
can produce (``knowledge/forms.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PREFIX = "rep"
MAX_ACTION_BYTES = 64
_WHOLE = "whole"


class Verb(StrEnum):
    """Actions without an argument."""

    SEND = "send"
    EDIT = "edit"
    CANCEL = "cancel"
    BACK = "back"
    SKIP = "skip"
    KEEP = "keep"  # "đúng, giữ số này" for a value far from the last report
    RETYPE = "retype"


@dataclass(frozen=True)
class Do:
    verb: Verb


@dataclass(frozen=True)
class ForCommune:
    """The office reports for this commune."""

    commune_id: int


@dataclass(frozen=True)
class StartForm:
    commune_id: int
    form_id: str


@dataclass(frozen=True)
class PickOption:
    value: str


@dataclass(frozen=True)
class PickIndicator:
    """A criterion or indicator code (``xa:17.4``); ``whole`` = the criterion itself although
    it has sub-indicators."""

    code: str
    whole: bool = False


@dataclass(frozen=True)
class EditField:
    key: str


ReportAction = Do | ForCommune | StartForm | PickOption | PickIndicator | EditField


def encode(action: ReportAction) -> str:
    match action:
        case Do(verb):
            return f"{PREFIX}:{verb.value}"
        case ForCommune(commune_id):
            return f"{PREFIX}:commune:{commune_id}"
        case StartForm(commune_id, form_id):
            return f"{PREFIX}:form:{commune_id}:{form_id}"
        case PickOption(value):
            return f"{PREFIX}:opt:{value}"
        case PickIndicator(code, whole):
            return f"{PREFIX}:ind:{code}" + (f":{_WHOLE}" if whole else "")
        case EditField(key):
            return f"{PREFIX}:field:{key}"
    raise TypeError(f"not a report action: {action!r}")


def decode(text: str) -> ReportAction | None:
    """The action ``text`` stands for, or None for anything malformed (a forged or stale button
    is ignored, never an error)."""
    prefix, _, rest = text.partition(":")
    if prefix != PREFIX:
        return None
    name, _, argument = rest.partition(":")
    if not argument:
        try:
            return Do(Verb(name))
        except ValueError:
            return None
    match name:
        case "commune" if argument.isdigit():
            return ForCommune(int(argument))
        case "form":
            commune, _, form_id = argument.partition(":")
            if commune.isdigit() and form_id and ":" not in form_id:
                return StartForm(int(commune), form_id)
        case "opt":
            return PickOption(argument)
        case "ind":
            code = argument.removesuffix(f":{_WHOLE}")
            return PickIndicator(code, whole=code != argument)
        case "field" if ":" not in argument:
            return EditField(argument)
    return None


def fits(action: ReportAction) -> bool:
    return len(encode(action).encode("utf-8")) <= MAX_ACTION_BYTES
