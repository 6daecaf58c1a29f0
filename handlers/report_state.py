"""The report dialog's state: where the person is (a :class:`Mode`) and what they have given.

Stored as JSON in the ``dialogs`` table (kind ``report``) so a restart loses nothing; the keys
are the ones earlier versions wrote, so a dialog open across an upgrade carries on. A stored
state that does not validate is treated like an expired dialog, never as a crash.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from handlers.dialog_state import DialogState
from knowledge.form_rules import Step, steps_of
from knowledge.forms import Form


class Mode(StrEnum):
    COMMUNE = "commune"  # the office chooses the commune it reports for
    PICK_FORM = "pick_form"  # … then the form
    FIELDS = "fields"  # answering the questions in order
    CONFIRM = "confirm"  # the summary: send, edit or cancel
    EDIT_PICK = "edit_pick"  # choosing the answer to change
    EDIT_FIELD = "edit_field"  # answering that one question again

    @property
    def has_form(self) -> bool:
        return self not in (Mode.COMMUNE, Mode.PICK_FORM)


class Check(BaseModel):
    """A value far from the commune's previous report, waiting for "đúng chưa?"."""

    key: str
    value: int | float


class ReportState(DialogState):
    kind: ClassVar[str] = "report"

    mode: Mode = Mode.FIELDS
    form: str = ""
    commune_id: int = 0
    answers: dict[str, Any] = Field(default_factory=dict)
    edit: str | None = None  # the step key being answered again (EDIT_FIELD)
    office: bool = False  # entered by the office for a commune
    check: Check | None = None
    confirmed: dict[str, int | float] = Field(default_factory=dict)  # values kept after a check
    photos: list[int] = Field(default_factory=list)  # gathered for the photo question …
    photo_key: str | None = None  # … of this step (another step's photos are not these)

    def steps(self, form: Form) -> list[Step]:
        return steps_of(form, self.answers)

    def current(self, form: Form) -> Step | None:
        """The question being asked: the one being edited, else the first unanswered."""
        steps = self.steps(form)
        if self.mode == Mode.EDIT_FIELD and self.edit:
            return next((s for s in steps if s.key == self.edit), None)
        return next((s for s in steps if s.key not in self.answers), None)

    def pending(self, form: Form) -> bool:
        return any(s.key not in self.answers for s in self.steps(form))

    def after_answer(self, form: Form) -> None:
        """The mode once the current question has its answer."""
        if self.mode == Mode.EDIT_FIELD:
            self.edit = None
            self.mode = Mode.FIELDS if self.pending(form) else Mode.CONFIRM
        elif self.current(form) is None:
            self.mode = Mode.CONFIRM

    def back_to_fields(self) -> None:
        if self.mode in (Mode.CONFIRM, Mode.EDIT_PICK, Mode.EDIT_FIELD):
            self.mode, self.edit = Mode.FIELDS, None

    def subject(self, form: Form) -> str:
        """What the report is about when a commune sends several per period (an OCOP product)."""
        if not form.subject_field:
            return ""
        return str(self.answers.get(form.subject_field, ""))
