"""Each dialog declares its stored state once: a pydantic model whose ``kind`` names the dialog
and whose steps are a ``StrEnum`` (aiogram's ``StatesGroup``, aiogram_dialog's ``states.py``).

The state is stored as JSON in the ``dialogs`` table with the update's other writes, so a
restart loses nothing; read back it is validated, and a stored state that no longer validates
(damaged, or written by a version that had other steps) reads as no dialog at all — the
dialog then ends like an expired one, never with a crash.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError


class DialogState(BaseModel):
    """Base of every dialog's state; a subclass sets ``kind`` (the ``dialogs.kind`` value)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)
    kind: ClassVar[str]

    @classmethod
    def load(cls, kind: str | None, stored: dict[str, Any]) -> Self | None:
        """The state of an open dialog of ``kind``, or ``None`` if it is another dialog's
        or does not validate."""
        if kind != cls.kind:
            return None
        try:
            return cls.model_validate(stored)
        except ValidationError:
            return None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
