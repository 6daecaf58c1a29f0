"""Channel-neutral formatted text: lines of spans, some bold or italic.

The conversation core builds a :class:`Doc`; each channel renders it — Telegram as HTML with
every value escaped, Zalo and the terminal as plain text. Because values are kept in spans,
nothing a user typed can inject markup, and long texts split on line boundaries without ever
cutting a tag.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    italic: bool = False


Part = str | Span
Line = tuple[Span, ...]


def b(text: str) -> Span:
    return Span(text, bold=True)


def it(text: str) -> Span:
    return Span(text, italic=True)


def _spans(parts: Iterable[Part]) -> Line:
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts if p != "")


@dataclass
class Doc:
    lines: list[Line] = field(default_factory=list)

    @classmethod
    def of(cls, *lines: str | Line) -> Doc:
        doc = cls()
        for line in lines:
            doc.add(*(line if isinstance(line, tuple) else (line,)))
        return doc

    def add(self, *parts: Part) -> Doc:
        """Append one line made of ``parts`` (newlines inside a part start new lines)."""
        current: list[Span] = []
        for span in _spans(parts):
            pieces = span.text.split("\n")
            for i, piece in enumerate(pieces):
                if i > 0:
                    self.lines.append(tuple(current))
                    current = []
                if piece:
                    current.append(Span(piece, span.bold, span.italic))
        self.lines.append(tuple(current))
        return self

    def bullet(self, *parts: Part) -> Doc:
        return self.add("• ", *parts)

    def blank(self) -> Doc:
        if self.lines and self.lines[-1]:
            self.lines.append(())
        return self

    def extend(self, other: Doc) -> Doc:
        self.lines.extend(other.lines)
        return self

    def __bool__(self) -> bool:
        return any(self.lines)

    # -- rendering --------------------------------------------------------------------------
    def plain(self) -> str:
        return "\n".join(render_plain(line) for line in self._trimmed())

    def html(self) -> str:
        return "\n".join(render_html(line) for line in self._trimmed())

    def _trimmed(self) -> list[Line]:
        lines = list(self.lines)
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        return lines

    def page_starts(self, limit: int) -> tuple[int, ...]:
        """Where each page of at most ``limit`` characters starts (line indices), cut between
        lines; a single longer line is a page of its own, and no page starts blank."""
        starts = [0]
        size = 0
        for i, line in enumerate(self.lines):
            length = sum(len(span.text) for span in line) + 1
            if size and size + length > limit and any(self.lines[starts[-1] : i]):
                if not line:
                    starts.append(i + 1)
                    size = 0
                    continue
                starts.append(i)
                size = 0
            size += length
        return tuple(s for s in starts if s < len(self.lines) and any(self.lines[s:])) or (0,)

    def chunks(self, limit: int, render: Callable[[Line], str]) -> list[str]:
        """Rendered text in pieces of at most ``limit`` characters, cut between lines.

        A single line longer than ``limit`` is wrapped at spaces (or hard-cut), span by span,
        so formatting stays balanced in every piece.
        """
        pieces: list[str] = []
        current: list[str] = []
        size = 0
        for line in self._trimmed():
            for rendered in _wrap_line(line, limit, render):
                extra = len(rendered) + (1 if current else 0)
                if current and size + extra > limit:
                    pieces.append("\n".join(current).strip("\n") or "…")
                    current, size = [], 0
                    extra = len(rendered)
                current.append(rendered)
                size += extra
        if current:
            text = "\n".join(current).strip("\n")
            if text:
                pieces.append(text)
        return pieces or [""]


def render_plain(line: Line) -> str:
    return "".join(span.text for span in line)


def render_html(line: Line) -> str:
    out: list[str] = []
    for span in line:
        text = html.escape(span.text, quote=False)
        if span.italic:
            text = f"<i>{text}</i>"
        if span.bold:
            text = f"<b>{text}</b>"
        out.append(text)
    return "".join(out)


def _wrap_line(line: Line, limit: int, render: Callable[[Line], str]) -> list[str]:
    rendered = render(line)
    if len(rendered) <= limit:
        return [rendered]
    out: list[str] = []
    current: list[Span] = []
    for span in line:
        for word in _split_words(span.text):
            candidate = Span(word, span.bold, span.italic)
            if current and len(render((*current, candidate))) > limit:
                out.append(render(tuple(current)))
                current = []
            while len(render((candidate,))) > limit:
                # A single word longer than the limit (e.g. a pasted blob): hard cut.
                cut = _longest_prefix(candidate, limit, render)
                out.append(render((Span(candidate.text[:cut], span.bold, span.italic),)))
                candidate = Span(candidate.text[cut:], span.bold, span.italic)
            current.append(candidate)
    if current:
        out.append(render(tuple(current)))
    return out


def _longest_prefix(span: Span, limit: int, render: Callable[[Line], str]) -> int:
    """Length of the longest prefix of ``span`` whose rendering fits in ``limit`` (at least 1)."""
    low, high = 1, len(span.text)
    while low < high:
        mid = (low + high + 1) // 2
        if len(render((Span(span.text[:mid], span.bold, span.italic),))) <= limit:
            low = mid
        else:
            high = mid - 1
    return low


def _split_words(text: str) -> list[str]:
    """Words with their trailing space kept, so joining them restores the text."""
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == " ":
            pieces.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces
