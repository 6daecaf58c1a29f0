"""Finding a commune from what someone typed: no diacritics, typos, "xã"/"thị trấn" prefixes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Set

from rapidfuzz import fuzz, process

from knowledge.engine import QueryEngine
from knowledge.normalize import fold
from storage.communes import Commune

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
