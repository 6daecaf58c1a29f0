"""Vietnamese alphabetical order: the one sort key for every list, export and page.

The order is CLDR's Vietnamese collation (what ICU's ``vi`` collator does):

- letters in the Vietnamese alphabet's order, ``a ă â b c d đ e ê … o ô ơ … u ư v … y``
  ("Dân Lực" before "Dân Lý", "Thọ Tân" before "Thọ Thế", "Dân Quyền" before "Đồng Lợi");
- tones only where the letters are equal, in the order ngang, huyền, hỏi, ngã, sắc, nặng
  (``ma mà mả mã má mạ``), compared from the first letter on;
- then case (lower before upper); spaces and punctuation before digits before letters.

Why not a library: PyICU has no wheels (it builds against the system's ICU), and the bundled
ICU builds on PyPI exist for a single Python version and platform, 65 MB each; the bot must
install with ``pip`` alone on any Python ≥ 3.11. The rule above is Unicode decomposition
plus the alphabet, a few lines; ``tests/test_collation.py`` checks it against ICU's
Vietnamese collator wherever ICU can be imported.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER = {letter: index for index, letter in enumerate(ALPHABET)}
# Marks that make a letter of their own (a + breve = ă) rather than a tone.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
# Tones, in the order of the Vietnamese collation (ngang has no mark: 0).
_TONE = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}

SortKey = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@lru_cache(maxsize=65536)
def vi_key(text: str) -> SortKey:
    """The key that sorts ``text`` in Vietnamese alphabetical order (``sorted(names,
    key=vi_key)``). Equal keys mean equal strings."""
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for base, marks in _clusters(text):
        lower = base.lower()
        upper = base != lower
        letter = unicodedata.normalize(
            "NFC", lower + "".join(m for m in marks if m in _LETTER_MARKS)
        )
        tone = 0
        other = 0
        for mark in marks:
            if mark in _TONE:
                tone = _TONE[mark]
            elif mark not in _LETTER_MARKS:
                other = ord(mark)  # a mark Vietnamese does not use: after the tones
        if letter in _LETTER:
            primary.append(3_000 + _LETTER[letter])
        elif lower.isdigit():
            primary.append(2_000 + unicodedata.digit(lower, 0))
        elif lower.isalpha():
            primary.append(10_000 + ord(lower))  # other scripts' letters, after ours
        else:
            primary.append(ord(lower) if ord(lower) < 2_000 else 1_999)
        secondary.append(tone * 100_000 + other if other else tone)
        tertiary.append(1 if upper else 0)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def _clusters(text: str) -> list[tuple[str, list[str]]]:
    """Base characters with the combining marks that follow them (after decomposition)."""
    out: list[tuple[str, list[str]]] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and out:
            out[-1][1].append(char)
        else:
            out.append((char, []))
    return out
