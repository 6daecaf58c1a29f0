"""Vietnam's administrative units by name, to tell when a question is about another place.

Names after the July 2025 reorganisation come from the ``vietnam-provinces`` package (read
from its JSON file: importing it builds an enum of every commune), the names before it from
``data/gazetteer/pre-2025.json`` (built from the same package's 0.6 release by
:mod:`knowledge.gazetteer_build`). A question names a place with a word that says what it
is ("huyện Nông Cống", "xã Thọ Xuân", "tỉnh Nghệ An", "Quang Xuong district"), or a province
by its name alone when that name cannot be ordinary words ("Hà Nội", "Nghệ An").
"""

from __future__ import annotations

import importlib.util
import json
import re
from array import array
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.normalize import (
    Typed,
    accent_agrees,
    fold_bulk,
    fold_word,
    has_diacritics,
    is_syllable,
    modern_tones,
    tokenize,
)

PRE_2025 = Path(__file__).parent / "data" / "gazetteer" / "pre-2025.json"

PROVINCE, DISTRICT, COMMUNE = "province", "district", "commune"
# The words an official name starts with, and what they make of it.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("thành phố", ""),  # a province (centrally run) or a district, as the list it is in says
    ("tỉnh", PROVINCE),
    ("thị xã", DISTRICT),
    ("huyện", DISTRICT),
    ("quận", DISTRICT),
    ("thị trấn", COMMUNE),
    ("đặc khu", COMMUNE),
    ("phường", COMMUNE),
    ("xã", COMMUNE),
)
# How a question says what a place is, before its name, and which kinds of place it means.
_MARKERS_BEFORE: dict[tuple[str, ...], tuple[str, ...]] = {
    ("tinh",): (PROVINCE,),
    ("thanh", "pho"): (PROVINCE, DISTRICT),
    ("tp",): (PROVINCE, DISTRICT),
    ("huyen",): (DISTRICT,),
    ("quan",): (DISTRICT,),
    ("thi", "xa"): (DISTRICT,),
    ("tx",): (DISTRICT,),
    ("xa",): (COMMUNE,),
    ("phuong",): (COMMUNE,),
    ("thi", "tran"): (COMMUNE,),
    ("tt",): (COMMUNE,),
}
_MARKER_NAMES = {
    ("tinh",): "tỉnh",
    ("thanh", "pho"): "thành phố",
    ("tp",): "thành phố",
    ("huyen",): "huyện",
    ("quan",): "quận",
    ("thi", "xa"): "thị xã",
    ("tx",): "thị xã",
    ("xa",): "xã",
    ("phuong",): "phường",
    ("thi", "tran"): "thị trấn",
    ("tt",): "thị trấn",
}
_MARKERS_AFTER: dict[str, tuple[str, ...]] = {
    "province": (PROVINCE,),
    "city": (PROVINCE, DISTRICT),
    "district": (DISTRICT,),
    "commune": (COMMUNE,),
    "town": (DISTRICT, COMMUNE),
}
_LONGEST = 4  # words in a name after its prefix ("Bà Rịa - Vũng Tàu")


@dataclass(frozen=True)
class Place:
    kind: str
    name: str  # as written officially, its prefix in lower case: "huyện Nông Cống"
    spelled: tuple[str, ...]  # the name's words with their accents: "nông", "cống"
    base: str = ""  # the name without its prefix: "Nông Cống"

    @property
    def name_en(self) -> str:
        """ "Nông Cống district", "Thọ Xuân commune"."""
        return f"{self.base} {self.kind}" if self.base else self.name

    def called(self, prefix: str | None) -> Place:
        """The place with the prefix the question gave it ("xã Thọ Xuân", not "thị trấn …"
        when the name was both)."""
        if not prefix:
            return self
        return Place(self.kind, f"{prefix} {self.base}", self.spelled, self.base)


class Names:
    """The units of one kind, compact: their folded names one a line, sorted (found with one
    ``str.find``), and line for line their official spellings as UTF-8 bytes ("|" between
    the units one folded name stands for). Ten thousand communes as objects would take
    ~9 MB; as these, 0.2 MB."""

    def __init__(self, kind: str, keys: str, spellings: bytes) -> None:
        self.kind = kind
        self._keys = "\n" + keys
        self._spellings = spellings
        starts = [0]
        at = spellings.find(b"\n")
        while at >= 0:
            starts.append(at + 1)
            at = spellings.find(b"\n", at + 1)
        self._starts = array("I", starts)

    def places(self, key: tuple[str, ...]) -> list[Place]:
        at = self._keys.find(f"\n{' '.join(key)}\n")
        if at < 0:
            return []
        line = self._keys.count("\n", 0, at)
        spelled = self._spellings[self._starts[line] : self._starts[line + 1] - 1].decode("utf-8")
        return [place for name in spelled.split("|") for _k, place, _key in _parse(name, self.kind)]


class Gazetteer:
    """Official names, folded, by kind of place, compiled ahead
    (:mod:`knowledge.gazetteer_build`): a start reads six small files and builds nothing."""

    def __init__(self, names: dict[str, Names]) -> None:
        self._names = names

    def lookup(self, kind: str, key: tuple[str, ...]) -> Place | None:
        places = self.lookup_all(kind, key)
        return places[0] if places else None

    def lookup_all(self, kind: str, key: tuple[str, ...]) -> list[Place]:
        return self._names[kind].places(key)


def compile_names(names: Iterable[tuple[str, str]]) -> dict[str, tuple[str, bytes]]:
    """What a :class:`Gazetteer` is made of, from (kind, official name) pairs: for each kind,
    the folded names one a line (sorted) and their official spellings line for line."""
    by_kind: dict[str, dict[str, dict[str, None]]] = {PROVINCE: {}, DISTRICT: {}, COMMUNE: {}}
    for level, official in names:
        for kind, place, key in _parse(official, level):
            by_kind[kind].setdefault(" ".join(key), {})[place.name] = None
    compiled: dict[str, tuple[str, bytes]] = {}
    for kind, units in by_kind.items():
        keys = sorted(units)
        spellings = "\n".join("|".join(units[k]) for k in keys)
        compiled[kind] = ("".join(f"{k}\n" for k in keys), spellings.encode("utf-8"))
    return compiled


def _parse(official: str, level: str) -> list[tuple[str, Place, tuple[str, ...]]]:
    lowered = official.strip()
    for prefix, kind in _PREFIXES:
        if lowered.lower().startswith(prefix + " "):
            base = lowered[len(prefix) + 1 :].strip()
            key = tuple(tokenize(fold_bulk(base)))
            if not key or all(w.isdigit() for w in key) or len(key) > _LONGEST:
                return []  # "Phường 1": a number is no name
            name = f"{prefix} {base}"
            spelled = tuple(modern_tones(w) for w in re.findall(r"\w+", base.lower()))
            kind = kind or level  # "thành phố": a province or a district, as listed
            return [(kind, Place(kind, name, spelled, base), key)]
    return []


_NAME = re.compile(r'"name"\s*:\s*"([^"]+)"')
COMPILED = PRE_2025.parent


def source_names(package_data: Path | None = None) -> Iterator[tuple[str, str]]:
    """(kind, official name) of every unit: the names before 2025 (``pre-2025.json``) and
    those of the installed ``vietnam-provinces`` (or of its ``nested-divisions.json`` given)."""
    data = json.loads(PRE_2025.read_text("utf-8"))
    for key, kind in (("provinces", PROVINCE), ("districts", DISTRICT), ("communes", COMMUNE)):
        yield from ((kind, name) for name in data.get(key, []))
    path = package_data or _package_data()
    # provinces and centrally-run cities ("Tỉnh …", "Thành phố …"), their communes ("Xã …",
    # "Phường …", "Đặc khu …"): the prefix says which
    for match in _NAME.finditer(path.read_text("utf-8")):
        name = match[1]
        yield (PROVINCE if name.startswith(("Tỉnh ", "Thành phố ")) else COMMUNE), name


def _package_data() -> Path:
    spec = importlib.util.find_spec("vietnam_provinces")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("vietnam-provinces is not installed (pip install '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "nested-divisions.json"


KINDS = (PROVINCE, DISTRICT, COMMUNE)


def _syllable_splits(word: str, parts: int = 3) -> Iterator[tuple[str, ...]]:
    """The ways ``word`` is two (or three) syllables written together: "hanoi" → ("ha", "noi")."""
    for cut in range(1, len(word)):
        head, rest = word[:cut], word[cut:]
        if not is_syllable(head):
            continue
        if is_syllable(rest):
            yield (head, rest)
        if parts > 2:
            yield from ((head, *tail) for tail in _syllable_splits(rest, parts - 1))


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    return Gazetteer(
        {
            kind: Names(
                kind,
                (COMPILED / f"{kind}.keys").read_text("ascii"),
                (COMPILED / f"{kind}.names").read_bytes(),
            )
            for kind in KINDS
        }
    )


@dataclass(frozen=True)
class Home:
    """The plan's own place: its province, district and communes (folded names by kind)."""

    names: dict[str, frozenset[tuple[str, ...]]]

    def has(self, kind: str, key: tuple[str, ...]) -> bool:
        return key in self.names.get(kind, frozenset())


class PlaceFinder:
    """Finds a place a question names that is not the plan's own.

    ``plan_text`` (folded) and ``common`` (ordinary words) keep ordinary phrases from being
    taken for places: "xã hội" is not the commune Hội, "hai phòng" is not Hải Phòng unless it
    is written so.
    """

    def __init__(
        self,
        gazetteer: Gazetteer,
        home: Home,
        plan_text: str,
        common: frozenset[str],
        everyday: frozenset[str] = frozenset(),
    ) -> None:
        self.gazetteer = gazetteer
        self.home = home
        self.plan_text = f" {plan_text} "
        self.common = common
        self.everyday = everyday  # words of every sentence ("có", "cần", "như"), not the plan's

    def elsewhere(self, tokens: list[str], typed: Typed | None, text: str = "") -> Place | None:
        """``text``: the question as written, whose capitals tell a name ("xã An Ninh") from
        the plan's words ("xã an ninh trật tự")."""
        capitals = {fold_word(w) for w in re.findall(r"\w+", text) if w[:1].isupper()}
        for i in range(len(tokens)):
            for marker, kinds in _MARKERS_BEFORE.items():
                if tuple(tokens[i : i + len(marker)]) != marker:
                    continue
                found = self._named(tokens, i + len(marker), kinds, typed, marker, capitals)
                if found is not None:
                    return found
            kinds_after = _MARKERS_AFTER.get(tokens[i])
            if kinds_after and i > 0:
                for size in range(min(_LONGEST, i), 0, -1):
                    key = tuple(tokens[i - size : i])
                    place = self._place(key, kinds_after)
                    if place is not None and self._accents_agree(place, key, typed):
                        if self.home.has(place.kind, key):
                            break
                        return place
        return self._province_alone(tokens, typed, capitals)

    def _named(
        self,
        tokens: list[str],
        start: int,
        kinds: tuple[str, ...],
        typed: Typed | None,
        marker: tuple[str, ...],
        capitals: set[str],
    ) -> Place | None:
        for size in range(min(_LONGEST, len(tokens) - start), 0, -1):
            key = tuple(tokens[start : start + size])
            found = [p for k in kinds for p in self.gazetteer.lookup_all(k, key)]
            if not found:
                continue
            if any(self.home.has(p.kind, key) for p in found) and not any(
                p.name.startswith(_MARKER_NAMES[marker]) for p in found
            ):
                return None  # the plan's own province, district or commune
            # "xã chợ" is not the commune Chờ; "TP Thanh Hóa" is the city, not the province
            agreeing = [p for p in found if self._accents_agree(p, key, typed)]
            if not agreeing:
                continue
            called = [p for p in agreeing if p.name.startswith(_MARKER_NAMES[marker])]
            place = (called or agreeing)[0]
            if self.home.has(place.kind, key):
                return None
            # "xã hội phụ trách", "huyện đạt chuẩn": the plan's own words, unless written as
            # the name. A name that starts as the plan's words do ("huyện nông …") and ends
            # as they go on ("… phú trách") is read as those words.
            after = tokens[start + size : start + size + 1]
            begins = f" {' '.join((*marker, key[0]))} " in self.plan_text
            goes_on = bool(after) and f" {key[-1]} {after[0]} " in self.plan_text
            said = begins and (
                goes_on or len(key) == 1 or f" {' '.join((*marker, *key))} " in self.plan_text
            )
            # "xa can co may mo hinh" is "xã cần có mấy mô hình", not the commune Căn Co: a
            # name of ordinary words only, typed neither with its capitals nor its accents
            ordinary = (len(key) == 1 and key[0] in self.common) or (
                all(k in self.everyday for k in key) and not all(k in capitals for k in key)
            )
            if (said or ordinary) and not self._spelled_as(place, key, typed):
                return None
            # "xã an toàn thực phẩm", "xã chỉ đạo các thôn": words the plan uses together are
            # a name only when written as one, with capitals
            if f" {' '.join(key)} " in self.plan_text and not all(k in capitals for k in key):
                return None
            return place.called(_MARKER_NAMES.get(marker))
        return None

    def _province_alone(
        self, tokens: list[str], typed: Typed | None, capitals: AbstractSet[str] = frozenset()
    ) -> Place | None:
        """A province named without "tỉnh": its words unlike ordinary ones, or spelled with
        the name's accents, or written as a name ("Ha Tinh lam NTM the nao")."""
        for size in range(_LONGEST, 1, -1):  # two words at least
            for i in range(len(tokens) - size + 1):
                key = tuple(tokens[i : i + size])
                places = self.gazetteer.lookup_all(PROVINCE, key)
                if not places or self.home.has(PROVINCE, key):
                    continue
                place = places[0]
                ordinary = all(w in self.common for w in key)
                named = all(w in capitals for w in key)
                if not ordinary or named or self._spelled_as(place, key, typed):
                    return place
        joined = (self._province_joined(token) for token in tokens)
        return next((place for place in joined if place is not None), None)

    def _province_joined(self, token: str) -> Place | None:
        """A province's name written as one word, as English writes some ("Hanoi",
        "Haiphong", "Danang"): a word that is no syllable but is two or three of the name's
        (one that is a syllable, "nghean", is left: it may be a slip for a word)."""
        if len(token) < 4 or is_syllable(token) or not token.isalpha():
            return None
        for key in _syllable_splits(token):
            places = self.gazetteer.lookup_all(PROVINCE, key)
            if places and not self.home.has(PROVINCE, key):
                return places[0]
        return None

    def _place(self, key: tuple[str, ...], kinds: tuple[str, ...]) -> Place | None:
        for kind in kinds:
            place = self.gazetteer.lookup(kind, key)
            if place is not None:
                return place
        return None

    @staticmethod
    def _accents_agree(place: Place, key: tuple[str, ...], typed: Typed | None) -> bool:
        """No word of the name typed with other accents than the name's."""
        return all(
            accent_agrees(word, spelled, typed)
            for word, spelled in zip(key, place.spelled, strict=False)
        )

    @staticmethod
    def _spelled_as(place: Place, key: tuple[str, ...], typed: Typed | None) -> bool:
        """Every word of the name typed with the name's own accents (a name without any,
        "La Gi", is not told from the everyday words "là gì" typed plainly)."""
        if typed is None or not any(has_diacritics(word) for word in place.spelled):
            return False
        return all(
            spelled in typed.get(word, frozenset())
            for word, spelled in zip(key, place.spelled, strict=False)
        )
