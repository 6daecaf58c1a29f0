"""The lexicon (``knowledge/lexicon.yaml``): abbreviations, intent cues, language markers.

Everything is folded at load so that matching compares folded tokens only.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from knowledge.errors import KnowledgeError
from knowledge.normalize import clean, modern_tones, words
from knowledge.yamlfile import describe, read_yaml


class _Bilingual(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: list[str]
    en: list[str]


class _Cues(BaseModel):
    model_config = ConfigDict(extra="forbid")
    help: _Bilingual
    task: _Bilingual
    list: _Bilingual
    list_units: _Bilingual
    list_communes: _Bilingual
    owner: _Bilingual
    duties: _Bilingual
    deadline: _Bilingual
    calendar: _Bilingual
    fact: _Bilingual
    overdue: _Bilingual
    legal: _Bilingual
    basis: _Bilingual
    recipients: _Bilingual
    figure: _Bilingual


INTENT_CUES: tuple[str, ...] = tuple(_Cues.model_fields)


class _OtherSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    name_en: str
    phrases: list[str]
    unless_followed_by: list[str] = []


class _CitizenMatters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: list[str] = []
    vi_marked: list[str] = []  # only as written with their marks
    en: list[str] = []


class _Framing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    askers: list[str] = []
    actions: list[str] = []
    trouble: list[str] = []
    asides: list[str] = []
    affected: list[str] = []  # whom a case is about ("mấy đứa nhỏ", "bà con"): never its subject


class _LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    abbreviations: dict[str, str]
    cues: _Cues
    english_stopwords: list[str]
    english_markers: list[str]
    known_words: list[str]
    question_words: list[str]
    other_sets: list[_OtherSet] = []
    citizen_matters: _CitizenMatters = _CitizenMatters()
    framing: _Framing = _Framing()


@dataclass(frozen=True)
class OtherSet:
    """A criteria set or programme other than the plan's ("NTM nâng cao")."""

    name: str
    name_en: str
    phrases: tuple[tuple[str, ...], ...]  # folded, abbreviations expanded
    unless_followed_by: tuple[tuple[str, ...], ...]


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class CitizenMatter:
    """A phrase of a person's own matter ("thẻ bị mất", "lệ phí")."""

    folded: Phrase  # short forms spelled out
    spelled: Phrase  # as written in the lexicon: lowercase, accents kept (empty: not comparable)
    marked_only: bool  # counts only where the question writes it with its marks


@dataclass(frozen=True)
class Lexicon:
    abbreviations: dict[str, Phrase]
    cues: dict[str, tuple[Phrase, ...]]
    english_stopwords: frozenset[str]
    english_markers: frozenset[str]
    known_words: frozenset[str]
    question_words: frozenset[str] = frozenset()
    question_words_spelled: frozenset[str] = frozenset()  # as written, accents kept
    other_sets: tuple[OtherSet, ...] = ()
    # a person's own matters, which the plan never answers
    citizen_matters: tuple[CitizenMatter, ...] = ()
    # words that frame a question (who asks, what is done to a topic), folded
    framing: tuple[Phrase, ...] = ()

    def expand(self, tokens: list[str]) -> list[str]:
        """Replace abbreviation tokens by the words they stand for."""
        out: list[str] = []
        for token in tokens:
            out.extend(self.abbreviations.get(token, (token,)))
        return out


def load_lexicon(path: Path | None = None) -> Lexicon:
    source = path or Path(str(resources.files("knowledge").joinpath("lexicon.yaml")))
    try:
        raw = _LexiconFile.model_validate(read_yaml(source))
    except ValidationError as exc:
        raise KnowledgeError(describe(source, exc)) from None
    cues: dict[str, tuple[Phrase, ...]] = {}
    for name in INTENT_CUES:
        entry: _Bilingual = getattr(raw.cues, name)
        phrases = {tuple(words(p)) for p in [*entry.vi, *entry.en]}
        # Longest first, so that "phụ trách gì" is tried before "phụ trách".
        cues[name] = tuple(sorted((p for p in phrases if p), key=len, reverse=True))
    abbreviations = {"".join(words(k)): tuple(words(v)) for k, v in raw.abbreviations.items()}

    def expanded(text: str) -> tuple[str, ...]:
        return tuple(p for w in words(text) for p in abbreviations.get(w, (w,)))

    other_sets = tuple(
        OtherSet(
            entry.name,
            entry.name_en,
            tuple(sorted({expanded(p) for p in entry.phrases}, key=len, reverse=True)),
            tuple(expanded(p) for p in entry.unless_followed_by),
        )
        for entry in raw.other_sets
    )
    return Lexicon(
        abbreviations=abbreviations,
        cues=cues,
        english_stopwords=frozenset(w for s in raw.english_stopwords for w in words(s)),
        english_markers=frozenset(w for s in raw.english_markers for w in words(s)),
        known_words=frozenset(w for s in raw.known_words for w in words(s)),
        question_words=frozenset(w for s in raw.question_words for w in words(s)),
        question_words_spelled=frozenset(s.lower() for s in raw.question_words),
        other_sets=other_sets,
        citizen_matters=tuple(
            CitizenMatter(expanded(p), _spelled(p), marked_only)
            for phrases, marked_only in (
                (raw.citizen_matters.vi, False),
                (raw.citizen_matters.en, False),
                (raw.citizen_matters.vi_marked, True),
            )
            for p in phrases
            if expanded(p)
        ),
        framing=tuple(
            expanded(p)
            for p in [
                *raw.framing.askers,
                *raw.framing.actions,
                *raw.framing.trouble,
                *raw.framing.asides,
                *raw.framing.affected,
            ]
            if expanded(p)
        ),
    )


def _spelled(phrase: str) -> Phrase:
    """A phrase's words as written, lowercase, today's tone placement (empty when they do not
    line up one to one with its folded words: nothing to compare then)."""
    written = tuple(modern_tones(w) for w in clean(phrase).lower().split())
    return written if len(written) == len(words(phrase)) else ()
