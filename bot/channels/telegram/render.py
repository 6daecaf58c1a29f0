"""Replies as Telegram messages: HTML with every value escaped, split under 4096 characters,
choices as an inline keyboard on the last piece."""

from __future__ import annotations

import re
from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.channels.telegram.callbacks import Act
from handlers.richtext import render_html
from handlers.types import Choice, Reply

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_TEXT_LIMIT = 64


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def html_chunks(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The reply's text as HTML pieces that each fit one message.

    Telegram counts the text after entity parsing, in UTF-16 code units. The rendered HTML is
    never shorter than that text, but a character outside the BMP counts twice in UTF-16: a
    piece passes if its HTML length plus one per such character fits, otherwise the reply is
    cut again with a smaller limit.
    """
    budget = limit
    while True:
        chunks = [c for c in reply.doc.chunks(budget, render_html) if c.strip()]
        worst = max((len(c) + len(_ASTRAL.findall(c)) for c in chunks), default=0)
        if worst <= limit or budget <= 256:
            return chunks
        budget = max(256, budget - (worst - limit) - 16)


def keyboard(choices: list[list[Choice]]) -> InlineKeyboardMarkup | None:
    """Choices as an inline keyboard, one keyboard row per choice row."""
    rows = tuple(tuple((c.label, c.action) for c in row) for row in choices if row)
    return _keyboard(rows) if rows else None


@lru_cache(maxsize=512)
def _keyboard(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    """Built once per set of buttons: the same menus ("Xem thêm (2/3)", a form's options) are
    sent over and over; a markup is only read when a message is serialised, never changed,
    so one instance serves every send."""
    builder = InlineKeyboardBuilder()
    for row in rows:
        builder.row(
            *(
                InlineKeyboardButton(text=_label(label), callback_data=Act(v=action).pack())
                for label, action in row
            )
        )
    return builder.as_markup()


def _label(text: str) -> str:
    text = " ".join(text.split()) or "•"
    return text if len(text) <= BUTTON_TEXT_LIMIT else text[: BUTTON_TEXT_LIMIT - 1] + "…"
