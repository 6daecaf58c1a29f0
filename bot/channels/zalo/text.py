"""Replies as Zalo text: plain, at most 2,000 characters a message, choices as numbered lines."""

from __future__ import annotations

from bot.channels.numbered import numbered_choices
from handlers.types import Reply

TEXT_LIMIT = 2000
# Zalo cannot receive uploads; without a public address for links, files stay on Telegram.
NO_FILES = "(Tệp “{name}” không gửi được qua Zalo. Xin mở bot trên Telegram để nhận tệp.)"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at a line end, else a space, else anywhere."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def text_with_numbered_choices(reply: Reply, limit: int = TEXT_LIMIT) -> list[str]:
    body = reply.text.strip()
    options = "\n".join(numbered_choices(reply))
    if not options:
        return split_text(body, limit)
    pieces = split_text(body, limit)
    if pieces and len(pieces[-1]) + 2 + len(options) <= limit:
        pieces[-1] = f"{pieces[-1]}\n\n{options}"
        return pieces
    return pieces + split_text(options, limit)
