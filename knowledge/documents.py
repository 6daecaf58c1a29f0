"""The documents the plan cites (``documents.yaml``): loaded, checked against the plan's text,
and found in a question by number ("qđ 558", "tb325"), kind ("thông tư nào") or issuer.

Finding by subject goes through the engine's topic index (the documents' ``keywords``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from knowledge.errors import KnowledgeError
from knowledge.models import Key, Strict, Text
from knowledge.normalize import find_phrase, fold, words
from knowledge.yamlfile import describe, read_yaml

DOCUMENTS_FILE = "documents.yaml"
YEARS = range(1990, 2101)  # a number in this range needs its kind to be a document's number


class DocumentKind(Strict):
    name: Text
    name_en: Text
    short: list[Text]  # how people write the kind ("qđ", "quyết định")


class Document(Strict):
    id: Key
    kind: Key
    number: Text
    date: dt.date
    issuer: Text
    issuer_en: Text
    issuer_keywords: list[Text]
    subject: Text
    subject_en: Text
    role: Text
    role_en: Text
    keywords: list[Text]
    keywords_en: list[Text]
    source: Text

    @property
    def serial(self) -> str:
        """The number's leading figure: "558" of "558/QĐ-TTg", "01" of "01-NQ/ĐH"."""
        match = re.match(r"\d+", self.number)
        assert match is not None  # checked at load
        return match[0]


class DocumentsFile(Strict):
    kinds: dict[Key, DocumentKind]
    documents: list[Document]


@dataclass(frozen=True)
class Documents:
    kinds: dict[str, DocumentKind]
    documents: tuple[Document, ...]

    def by_id(self, doc_id: str) -> Document:
        return next(d for d in self.documents if d.id == doc_id)


def load_documents(base: Path, plan_text: str) -> Documents:
    """``documents.yaml`` of a plan directory; none if the plan has no such file."""
    path = base / DOCUMENTS_FILE
    if not path.is_file():
        return Documents({}, ())
    try:
        data = DocumentsFile.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise KnowledgeError(describe(path, exc)) from None
    _check(data, plan_text)
    return Documents(dict(data.kinds), tuple(data.documents))


def _check(data: DocumentsFile, plan_text: str) -> None:
    """Each document is one the plan cites: its number and date stand together in the text."""
    lines = [_squeeze(line) for line in plan_text.splitlines()]
    seen: set[str] = set()
    for i, doc in enumerate(data.documents):
        where = f"{DOCUMENTS_FILE}: documents[{i}] ({doc.id})"
        if doc.id in seen:
            raise KnowledgeError(f"{where}: id trùng lặp")
        seen.add(doc.id)
        if doc.kind not in data.kinds:
            raise KnowledgeError(f"{where}.kind: không có loại văn bản '{doc.kind}' trong kinds")
        if not re.match(r"\d+", doc.number):
            raise KnowledgeError(f"{where}.number: số văn bản phải bắt đầu bằng chữ số")
        number = _squeeze(doc.number)
        dated = {
            _squeeze(f"{doc.date.day}/{doc.date.month}/{doc.date.year}"),
            _squeeze(doc.date.strftime("%d/%m/%Y")),
        }
        if not any(number in line and any(d in line for d in dated) for line in lines):
            raise KnowledgeError(
                f"{where}: Kế hoạch không trích dẫn văn bản số {doc.number} ngày "
                f"{doc.date:%d/%m/%Y} (số và ngày phải cùng một đoạn của văn bản Kế hoạch)"
            )


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


# -- finding in a question -----------------------------------------------------------------
_ASKING = frozenset({"so", "nao", "gi", "which", "what", "number", "no"})
_OF = frozenset({"cua", "of"})  # "qđ của thủ tướng": a document of someone ("TT Triệu Sơn" is not)
_NUMBER = re.compile(r"(?<![\d.,/])(\d{1,4})(?![\d.,%]|/\d{1,2}/)")


class DocumentFinder:
    """Which cited documents a question names by number, kind or issuer."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self._kind_phrases = {
            kind: sorted(
                # (English names also in the plural: "which decisions does the plan cite")
                {tuple(words(s)) for s in [k.name, k.name_en, f"{k.name_en}s", *k.short]},
                key=len,
                reverse=True,
            )
            for kind, k in documents.kinds.items()
        }
        self._issuers = {
            d.id: sorted({tuple(words(s)) for s in d.issuer_keywords}, key=len, reverse=True)
            for d in documents.documents
        }
        # the letters of a number after its figure ("qd", "ttg", "hu"): they say it too
        self._suffixes = {
            d.id: frozenset(w for w in words(d.number) if not w[0].isdigit())
            for d in documents.documents
        }

    def kinds_in(self, tokens: list[str]) -> set[str]:
        """The kinds of document the question names. A two-letter short form ("tt", "tb")
        counts only beside a number or a question word: "TT Triệu Sơn" is a town."""
        found: set[str] = set()
        present = set(tokens)
        for kind, phrases in self._kind_phrases.items():
            for phrase in phrases:
                if phrase[0] not in present:
                    continue
                for i in range(len(tokens) - len(phrase) + 1):
                    if tuple(tokens[i : i + len(phrase)]) != phrase:
                        continue
                    nxt = tokens[i + len(phrase) : i + len(phrase) + 1]
                    short = len(phrase) == 1 and len(phrase[0]) <= 3
                    if not short or (
                        nxt and (nxt[0][0].isdigit() or nxt[0] in _ASKING or nxt[0] in _OF)
                    ):
                        found.add(kind)
        return found

    def numbers_given(self, folded: str) -> list[str]:
        """The figures after a document's kind ("thông tư 36"), cited or not."""
        spaced = re.sub(r"(?<=[a-z])(?=\d)", " ", folded)
        out: list[str] = []
        for phrases in self._kind_phrases.values():
            for phrase in phrases:
                pattern = r"\b" + r"\s+".join(phrase) + r"\s+(?:so\s+)?(\d{1,4})\b"
                out += re.findall(pattern, spaced)
        return out

    def number_asked(self, *readings: list[str]) -> bool:
        """ "kh số mấy", "quyết định số bao nhiêu": a document's number is what is asked, in
        any of the question's readings (as typed; with short forms spelled out: "số bn")."""
        return any(self._number_asked(tokens) for tokens in readings)

    def _number_asked(self, tokens: list[str]) -> bool:
        if "so" not in tokens:
            return False
        present = set(tokens)
        for phrases in self._kind_phrases.values():
            for phrase in phrases:
                if phrase[0] not in present:
                    continue
                n = len(phrase)
                for i in range(len(tokens) - n + 1):
                    if tuple(tokens[i : i + n]) == phrase and tokens[i + n : i + n + 1] == ["so"]:
                        following = tokens[i + n + 1 : i + n + 3]
                        if following[:1] in (["may"], ["gi"]) or following == ["bao", "nhieu"]:
                            return True
        return False

    def by_number(
        self, folded: str, tokens: list[str], *, about_documents: bool = True
    ) -> list[Document]:
        """Documents whose number the question gives: "qđ 558", "558/QĐ-TTg", "tb325", "nq 01".
        A figure alone names a document when it has three digits or more, is not a year, and
        the question is ``about_documents`` ("325 là văn bản gì", not "xã có 325 hộ nghèo")."""
        kinds = self.kinds_in(tokens)
        spaced = re.sub(r"(?<=[a-z])(?=\d)", " ", folded)  # "qd558" → "qd 558"
        figures = {m[1] for m in _NUMBER.finditer(spaced)}
        found: list[Document] = []
        for doc in self.documents.documents:
            serial = doc.serial
            if serial not in figures and serial.lstrip("0") not in figures:
                continue
            typed = doc.kind in kinds or bool(self._suffixes[doc.id] & set(tokens))
            alone = about_documents and len(serial) >= 3 and int(serial) not in YEARS
            if typed or alone:
                found.append(doc)
        return found

    def by_issuer(self, tokens: list[str], kinds: set[str]) -> list[Document]:
        """Documents of an issuer the question names ("quyết định của thủ tướng")."""
        named = [
            d
            for d in self.documents.documents
            if any(_contains(tokens, p) for p in self._issuers[d.id])
        ]
        # of the kind asked ("quyết định của thủ tướng"), if the issuer has one of that kind
        hits = [d for d in named if d.kind in kinds] or named
        if not hits:
            return []
        # the most specific issuer named: "ubnd tỉnh" is not every "tỉnh"
        longest = max(
            max(len(p) for p in self._issuers[d.id] if _contains(tokens, p)) for d in hits
        )
        return [
            d
            for d in hits
            if max(len(p) for p in self._issuers[d.id] if _contains(tokens, p)) == longest
        ]

    def by_kind(self, kinds: set[str]) -> list[Document]:
        return [d for d in self.documents.documents if d.kind in kinds]


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    return find_phrase(tokens, phrase) is not None
