"""What channels hand to the conversation core and what it hands back.

Channels turn their platform's update into an :class:`Incoming` and render each
:class:`Reply`: Telegram as HTML with inline keyboards, Zalo OA with template buttons, Zalo Bot
API and the terminal as numbered options. ``Choice.action`` is a short opaque string (≤ 64
bytes, it travels in Telegram's ``callback_data``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.actions import MAX_ACTION_BYTES
from handlers.richtext import Doc


@dataclass(frozen=True)
class Choice:
    label: str  # fits a button
    action: str
    full: str | None = None  # the whole label, for channels that list choices as text
    # Kept with the menu, never sent: what the action needs that does not fit in it
    # ("xem thêm": the question whose answer goes on).
    memo: str | None = None

    def __post_init__(self) -> None:
        if len(self.action.encode("utf-8")) > MAX_ACTION_BYTES:
            raise ValueError(f"choice action longer than {MAX_ACTION_BYTES} bytes: {self.action}")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str
    caption: str | None = None


@dataclass
class Reply:
    doc: Doc
    choices: list[list[Choice]] = field(default_factory=list)
    photo: Attachment | None = None
    document: Attachment | None = None
    edit: bool = False  # replace the message the choice came from, where the channel can
    # Let the platform fetch the links in it to draw a preview (off for one-time links: the
    # fetch would be the link's one use).
    preview: bool = True
    # The doc already shows every choice under the number it is answered with (a numbered
    # list of tasks): channels without buttons do not list the choices a second time.
    listed: bool = False
    # It asks for photos or files: a channel that cannot take them (the terminal) says how
    # to send one there.
    wants_files: bool = False

    @property
    def text(self) -> str:
        return self.doc.plain()

    def flat_choices(self) -> list[Choice]:
        return [c for row in self.choices for c in row]


@dataclass(frozen=True)
class Upload:
    """A file the user sent, as the channel took it in (:mod:`bot.uploads`): checked and kept
    (``media_id``), or refused with the reason (a :class:`storage.photo_check.Reason` value,
    or ``"unavailable"`` when it could not be fetched from the platform)."""

    media_id: int | None = None
    refused: str | None = None
    name: str = ""


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, tapped a choice, sent files, or something else."""

    channel: str
    user_id: str
    chat_id: str
    text: str | None = None
    action: str | None = None
    update_key: str | None = None
    display_name: str | None = None
    is_group: bool = False
    kind: str = "text"  # text | action | sticker | photo | other
    files: tuple[Upload, ...] = ()  # photos or documents sent (kind ``photo``)


_OWN_NUMBER = re.compile(r"(\d{1,3})\.\s")


def choice_numbers(labels: Sequence[str]) -> list[int]:
    """The number each choice is shown and answered with on a channel without buttons.

    Choices that carry their own number ("15. Hoàn thiện hồ sơ…", a list where done items have
    no button) keep it, so the number read is the number typed; the others take the numbers
    left, from 1. Two labels with the same number: positions for all.
    """
    own = [int(m[1]) if (m := _OWN_NUMBER.match(label)) else None for label in labels]
    taken = [n for n in own if n is not None]
    if len(taken) != len(set(taken)):
        return list(range(1, len(labels) + 1))
    used = set(taken)
    numbers: list[int] = []
    free = 1
    for n in own:
        if n is None:
            while free in used:
                free += 1
            n = free
            used.add(n)
        numbers.append(n)
    return numbers
