"""Formatted text: escaping and splitting long answers without breaking tags."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from handlers.richtext import Doc, b, it, render_html, render_plain


def test_html_escapes_values() -> None:
    doc = Doc().add(b("<b>x</b> & y"), " ", it("1 < 2"))
    assert doc.html() == "<b>&lt;b&gt;x&lt;/b&gt; &amp; y</b> <i>1 &lt; 2</i>"
    assert doc.plain() == "<b>x</b> & y 1 < 2"


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.ok = False


def _balanced(text: str) -> bool:
    parser = _Balance()
    parser.feed(text)
    return parser.ok and not parser.stack


@given(
    st.lists(
        st.tuples(st.text(min_size=0, max_size=300), st.booleans(), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    st.integers(min_value=40, max_value=4096),
)
def test_chunks_fit_and_stay_balanced(parts: list[tuple[str, bool, bool]], limit: int) -> None:
    doc = Doc()
    for text, bold, italic in parts:
        doc.add(b(text) if bold else (it(text) if italic else text))
    chunks = doc.chunks(limit, render_html)
    assert all(len(chunk) <= limit for chunk in chunks)
    assert all(_balanced(chunk) for chunk in chunks)
    plain = "".join(re.sub(r"\s", "", chunk) for chunk in doc.chunks(limit, render_plain))
    assert plain == re.sub(r"\s", "", doc.plain())


def test_long_answer_splits_on_line_boundaries() -> None:
    doc = Doc()
    for i in range(400):
        doc.bullet(b(f"Dòng {i}"), " — nội dung")
    chunks = doc.chunks(4096, render_html)
    assert len(chunks) > 1
    assert all(chunk.startswith("• <b>Dòng") for chunk in chunks)


def test_replies_survive_the_outbox_round_trip() -> None:
    from handlers.serialize import replies_from_payload, replies_to_payload
    from handlers.types import Attachment, Choice, Reply

    doc = Doc().add(b("Đậm"), " thường ", it("nghiêng")).blank().bullet("• <&>")
    reply = Reply(doc, [[Choice("A", "a:1")]], document=Attachment("x.csv", b"1,2", "text/csv"))
    (back,), context = replies_from_payload(
        __import__("json").loads(__import__("json").dumps(replies_to_payload([reply], {"m": 5})))
    )
    assert back.doc.lines == doc.lines
    assert back.choices == reply.choices and back.document == reply.document
    assert context == {"m": 5}
