"""Which unit's duty a question describes in its own words ("ai mời Sở Xây dựng thẩm định",
"bên nào đôn đốc nhà thầu làm nhanh đường giao thông").

Each duty's words (its text, or for an appraisal whom it invites and what it proves) are
weighed by how rare they are among the duties searched: words every candidate shares ("lập hồ
sơ", "thẩm định") say little, the ones only one unit's duty has ("Sở Xây dựng") decide.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.models import Duty
from knowledge.normalize import fold_bulk, tokenize

MIN_SHARE = 0.6  # of the question's (weighted) words a duty must have to be the one meant
MARGIN = 1.25  # … and this much more than the best duty of another unit
MIN_WORDS = 2  # … and hold at least two of its words


@dataclass(frozen=True)
class DutyHit:
    unit: str
    duty: Duty
    share: float


class DutySearch:
    def __init__(self, kb: KnowledgeBase) -> None:
        self._entries: list[tuple[str, Duty, frozenset[str]]] = []
        for unit in kb.units:
            for duty in unit.duties:
                texts = (duty.text, duty.provincial_body, duty.subject, *duty.keywords)
                texts_en = (duty.text_en, duty.provincial_body_en, duty.subject_en)
                text = ". ".join(t for t in (*texts, *texts_en) if t)
                if duty.kind == "appraisal":
                    text += ". Lập hồ sơ, mời thẩm tra, thẩm định, văn bản đánh giá đạt"
                self._entries.append((unit.key, duty, _features(tokenize(fold_bulk(text)))))

    def find(
        self,
        content: list[str],
        phrase: list[str],
        units: set[str] | None = None,
        *,
        strict: bool = True,
    ) -> DutyHit | None:
        """The one duty (of ``units``, or of every unit) the question's words describe, if one
        stands out; ``None`` when none does or two units' duties fit alike.

        ``content``: the question's content words (a word no duty has counts against);
        ``phrase``: its words in order, whose pairs ("sở xây", "nhà thầu") tell more.
        Not ``strict`` (choosing among the units a topic already named): words none of their
        duties has are left out rather than counted against."""
        entries = [e for e in self._entries if units is None or e[0] in units]
        known = frozenset().union(*(e[2] for e in entries)) if entries else frozenset()
        pairs = {f"{x} {y}" for x, y in itertools.pairwise(phrase)} & known
        words_asked = set(content) if strict else set(content) & known
        if not entries or not words_asked:
            return None  # pairs alone ("phụ trách") describe no task
        asked = words_asked | pairs
        frequency = Counter(t for e in entries for t in e[2] & asked)
        weight = {t: math.log(1 + len(entries) / frequency.get(t, 0.5)) for t in asked}
        total = sum(weight.values())
        scored = sorted(
            (
                (sum(weight[t] for t in asked & tokens) / total, unit, duty)
                for unit, duty, tokens in entries
            ),
            key=lambda s: -s[0],
        )
        share, unit, duty = scored[0]
        if share < MIN_SHARE:
            return None
        tokens = next(t for u, d, t in entries if d is duty and u == unit)
        if strict and len(words_asked & tokens) < MIN_WORDS:
            return None  # one shared word ("lương" in "chất lượng") describes no task
        rival = next((s for s, u, _ in scored[1:] if u != unit), 0.0)
        if rival * MARGIN > share:
            return None
        return DutyHit(unit, duty, share)


def _features(tokens: list[str]) -> frozenset[str]:
    """Words and pairs of neighbouring words."""
    return frozenset(tokens) | {f"{x} {y}" for x, y in itertools.pairwise(tokens)}
