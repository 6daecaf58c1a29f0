"""Choices as numbered text, for the channels without buttons (the terminal, Zalo's text)."""

from __future__ import annotations

from handlers.types import Reply


def numbered_choices(reply: Reply) -> list[str]:
    """``1. Đạt`` lines: the user answers with the number or the words (the core matches both).

    A label that starts with its own number ("1. Quy hoạch") is not numbered twice, and a label
    shortened for a button is written in full.
    """
    lines = []
    for number, choice in enumerate(reply.flat_choices(), start=1):
        label = (choice.full or choice.label).removeprefix(f"{number}. ")
        lines.append(f"{number}. {label}")
    return lines
