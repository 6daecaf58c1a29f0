"""Tolerant matching of folded tokens: spelling correction and weighted phrase matching.

* :class:`Speller` maps a token it does not know to the closest vocabulary token (optimal
  string alignment distance 1, or 2 for words of 8+ letters; ties go to the more frequent word) and
  splits run-together words ("phutrach" → "phu trach").
* :class:`PhraseIndex` scores topics by the query tokens their phrases explain. A phrase
  matches when all its meaningful tokens occur in the question (any order); each question token
  counts once per topic, weighted by how rare it is among topics (IDF).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.normalize import Typed, accent_agrees, is_syllable

Phrase = tuple[str, ...]


class Speller:
    def __init__(
        self,
        vocabulary: Counter[str],
        protected: Iterable[str] = (),
        bigrams: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.frequency = vocabulary
        self.known = set(vocabulary) | set(protected)
        self.bigrams = set(bigrams)
        self._choices = [w for w, _ in vocabulary.most_common() if w.isalpha() and len(w) >= 2]
        self._candidates = lru_cache(maxsize=16384)(self._find_candidates)

    def correct(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        for token in tokens:
            out.extend(self.correct_token(token, out[-1] if out else None))
        return out

    def correct_token(self, token: str, previous: str | None = None) -> tuple[str, ...]:
        if token in self.known or not token.isalpha() or len(token) < 4:
            return (token,)
        candidates = self._candidates(token)
        if candidates and is_syllable(token):
            # a word of the language may be what was meant ("riêng" is no slip for "giếng"):
            # changed only where the word before makes a known phrase of the change ("phụ trác")
            candidates = tuple(w for w in candidates if (previous, w) in self.bigrams)
            if not candidates:
                return (token,)
        if candidates:
            # Equally close words: one that follows the previous word in a known phrase, then
            # one with the same first letter, then the most frequent.
            best = max(
                candidates,
                key=lambda w: (
                    (previous, w) in self.bigrams,
                    w[0] == token[0],
                    self.frequency[w],
                ),
            )
            return (best,)
        split = self._split(token)
        return split if split else (token,)

    def _find_candidates(self, token: str) -> tuple[str, ...]:
        limit = 1 if len(token) <= 7 else 2
        found = process.extract(
            token, self._choices, scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        if not found:
            return ()
        closest = min(distance for _, distance, _ in found)
        return tuple(word for word, distance, _ in found if distance == closest)

    def _split(self, token: str) -> tuple[str, ...] | None:
        """Fewest known words that concatenate to ``token`` (each at least 2 letters)."""
        best: list[tuple[str, ...] | None] = [None] * (len(token) + 1)
        best[0] = ()
        for end in range(2, len(token) + 1):
            for start in range(max(0, end - 8), end - 1):
                head = best[start]
                piece = token[start:end]
                if head is not None and piece in self.known:
                    candidate = (*head, piece)
                    current = best[end]
                    if current is None or len(candidate) < len(current):
                        best[end] = candidate
        result = best[len(token)]
        return result if result and len(result) > 1 else None


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    score: float
    positions: frozenset[int]
    contiguous: bool


@dataclass(frozen=True)
class Entry:
    """A phrase of a topic, with how the plan spells each of its words (``None`` where the
    token came from an abbreviation). Folding makes different words collide ("chợ"/"cho",
    "điện"/"diện", "phổ"/"phở"): a word the user typed with diacritics matches only the same
    accented word."""

    tokens: Phrase
    spelled: tuple[str | None, ...] | None = None

    def agrees(self, typed: Typed | None) -> bool:
        if typed is None or self.spelled is None:
            return True
        return all(
            accent_agrees(token, spelled, typed)
            for token, spelled in zip(self.tokens, self.spelled, strict=False)
        )


SINGLE_WORD_FACTOR = 0.6  # a topic explained only by one-word phrases is less certain
SCATTERED_FACTOR = 0.75  # a phrase whose words are all there, but not in its order


class PhraseIndex:
    """Topics (ids) with phrases; :meth:`match` scores topics against a tokenised question."""

    def __init__(self, stop_tokens: Iterable[str] = ()) -> None:
        self.stop = frozenset(stop_tokens)
        self._entries: dict[str, set[Entry]] = defaultdict(set)
        self.weight: dict[str, float] = {}
        self._by_token: dict[str, list[tuple[str, Entry]]] = {}

    def add(self, topic: str, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if any(t not in self.stop for t in entry.tokens):
                self._entries[topic].add(entry)

    def build(self) -> None:
        """Compute token weights and the token → phrases index; call after the last add."""
        document_frequency: Counter[str] = Counter()
        for entries in self._entries.values():
            document_frequency.update({t for e in entries for t in e.tokens})
        topics = len(self._entries) or 1
        self.weight = {
            token: 0.0 if token in self.stop else math.log((topics + 1) / (df + 0.5))
            for token, df in document_frequency.items()
        }
        by_token: dict[str, list[tuple[str, Entry]]] = defaultdict(list)
        for topic, entries in self._entries.items():
            for entry in entries:
                key = max(entry.tokens, key=lambda t: self.weight.get(t, 0.0))
                by_token[key].append((topic, entry))
        self._by_token = dict(by_token)

    def vocabulary(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for entries in self._entries.values():
            for entry in entries:
                counts.update(entry.tokens)
        return counts

    def topics(self) -> list[str]:
        return list(self._entries)

    def entries(self, topic: str) -> set[Entry]:
        return self._entries.get(topic, set())

    def match(
        self,
        tokens: list[str],
        exclude: Iterable[int] = (),
        typed: Typed | None = None,
    ) -> list[TopicMatch]:
        """Topics whose phrases match, best first.

        ``typed``: how the question spelled its words (:func:`~knowledge.normalize.typed_forms`);
        a phrase whose word the user typed with other diacritics does not match.
        """
        excluded = set(exclude)
        positions: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(tokens):
            if i not in excluded:
                positions[token].append(i)
        ordered: dict[str, set[int]] = defaultdict(set)
        scattered: dict[str, set[int]] = defaultdict(set)
        single: dict[str, set[int]] = defaultdict(set)
        for token in positions:
            for topic, entry in self._by_token.get(token, ()):
                phrase = entry.tokens
                if not all(t in positions for t in phrase if t not in self.stop):
                    continue
                if not entry.agrees(typed):
                    continue
                if len(phrase) == 1:
                    single[topic].update(positions[phrase[0]])
                    continue
                spots = {i for t in phrase for i in positions.get(t, ())}
                if _in_order(tokens, phrase, excluded):
                    ordered[topic].update(spots)
                elif len(phrase) == 2 and _in_order(tokens, phrase[::-1], excluded):
                    continue  # two words the other way round are another word: "làm việc"
                else:
                    scattered[topic].update(spots)
        results: list[TopicMatch] = []
        for topic in set(ordered) | set(scattered) | set(single):
            strong = ordered.get(topic, set())
            loose = scattered.get(topic, set()) - strong
            weak = single.get(topic, set()) - strong - loose
            score = self._weight(tokens, strong)
            score += SCATTERED_FACTOR * self._weight(tokens, loose)
            score += SINGLE_WORD_FACTOR * self._weight(tokens, weak)
            if score > 0:
                covered = frozenset(strong | loose | weak)
                results.append(TopicMatch(topic, score, covered, bool(strong)))
        results.sort(key=lambda r: (-r.score, not r.contiguous, r.topic))
        return results

    def _weight(self, tokens: list[str], spots: set[int]) -> float:
        return sum(self.weight.get(tokens[i], 0.0) for i in spots)


def _in_order(tokens: list[str], phrase: Phrase, excluded: set[int]) -> bool:
    n = len(phrase)
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i : i + n]) == phrase and not excluded.intersection(range(i, i + n)):
            return True
    return False
