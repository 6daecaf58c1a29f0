"""An answer a phone screen at a time: the first ~600 characters, the rest behind "Xem thêm".

The button's action names the page and a short key of the question; the question itself is
kept with the menu (a choice's memo), so "xem thêm" works after a restart, on any instance and
when typed, and a stale button (another question asked since) is told so rather than answered
with the wrong question's next page.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from handlers.actions import Actions
from handlers.core import Context, Conversation
from handlers.i18n import N_, Tr
from handlers.qa import PAGE_CHARS, Answer
from handlers.richtext import Doc, it
from handlers.task_view import load_progress
from handlers.types import Choice
from knowledge.normalize import fold

ACTION = "more"
MORE = Actions(ACTION)


@MORE.register("p")
@dataclass(frozen=True)
class Page:
    """Page ``number`` of the answer to the question whose short key is ``key``."""

    number: int
    key: str


def setup(conv: Conversation) -> None:
    conv.action(ACTION, more_action)


def split(doc: Doc, limit: int = PAGE_CHARS) -> list[Doc]:
    """``doc`` in pages of at most ``limit`` characters, cut between lines (a single longer
    line is a page of its own)."""
    return _pages(doc, doc.page_starts(limit))


def _pages(doc: Doc, starts: tuple[int, ...]) -> list[Doc]:
    ends = (*starts[1:], len(doc.lines))
    return [Doc(list(doc.lines[a:b])) for a, b in zip(starts, ends, strict=True)]


def show(ctx: Context, question: str, answer: Answer, page: int = 1) -> None:
    """Reply with page ``page`` of ``answer`` (and "Xem thêm" while pages remain), in the
    answer's language (an English question to a Vietnamese chat is paged in English)."""
    _ = Tr(ctx.deps.translator, answer.lang)
    starts = answer.page_starts  # worked out once, with the answer in the cache
    if starts is None:
        starts = answer.doc.page_starts(PAGE_CHARS)
    if len(starts) == 1:
        ctx.reply(answer.doc, answer.choices)
        return
    pages = _pages(answer.doc, starts)
    page = max(1, min(page, len(pages)))
    doc = Doc()
    if page > 1:
        doc.add(it(_("(tiếp theo, phần {page}/{total})", page=page, total=len(pages))))
    doc.extend(pages[page - 1])
    choices = [list(row) for row in answer.choices] if page == 1 else []
    if page < len(pages):
        memo = json.dumps({"q": question, "l": ctx.lang if ctx.lang_explicit else None})
        label = _("Xem thêm ({page}/{total})", page=page + 1, total=len(pages))
        action = MORE.encode(Page(page + 1, _key(question)))
        choices.append([Choice(label, action, memo=memo)])
    ctx.reply(doc, choices)


async def more_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    page = MORE.decode(action)
    if not isinstance(page, Page):
        ctx.reply(_(GONE))
        return
    # the question is kept with the menu's "Xem thêm"; an earlier page's button of the same
    # answer (tapped again) finds it under the next page's
    memo = await ctx.deps.menus.memo(ctx.user.id, action)
    if memo is None:
        menu = await ctx.deps.menus.get(ctx.user.id)
        offered = menu[0] if menu else []
        same = [a for _l, a in offered if getattr(MORE.decode(a), "key", None) == page.key]
        memo = await ctx.deps.menus.memo(ctx.user.id, same[0]) if same else None
    noted = json.loads(memo) if memo else {}
    question = str(noted.get("q", ""))
    if not question or _key(question) != page.key:
        ctx.reply(_(GONE))
        return
    answer = await answer_for(ctx, question, noted.get("l"))
    show(ctx, question, answer, page.number)


async def answer_for(ctx: Context, question: str, lang: str | None) -> Answer:
    """The answer as this person gets it: their commune's share of the tasks' states."""
    progress = await load_progress(ctx.deps.db, ctx.now.tzinfo)
    commune = ctx.user.commune_id if ctx.is_officer else None
    return ctx.deps.qa.answer(question, ctx.today, lang, progress, commune)


async def go_on(ctx: Context, text: str) -> bool:
    """ "thêm", "tiếp", "more" typed while an answer has pages left: its next page."""
    if len(text) > 12 or fold(text).strip(" .!?") not in _GO_ON:
        return False
    menu = await ctx.deps.menus.get(ctx.user.id)
    action = next((a for _l, a in menu[0] if a.startswith(ACTION + ":")), None) if menu else None
    if action is None:
        ctx.reply(ctx.tr(NOTHING_MORE))  # "thêm" alone asks nothing of the plan
        return True
    await more_action(ctx, action)
    return True


_GO_ON = frozenset(
    {"them", "xem them", "tiep", "xem tiep", "tiep theo", "con nua", "more", "next", "see more"}
)


def _key(question: str) -> str:
    return f"{zlib.crc32(question.encode('utf-8')):08x}"


NOTHING_MORE = N_("Câu trả lời trước đã hiển thị hết. Xin gửi câu hỏi mới.")
GONE = N_("Phần tiếp theo của câu trả lời này không còn. Xin gửi lại câu hỏi để xem đầy đủ.")
