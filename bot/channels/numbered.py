"""Choices as numbered text, for the channels without buttons (the terminal, Zalo's text)."""

from __future__ import annotations

from handlers.types import Reply, choice_numbers


def numbered_choices(reply: Reply) -> list[str]:
    """``1. Đạt`` lines: the user answers with the number or the words (the core matches both).

    A label that starts with its own number ("1. Quy hoạch") is not numbered twice, and a label
    shortened for a button is written in full. None when the reply's text already lists them
    under their numbers (``Reply.listed``): one list on the screen, not two.
    """
    if reply.listed:
        return []
    labels = [choice.full or choice.label for choice in reply.flat_choices()]
    return [
        f"{number}. {label.removeprefix(f'{number}. ')}"
        for number, label in zip(choice_numbers(labels), labels, strict=True)
    ]
