"""Vietnamese text normalisation: NFC, case, diacritic folding (``đ``→``d``), tokens.

``fold("Tiêu chí 17,4 — Phòng KT&HT")`` gives ``"tieu chi 17.4 - phong kt&ht"`` and
:func:`tokenize` turns it into ``["tieu", "chi", "17.4", "phong", "ktht"]``: a decimal comma
becomes a point, and letters joined by ``&`` or ``-`` (abbreviations such as NN&PTNT, TN-MT)
become one token.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MAX_CHARS = 2000  # longer messages are read up to here: no question about the plan is longer

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\ufeff]")
_DASHES = str.maketrans({"–": "-", "—": "-", "−": "-", "‐": "-", "“": '"', "”": '"', "’": "'"})
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_JOINED_ABBR = re.compile(r"(?<=[a-z])[&-](?=[a-z])")
# Letters and digits are separate tokens: "tc17.4" is "tc" "17.4", "thpt2" is "thpt" "2".
_TOKEN = re.compile(r"\d+(?:[./]\d+)*%?|[a-z]+")


def clean(text: str) -> str:
    """NFC, no control or zero-width characters, unified dashes and quotes, single spaces."""
    text = unicodedata.normalize("NFC", text[: MAX_CHARS * 2])
    text = _CONTROL.sub(" ", text).translate(_DASHES)
    return " ".join(text.split())[:MAX_CHARS].rstrip()


@lru_cache(maxsize=8192)
def fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).lower()


def fold(text: str) -> str:
    """Lowercase, without diacritics; ``đ`` becomes ``d``."""
    # A word of combining marks alone (a stray variation selector) folds to nothing: drop it.
    return " ".join(folded for w in clean(text).split(" ") if w and (folded := fold_word(w)))


def fold_bulk(text: str) -> str:
    """:func:`fold` for a long text read once (the plan's whole text at start): the same
    result, without filling the per-word cache that questions use."""
    decomposed = unicodedata.normalize("NFD", clean(text).replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(unicodedata.normalize("NFC", stripped).lower().split())


def has_diacritics(text: str) -> bool:
    return any(ord(ch) > 127 and fold_word(ch) != ch.lower() for ch in text)


def tokenize(folded: str) -> list[str]:
    """Tokens of folded text: words, numbers (``17.4``, ``30/9/2021``, ``85%``)."""
    text = _DECIMAL_COMMA.sub(".", folded)
    text = _JOINED_ABBR.sub("", text)
    return _TOKEN.findall(text)


def words(text: str) -> list[str]:
    """``tokenize(fold(text))``."""
    return tokenize(fold(text))


Typed = dict[str, frozenset[str]]
_WORD = re.compile(r"\w+")


_OLD_TONE = re.compile(r"(?<![qQ])([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])$")


_TONED_END = frozenset("áàảãạéèẻẽẹýỳỷỹỵÁÀẢÃẠÉÈẺẼẸÝỲỶỸỴ")


def modern_tones(word: str) -> str:
    """The tone mark where today's spelling puts it: "hoá" → "hóa", "thuỷ" → "thủy" (the
    plan writes "Thanh Hóa"; people type both)."""
    if len(word) < 2 or word[-1] not in _TONED_END or word[-2] not in "oOuU":
        return word  # (nearly every word: no work, nothing kept)
    decomposed = unicodedata.normalize("NFD", word)
    moved = _OLD_TONE.sub(r"\1\3\2", decomposed)
    return word if moved == decomposed else unicodedata.normalize("NFC", moved)


def typed_forms(text: str) -> Typed:
    """Each folded word of ``text`` → the ways it was written (lowercase, accents kept).

    Folding makes different words collide ("phở"/"phổ", "chợ"/"cho", "mới"/"mỗi"); what the
    user typed tells them apart, unless they typed without diacritics.
    """
    forms: dict[str, set[str]] = {}
    for word in _WORD.findall(clean(text).lower()):
        for token in tokenize(fold_word(word)):
            spelled = modern_tones(word) if token == fold_word(word) else token
            forms.setdefault(token, set()).add(spelled)
    return {token: frozenset(words) for token, words in forms.items()}


def typed_tokens(text: str) -> list[tuple[str, str]]:
    """Each folded token of ``text`` with the word it was written as (lowercase, today's tone
    placement), in order: what the user typed at each position."""
    out: list[tuple[str, str]] = []
    for word in _WORD.findall(clean(text).lower()):
        folded = fold_word(word)
        for token in tokenize(folded):
            out.append((token, modern_tones(word) if token == folded else token))
    return out


def accent_agrees(token: str, spelled: str | None, typed: Typed | None) -> bool:
    """Whether ``token``, written ``spelled`` in the plan, can be what the user typed."""
    if typed is None or spelled is None:
        return True
    forms = typed.get(token)
    if not forms:
        return True  # not typed as such (an expansion, a correction)
    return spelled in forms or any(not has_diacritics(form) for form in forms)


def find_phrase(tokens: list[str], phrase: tuple[str, ...] | list[str]) -> int | None:
    """Where ``phrase`` (tokens) starts in ``tokens``, or ``None``."""
    wanted = list(phrase)
    n = len(wanted)
    for i in range(len(tokens) - n + 1):
        if tokens[i] == wanted[0] and tokens[i : i + n] == wanted:
            return i
    return None


# A Vietnamese syllable, folded: an onset, one to three vowels, a final. "thogn" is none: a
# typing slip, not a word of another subject.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:[aeiouy]{1,3})"
    r"(?:ng|nh|ch|[cmnpt])?"
)


def is_syllable(folded: str) -> bool:
    """Whether a folded word could be a Vietnamese syllable (its letters, not its meaning)."""
    return _SYLLABLE.fullmatch(folded) is not None
