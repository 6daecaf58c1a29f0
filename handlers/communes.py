"""Finding a commune from what someone typed: no diacritics, typos, "xã"/"thị trấn" prefixes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Set
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from handlers.types import Choice
from knowledge.engine import QueryEngine
from knowledge.normalize import fold
from storage.communes import Commune

if TYPE_CHECKING:
    from handlers.core import Context

_PREFIXES = ("xa ", "thi tran ", "tt ", "phuong ", "commune ")


def _bare(text: str) -> str:
    folded = " ".join(fold(text).split())
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


def find_commune(text: str, communes: list[Commune]) -> tuple[Commune | None, list[Commune]]:
    """``(exact match, close candidates best first)``; exact only when unambiguous."""
    wanted = _bare(text)
    if not wanted:
        return None, []
    by_name = {c.id: _bare(c.name) for c in communes}
    exact = [
        c for c in communes if by_name[c.id] == wanted or fold(c.code) == wanted.replace(" ", "-")
    ]
    if len(exact) == 1:
        return exact[0], []
    found = process.extract(wanted, by_name, scorer=fuzz.ratio, score_cutoff=70, limit=5)
    ranked = [next(c for c in communes if c.id == key) for _, _, key in found]
    return None, ranked


def find_unit(engine: QueryEngine, text: str, today: dt.date, among: Set[str]) -> str | None:
    """The one district unit (of ``among``) the words name, matched as questions are:
    without diacritics, abbreviations, typos; ``None`` when none or several."""
    found = [u for u in engine.analyze(text, today).units if u in among]
    return found[0] if len(found) == 1 else None


def commune_rows(communes: list[Commune], action: Callable[[Commune], str]) -> list[list[Choice]]:
    """Every commune as a button, three to a row."""
    return [
        [Choice(c.name, action(c)) for c in communes[i : i + 3]] for i in range(0, len(communes), 3)
    ]


def pick_commune(
    ctx: Context, typed: str, communes: list[Commune], action: Callable[[Commune], str]
) -> Commune | None:
    """The commune ``typed`` names (one close match counts); otherwise the close ones offered
    as buttons, or "not found" said, and ``None``."""
    exact, candidates = find_commune(typed, communes)
    if exact is None and len(candidates) == 1:
        exact = candidates[0]
    if exact is not None:
        return exact
    _ = ctx.tr
    if candidates:
        ctx.reply(_("Ý bạn là xã nào?"), [[Choice(c.name, action(c))] for c in candidates])
    else:
        ctx.reply(_("Không tìm thấy xã “{name}”.", name=typed.strip()[:40]))
    return None
