"""``callback_data`` for choice buttons: one aiogram CallbackData factory, ≤ 64 bytes."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class Act(CallbackData, prefix="a", sep="|"):
    """A core action (e.g. ``crit:xa:17.4``); ``|`` never occurs in actions."""

    v: str
