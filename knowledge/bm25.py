"""BM25 Okapi over an inverted index, in plain Python.

The scores are rank-bm25's ``BM25Okapi`` (the ATIRE idf, floored at ``epsilon`` × the mean
idf for terms in more than half the passages), which tests/test_bm25.py checks against it.
That package (and bm25s) imports numpy: ~9 MB of the bot's memory for a few hundred
passages, where walking each query term's postings is as fast (bench/README.md).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


class BM25Okapi:
    def __init__(
        self,
        corpus: Sequence[Sequence[str]],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ) -> None:
        if not corpus:
            raise ValueError("BM25 needs at least one passage")
        self.size = len(corpus)
        lengths = [len(doc) for doc in corpus]
        average = sum(lengths) / self.size
        # per passage, the length part of the denominator: k1 * (1 - b + b * len / avg)
        self._norm = [k1 * (1 - b + b * n / average) if average else k1 for n in lengths]
        self._k1 = k1
        self._postings: dict[str, list[tuple[int, int]]] = {}
        for index, doc in enumerate(corpus):
            for term, count in Counter(doc).items():
                self._postings.setdefault(term, []).append((index, count))
        idf = {
            term: math.log(self.size - len(found) + 0.5) - math.log(len(found) + 0.5)
            for term, found in self._postings.items()
        }
        floor = epsilon * (sum(idf.values()) / len(idf)) if idf else 0.0
        self.idf = {term: value if value >= 0 else floor for term, value in idf.items()}

    def get_scores(self, query: Sequence[str]) -> list[float]:
        """One score per passage, in corpus order (a repeated query term counts again)."""
        scores = [0.0] * self.size
        for term in query:
            weight = self.idf.get(term)
            if not weight:
                continue
            for index, count in self._postings[term]:
                scores[index] += weight * count * (self._k1 + 1) / (count + self._norm[index])
        return scores
