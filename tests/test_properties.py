"""Property-based tests: whatever people type, the bot answers politely and never breaks.

Arbitrary Unicode, 10,000-character messages, control characters, HTML- and SQL-looking text,
emoji, empty messages, stickers and photos where text is expected: normalisation, the Q&A,
number parsing and every step of a report dialog must cope, and free text is stored exactly
as typed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

from hypothesis import assume, example, given
from hypothesis import strategies as st

from handlers.core import CANCEL_WORDS
from handlers.parsing import ParseError, parse_number
from handlers.qa import QA
from handlers.reporting import BACK_WORDS, SKIP_WORDS
from knowledge.normalize import MAX_CHARS, clean, fold, words
from storage.reports import ReportRepo
from tests.harness import Harness, harness
from tests.own_loop import own_loop

NASTY = [
    "",
    " ",
    "\x00\x01\x1b[31m",
    "<b>đậm</b><script>alert(1)</script>",
    "'; DROP TABLE reports; --",
    "Robert'); DELETE FROM users WHERE ('1'='1",
    "%s %d {0} {name} \\N{BULLET}",
    "👨‍👩‍👧‍👦🇻🇳🔥" * 50,
    "ai phụ trách tiêu chí 17.4" * 400,
    "\u202e\u200b\ufeffhạn BHYT",
    "Ｔｉêｕ　ｃｈí　１７",
    "x" * 10_000,
]
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=10_000),
)


@given(texts)
@example("Tiêu chí 17,4 — Phòng KT&HT")
def test_normalisation_is_total_bounded_and_idempotent(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.lower() and len(folded) <= MAX_CHARS
    assert "đ" not in folded and not any(ch in folded for ch in "\x00\u200b\ufeff")
    assert clean(clean(text)) == clean(text)
    assert all(token for token in words(text))


@given(texts)
def test_every_question_gets_a_polite_answer(qa: QA, text: str) -> None:
    for lang in ("vi", "en"):
        answer = qa.answer(text, dt.date(2021, 10, 15), lang)
        assert answer.text.strip(), text
        assert len(answer.text) < 20_000
        assert "Traceback" not in answer.text and "None" not in answer.text.split()


@given(st.integers(min_value=0, max_value=10**9))
def test_counts_written_the_vietnamese_way_parse_back(n: int) -> None:
    grouped = f"{n:,}".replace(",", ".")
    assert parse_number(grouped, integer=True) == n
    assert parse_number(str(n), integer=True) == n
    assert parse_number(f"{grouped} người", integer=True) == n
    assert parse_number(f"{n:,}".replace(",", " "), integer=True) == n


@given(st.decimals(min_value=0, max_value=100, places=1, allow_nan=False))
def test_percentages_with_a_decimal_comma_parse_back(value: object) -> None:
    text = f"{value}".replace(".", ",") + "%"
    assert parse_number(text, integer=False) == float(str(value))


@given(texts)
def test_number_parsing_accepts_or_refuses_but_never_breaks(text: str) -> None:
    try:
        value = parse_number(text, integer=False)
    except ParseError as exc:
        assert exc.code in {"not_a_number", "not_an_integer", "negative"}
    else:
        assert value >= 0 and value == value  # not NaN


@contextmanager
def officer_in_a_dialog(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Harness]]:
    """A registered officer, on one event loop shared by every example of a property."""
    stack = AsyncExitStack()
    with own_loop() as loop:
        try:
            h = loop.run_until_complete(stack.enter_async_context(harness(tmp_path)))
            loop.run_until_complete(h.register("admin", "o1", "Dân Lực"))
            yield loop, h
        finally:
            loop.run_until_complete(stack.aclose())


DIALOG_STEPS = [
    ["/baocao"],
    ["/baocao", "@Tỷ lệ người dân tham gia BHYT"],
    ["/baocao", "@Tỷ lệ người dân tham gia BHYT", "10.000"],
    ["/baocao", "@Tỷ lệ người dân tham gia BHYT", "10.000", "9.000"],
    ["/baocao", "@Tình trạng một tiêu chí"],
    ["/baocao", "@Tình trạng một tiêu chí", "17.4"],
    ["/baocao", "@Tình trạng một tiêu chí", "17.4", "@Đang thực hiện"],
    ["/baocao", "@Tình trạng một tiêu chí", "17.4", "@Đang thực hiện", "-"],
]


def test_every_dialog_step_survives_anything_typed(tmp_path: Path) -> None:
    with officer_in_a_dialog(tmp_path) as (loop, h):

        async def walk(steps: list[str]) -> None:
            await h.say("o1", "/huy")
            for step in steps:
                if step.startswith("@"):
                    await h.tap("o1", step[1:])
                else:
                    await h.say("o1", step)

        @given(st.sampled_from(DIALOG_STEPS), texts, st.sampled_from(["text", "sticker", "photo"]))
        def step(steps: list[str], text: str, kind: str) -> None:
            loop.run_until_complete(walk(steps))
            replies = loop.run_until_complete(
                h.say("o1", text if kind == "text" else None, kind=kind)
            )
            assert replies and all(r.text.strip() or r.choices for r in replies)
            assert "Traceback" not in h.last("o1")

        step()


SKIP_TYPED = ["không có", "KHONG CO", "Bỏ qua", " bo qua ", "-", "Skip", "không"]


def test_free_text_is_stored_exactly_as_typed_unless_it_says_skip(tmp_path: Path) -> None:
    """A note is stored verbatim; a skip word ("không có", "bỏ qua", "-") means no note.

    Commands ("/…"), cancel and back words are read as such at every step (tested with the
    dialogs); everything else typed at the note question reaches the summary and is stored.
    """
    with officer_in_a_dialog(tmp_path) as (loop, h):
        seen = {"note": 0, "skip": 0}

        @given(st.one_of(st.text(min_size=1, max_size=500), st.sampled_from(SKIP_TYPED)))
        @example("  <b>Đã trình</b> hồ sơ; DROP TABLE reports; -- 👍  ")
        @example("KHONG CO")
        def note(text: str) -> None:
            assume(text.strip() and not text.strip().startswith("/"))
            assume(fold(text).strip() not in CANCEL_WORDS | BACK_WORDS)
            for step in ["/huy", "/baocao", "@Tình trạng một tiêu chí", "17.4", "@Đạt"]:
                if step.startswith("@"):
                    loop.run_until_complete(h.tap("o1", step[1:]))
                else:
                    loop.run_until_complete(h.say("o1", step))
            loop.run_until_complete(h.say("o1", text))  # the note, then the photos when met
            assert "Hình ảnh minh chứng" in h.last("o1"), h.last("o1")
            loop.run_until_complete(h.say("o1", "bỏ qua"))
            assert "Kiểm tra trước khi gửi" in h.last("o1"), h.last("o1")
            loop.run_until_complete(h.tap("o1", "Gửi báo cáo"))
            assert "Đã nhận báo cáo số" in h.last("o1"), h.last("o1")
            reports = loop.run_until_complete(ReportRepo(h.app.db).all())
            newest = max(reports, key=lambda r: r.id)
            skipped = fold(text.strip()) in SKIP_WORDS
            assert newest.answers["note"] == (None if skipped else text)
            seen["skip" if skipped else "note"] += 1

        note()
        assert seen["note"] and seen["skip"], seen


UNITS = ["", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def spoken(n: int) -> str:
    """How Vietnamese says 0 < n < 1,000,000 in words ("mười hai nghìn năm trăm")."""

    def below_thousand(m: int, inner: bool) -> str:
        hundreds, rest = divmod(m, 100)
        tens, units = divmod(rest, 10)
        parts: list[str] = []
        if hundreds or inner:
            parts += [UNITS[hundreds] or "không", "trăm"]
        if tens == 0 and units:
            parts += (["linh"] if parts else []) + [UNITS[units]]
        elif tens == 1:
            parts += ["mười"] + ([UNITS[units]] if units else [])
        elif tens:
            parts += [UNITS[tens], "mươi"] + ([UNITS[units]] if units else [])
        return " ".join(parts)

    thousands, rest = divmod(n, 1000)
    words = []
    if thousands:
        words += [below_thousand(thousands, False), "nghìn"]
    if rest:
        words.append(below_thousand(rest, bool(thousands)))
    return " ".join(w for w in words if w)


@given(st.integers(min_value=1, max_value=999_999))
def test_numbers_written_in_vietnamese_words_parse_back(n: int) -> None:
    assert parse_number(spoken(n), integer=True) == n
