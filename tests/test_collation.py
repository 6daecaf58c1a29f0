"""Vietnamese alphabetical order: the one sort key (knowledge.collation), checked against the
alphabet's rules and, where ICU can be imported (the dev install on Linux x86_64), against
ICU's own Vietnamese collator on the district's names and thousands of generated words."""

from __future__ import annotations

import random
import unicodedata

import pytest

from knowledge.collation import vi_key
from knowledge.loader import load_knowledge


def ordered(words: list[str]) -> list[str]:
    return sorted(words, key=vi_key)


def test_the_alphabet_and_the_tones() -> None:
    assert ordered(["Dân Lý", "Dân Lực"]) == ["Dân Lực", "Dân Lý"]  # ư before y
    assert ordered(["Thọ Thế", "Thọ Tiến", "Thọ Tân"]) == ["Thọ Tân", "Thọ Thế", "Thọ Tiến"]
    assert ordered(["Đồng Lợi", "Dân Quyền", "Hợp Lý"]) == ["Dân Quyền", "Đồng Lợi", "Hợp Lý"]
    assert ordered(["Dz", "Đa"]) == ["Dz", "Đa"]  # đ is a letter after d, not a d
    assert ordered(["Âu", "Ay", "Ăn", "Ba"]) == ["Ay", "Ăn", "Âu", "Ba"]  # a ă â
    assert ordered(["Ơn", "Ôn", "Oz"]) == ["Oz", "Ôn", "Ơn"]  # o ô ơ
    assert ordered(["Uy", "Ưu", "Va"]) == ["Uy", "Ưu", "Va"]  # u ư v
    assert ordered(["mạ", "má", "mã", "mả", "mà", "ma"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert ordered(["Hợp Thắng", "Hợp Thành"]) == ["Hợp Thành", "Hợp Thắng"]  # a before ă
    assert ordered(["An Nông", "An"]) == ["An", "An Nông"]
    assert ordered(["b", "B", "a"]) == ["a", "b", "B"]
    # the same text composed or decomposed sorts the same
    assert vi_key("Thọ") == vi_key(unicodedata.normalize("NFD", "Thọ"))


def test_the_communes_in_order() -> None:
    names = [c.name for c in load_knowledge().communes.communes]
    listed = ordered(names)
    assert listed[:5] == ["An Nông", "Bình Sơn", "Dân Lực", "Dân Lý", "Dân Quyền"]
    assert listed.index("Đồng Tiến") < listed.index("Hợp Lý")  # Đ right after D
    assert listed[-3:] == ["Xuân Lộc", "Xuân Thịnh", "Xuân Thọ"]


def _words(count: int) -> list[str]:
    rng = random.Random(20261206)
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY"
    tones = ["", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"]
    names = [c.name for c in load_knowledge().communes.communes]
    out = []
    for _ in range(count):
        word = "".join(rng.choice(letters) + rng.choice(tones) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            word += " " + rng.choice(names)
        if rng.random() < 0.1:
            word += str(rng.randint(0, 99))
        out.append(unicodedata.normalize("NFC", word))
    return out + names


def test_the_same_order_as_icus_vietnamese_collator() -> None:
    icu = pytest.importorskip("icu", reason="ICU (icukit-pyicu) is a dev dependency on x86_64")
    collator = icu.Collator.createInstance(icu.Locale("vi"))
    words = _words(5000)
    assert ordered(words) == sorted(words, key=collator.getSortKey)
