"""An answer one phone screen at a time, the rest behind "Xem thêm" (a button or a word)."""

from __future__ import annotations

from pathlib import Path

from handlers.paging import PAGE_CHARS, split
from handlers.richtext import Doc
from tests.harness import harness

LONG = "Phòng Kinh tế và Hạ tầng phụ trách gì"  # a unit's duties: well over one screen


def test_pages_are_cut_between_lines_and_keep_every_line() -> None:
    doc = Doc()
    for i in range(40):
        doc.bullet(f"Dòng số {i}: " + "nội dung " * 5)
    pages = split(doc)
    assert len(pages) > 1
    assert all(len(p.plain()) <= PAGE_CHARS for p in pages)
    assert "\n".join(p.plain() for p in pages) == doc.plain()
    one = Doc().add("x" * (PAGE_CHARS * 2))  # a line longer than a page stays whole
    assert [p.plain() for p in split(one)] == [one.plain()]


async def test_a_long_answer_comes_a_screen_at_a_time(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        [first] = await h.say("u1", LONG)
        assert len(first.text) <= PAGE_CHARS
        [more] = [c for c in first.flat_choices() if c.action.startswith("more:")]
        assert more.label.startswith("Xem thêm (2/")
        whole = h.app.deps.qa.answer(LONG, h.clock.today()).text
        read = await h.ask("u2", LONG)
        for line in whole.splitlines():  # nothing of the answer is lost between pages
            assert line in read
        [short] = await h.say("u1", "ai phụ trách tiêu chí 17.4")
        assert not [c for c in short.flat_choices() if c.action.startswith("more:")]


async def test_more_typed_and_after_a_restart(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.say("u1", LONG)
    async with harness(tmp_path) as h:  # a restart: the question is kept with the menu
        [second] = await h.say("u1", "xem thêm")
        assert second.text.startswith("(tiếp theo, phần 2/")
        await h.say("u1", "tiep")
        while any(c.action.startswith("more:") for c in h.replies["u1"][-1].flat_choices()):
            await h.say("u1", "thêm")
        [done] = await h.say("u1", "thêm")
        assert "đã hiển thị hết" in done.text


async def test_a_stale_more_button_does_not_continue_another_answer(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        [first] = await h.say("u1", LONG)
        stale = next(c for c in first.flat_choices() if c.action.startswith("more:"))
        await h.say("u1", "Phòng Tư pháp phụ trách gì")  # another question since
        [reply] = await h.act("u1", stale.action)
        assert "Xin gửi lại câu hỏi" in reply.text
        [forged] = await h.act("u1", "more:p:x:00000000")
        assert "Xin gửi lại câu hỏi" in forged.text


async def test_an_earlier_page_tapped_again_and_english_pages(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        [first] = await h.say("u1", LONG)
        page2 = next(c for c in first.flat_choices() if c.action.startswith("more:"))
        await h.act("u1", page2.action)
        [again] = await h.act("u1", page2.action)  # the same question's page 2, once more
        assert again.text.startswith("(tiếp theo, phần 2/")
        [english] = await h.say(
            "u2", "what are the duties of the Department of Economy and Infrastructure"
        )
        labels = [c.label for c in english.flat_choices()]
        assert any(label.startswith("More (2/") for label in labels), labels
