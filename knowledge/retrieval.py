"""The last resort before "not found": the passage of the plan's own text that answers.

Passages (:mod:`knowledge.passages`) are ranked with BM25 (:mod:`knowledge.bm25`) over folded,
abbreviation-expanded tokens of the passage and its context (section heading, the bullet it
belongs to). A passage is offered only when it explains most of the question: the words of the
question that carry a topic (not "ai", "gì", "là"), weighted by how rare they are in the plan,
must mostly occur in it, spelled as the user typed them when they typed diacritics. Otherwise
the engine says it does not know rather than quote something unrelated.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass

from knowledge.bm25 import BM25Okapi
from knowledge.lexicon import Lexicon
from knowledge.normalize import Typed, accent_agrees, typed_forms, words
from knowledge.passages import Passage

MIN_COVERAGE = 0.7  # share of the question's (rarity-weighted) topic words a passage must have
MIN_PAIRS = 0.5  # share of the question's two-syllable words ("tỷ giá") found as such
SECOND_WITHIN = 0.85  # a second passage is quoted too when it ranks this close to the first


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    coverage: float
    matched: frozenset[str]


class PlanSearch:
    def __init__(self, passages: list[Passage], lexicon: Lexicon) -> None:
        self.passages = passages
        self.stop = lexicon.question_words
        documents: list[list[str]] = []
        self._spelling: list[Typed] = []
        shared: dict[frozenset[str], frozenset[str]] = {}  # most spellings recur: one copy each
        for passage in passages:
            text = f"{passage.context} {passage.text}"
            documents.append(lexicon.expand(words(text)) or ["_"])
            forms = typed_forms(text)
            self._spelling.append({t: shared.setdefault(f, f) for t, f in forms.items()})
        self._tokens = [set(d) for d in documents]
        # Vietnamese words are often two syllables: "tỷ giá" is not "tỷ lệ" + "đánh giá".
        self._pairs = [set(itertools.pairwise(d)) for d in documents]
        frequency: Counter[str] = Counter(t for tokens in self._tokens for t in tokens)
        total = len(passages) or 1
        self._rarity = {t: math.log((total + 1) / (df + 0.5)) for t, df in frequency.items()}
        self._unknown_rarity = math.log((total + 1) / 0.5)
        self.vocabulary = frozenset(frequency)
        self._documents = documents
        self._bm25 = BM25Okapi(self._documents) if self._documents else None

    def search(
        self,
        tokens: list[str],
        typed: Typed | None,
        topic: list[str] | None = None,
        limit: int = 2,
        keep: frozenset[str] = frozenset(),
        sections: frozenset[str] | None = None,
    ) -> list[Hit]:
        """The passages that answer ``tokens`` (analysed question tokens), best first.

        ``topic``: the tokens that say what the question is about (not "ai phụ trách", "hạn");
        a question with none of them ("ai phụ trách?") is not looked up. ``keep``: tokens
        spelled like question words but typed as others ("trật tự" is not "từ").
        ``sections``: only passages of these sections (the communes' part of a plan).
        """

        def content(token: str) -> bool:
            return (token not in self.stop or token in keep) and not token.isdigit()

        query = [t for t in dict.fromkeys(tokens) if content(t)]
        if not any(content(t) for t in (tokens if topic is None else topic)):
            return []
        if not query or not self._documents:
            return []
        assert self._bm25 is not None
        pairs = {(a, b) for a, b in itertools.pairwise(tokens) if content(a) and content(b)}
        scores = self._bm25.get_scores(query)
        weight = {t: self._rarity.get(t, self._unknown_rarity) for t in query}
        total = sum(weight.values())
        hits: list[Hit] = []
        candidates: list[int] | range = range(len(scores))
        if sections is not None:
            candidates = [i for i in candidates if self.passages[i].section in sections]
        for index in sorted(candidates, key=lambda i: -scores[i])[:10]:
            if scores[index] <= 0:
                break
            matched = frozenset(
                t
                for t in query
                if t in self._tokens[index] and _agrees(t, self._spelling[index], typed)
            )
            coverage = sum(weight[t] for t in matched) / total
            enough = len(matched) >= 2 or len(query) == 1
            if pairs:
                found = len(pairs & self._pairs[index]) / len(pairs)
                enough = enough and found >= MIN_PAIRS
            if coverage >= MIN_COVERAGE and enough:
                hits.append(Hit(self.passages[index], float(scores[index]), coverage, matched))
        hits.sort(key=lambda h: (-h.coverage, -h.score))
        if not hits:
            return []
        best = hits[0]
        chosen = [best]
        for hit in hits[1:limit]:
            if hit.coverage >= best.coverage and hit.score >= SECOND_WITHIN * best.score:
                chosen.append(hit)
        return chosen


def _agrees(token: str, spelling: Typed, typed: Typed | None) -> bool:
    """The user's accented spelling of ``token`` occurs in the passage (or was not given)."""
    forms = spelling.get(token)
    if not forms:
        return True
    return any(accent_agrees(token, form, typed) for form in forms)
