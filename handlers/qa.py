"""Answers to questions about the plan, composed from the data by templates.

:class:`QA` asks the engine and renders the result in Vietnamese or English (gettext). Every
answer also reports, for machines, the owning units it names, the criterion codes and the
dates it mentions (``ntm-bot ask --json``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from handlers.i18n import Tr, Translator
from handlers.menu_actions import (
    CRITERIA,
    DEADLINES,
    UNIT,
    Criterion,
    IndicatorDeadlines,
    Unit,
)
from handlers.richtext import Doc, Part, b, it
from handlers.task_view import Progress, is_done, state_phrase
from handlers.types import Choice
from knowledge import results as r
from knowledge.base import COMMUNES, DeadlineLink, Indicator, KnowledgeBase
from knowledge.engine import Analysis, QueryEngine
from knowledge.models import Deadline, Duty, Fact
from knowledge.passages import CLOSING, LEGAL_BASES, TITLE, Passage
from knowledge.tasks import task_id
from knowledge.temporal import DateRange
from storage.tasks import TaskMark, TaskStatus

MAX_LIST = 12
PAGE_CHARS = 600  # one phone screen of text: the chat shows an answer a page at a time
_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


@dataclass
class Answer:
    question: str
    intent: str
    lang: str
    doc: Doc
    departments: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)
    deadlines: list[str] = field(default_factory=list)
    choices: list[list[Choice]] = field(default_factory=list)
    # Where each phone-screen page starts (handlers.paging), worked out once per answer.
    page_starts: tuple[int, ...] | None = None

    @property
    def text(self) -> str:
        return self.doc.plain()

    def copy(self) -> Answer:
        """An independent copy (lines and spans are immutable, so this is cheap)."""
        return Answer(
            self.question,
            self.intent,
            self.lang,
            Doc(list(self.doc.lines)),
            list(self.departments),
            list(self.criteria),
            list(self.deadlines),
            [list(row) for row in self.choices],
            self.page_starts,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "intent": self.intent,
            "text": self.text,
            "departments": self.departments,
            "criteria": self.criteria,
            "deadlines": self.deadlines,
        }


class QA:
    """Question in, :class:`Answer` out.

    Answers are cached by (question, language, date): the plan does not change while the
    process runs, and officers ask the same questions over and over ("hạn BHYT").
    """

    CACHE_SIZE = 128  # answers to the questions people repeat; each holds its whole text

    def __init__(
        self, kb: KnowledgeBase, translator: Translator, engine: QueryEngine | None = None
    ):
        self.kb = kb
        self.engine = engine or QueryEngine(kb)
        self.translator = translator
        self._cache: OrderedDict[tuple[str, str | None, dt.date, int, int | None], Answer] = (
            OrderedDict()
        )

    def answer(
        self,
        question: str,
        today: dt.date,
        lang: str | None = None,
        progress: Progress | None = None,
        commune_id: int | None = None,
    ) -> Answer:
        """``commune_id``: an officer's commune, whose own share of the communes' tasks the
        deadlines' states speak of."""
        key = (question, lang, today, progress.version if progress else -1, commune_id)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached.copy()
        analysis, result = self.engine.ask(question, today, lang)
        answer = self.render(
            result, analysis, today, lang or analysis.lang, progress, commune_id=commune_id
        )
        answer.page_starts = answer.doc.page_starts(PAGE_CHARS)
        self._cache[key] = answer.copy()
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)
        return answer

    def render(
        self,
        result: r.Result,
        analysis: Analysis | None,
        today: dt.date,
        lang: str,
        progress: Progress | None = None,
        *,
        commune_id: int | None = None,
    ) -> Answer:
        writer = PlanWriter(
            self.kb, Tr(self.translator, lang), today, progress, commune_id=commune_id
        )
        writer.result(result)
        question = analysis.question if analysis else ""
        return Answer(
            question=question,
            intent=result.intent,
            lang=lang,
            doc=writer.doc,
            departments=list(writer.departments),
            criteria=list(writer.criteria),
            deadlines=sorted(writer.dates),
            choices=writer.choices,
        )

    # Browsing helpers used by the chat menus (same templates as answers).
    def indicator(
        self, code: str, today: dt.date, lang: str, *, deadlines_only: bool = False
    ) -> Answer:
        ind = self.kb.indicators[code]
        links = tuple(self.kb.deadlines_for(code))
        result: r.Result = (
            r.Deadlines(links, indicator=ind) if deadlines_only else r.Owner(ind, links)
        )
        return self.render(result, None, today, lang)

    def unit_duties(self, unit: str, today: dt.date, lang: str) -> Answer:
        return self.render(self.engine._duties(unit), None, today, lang)

    def calendar(self, span: DateRange, today: dt.date, lang: str, *, overdue: bool) -> Answer:
        return self.render(self.engine._calendar(span, today, overdue), None, today, lang)


class PlanWriter:
    """Writes the plan (units, deadlines, criteria) in one language as of one day: the answers,
    and the deadline lines of the digest and the reminders, read the same everywhere."""

    def __init__(
        self,
        kb: KnowledgeBase,
        tr: Tr,
        today: dt.date,
        progress: Progress | None = None,
        *,
        commune_id: int | None = None,
    ) -> None:
        self.kb = kb
        self._ = tr
        self.today = today
        self.progress = progress  # tasks' marks: a finished task is not "overdue"
        self.commune_id = commune_id  # whose share of the communes' tasks is told
        self.doc = Doc()
        self.departments: dict[str, None] = {}
        self.criteria: dict[str, None] = {}
        self.dates: set[str] = set()
        self.choices: list[list[Choice]] = []

    # -- small pieces ---------------------------------------------------------------------
    def unit(self, key: str, *, owner: bool = True) -> str:
        unit = self.kb.unit(key)
        if owner and unit.kind != "communes":
            self.departments[unit.name] = None
        if unit.kind == "communes":
            return self._("Các xã")
        if self._.en:
            return f"{unit.name} ({unit.name_en})"
        return unit.name

    def units(self, keys: tuple[str, ...] | list[str], *, owner: bool = True) -> str:
        return "; ".join(self.unit(k, owner=owner) for k in keys)

    def level(self, level: str) -> str:
        return self._("cấp xã") if level == "xa" else self._("cấp huyện")

    def level_title(self, level: str) -> str:
        return self._("Cấp xã") if level == "xa" else self._("Cấp huyện")

    def code(self, ind: Indicator) -> str:
        self.criteria[ind.code] = None
        if ind.is_sub:
            return self._("Chỉ tiêu {label}", label=ind.label)
        return self._("Tiêu chí {label}", label=ind.label)

    def name(self, ind: Indicator) -> str:
        return ind.name_en if self._.en else ind.name

    def title(self, ind: Indicator) -> str:
        return self._(
            "{code} ({level}): {name}",
            code=self.code(ind),
            level=self.level(ind.level),
            name=self.name(ind),
        )

    def date(self, day: dt.date) -> str:
        self.dates.add(day.isoformat())
        return format_date(day, "dd/MM/yyyy", locale=self._.lang)

    def number(self, value: int) -> str:
        # Days left are small: below a thousand Vietnamese and English write a whole number
        # alike (no grouping), and Babel would load each language's whole CLDR data (~2 MB
        # each, bench/load.py) to say so. Larger ones are grouped the language's way.
        if -1000 < value < 1000:
            return str(value)
        return format_decimal(value, locale=self._.lang)

    def when(self, deadline: Deadline) -> str:
        due = deadline.due
        if deadline.period == "month":
            return self._(
                "trong tháng {month}, đến {date}",
                month=f"{due.month:02d}/{due.year}",
                date=self.date(due),
            )
        if deadline.period == "quarter":
            quarter = ["I", "II", "III", "IV"][(due.month - 1) // 3]
            return self._(
                "trong Quý {quarter}/{year}, đến {date}",
                quarter=quarter,
                year=due.year,
                date=self.date(due),
            )
        if deadline.period == "year":
            return self._("trong năm {year}, đến {date}", year=due.year, date=self.date(due))
        return self.date(due)

    def state(self, deadline: Deadline) -> str:
        days = (deadline.due - self.today).days
        if days > 0:
            start = _period_start(deadline)
            if start is not None and start <= self.today:
                return self._.n(
                    "đang trong thời hạn, còn {count} ngày",
                    "đang trong thời hạn, còn {count} ngày",
                    days,
                    count=self.number(days),
                )
            return self._.n("còn {count} ngày", "còn {count} ngày", days, count=self.number(days))
        if days == 0:
            return self._("hạn là hôm nay")
        return self._.n(
            "đã quá hạn {count} ngày", "đã quá hạn {count} ngày", -days, count=self.number(-days)
        )

    def what(self, deadline: Deadline) -> str:
        return deadline.what_en if self._.en else deadline.what

    def appraisal_text(self, unit_key: str) -> str:
        duty = next((d for d in self.kb.duties(unit_key) if d.kind == "appraisal"), None)
        body = None
        if duty is not None:
            body = duty.provincial_body_en if self._.en else duty.provincial_body
        if body:
            return self._(
                "lập hồ sơ, mời {body} thẩm tra, thẩm định và có văn bản đánh giá đạt", body=body
            )
        return self._("có văn bản thẩm tra, thẩm định đánh giá đạt của Sở, ngành cấp tỉnh")

    def unit_task(self, deadline: Deadline, unit: str) -> TaskMark | None:
        """The newest mark of the unit's task for this deadline: a district unit's own, or for
        the communes the share of the commune this is written for (none for the district)."""
        if self.progress is None:
            return None
        if self.kb.is_department(unit):
            return self.progress.of(task_id(deadline.id, unit))
        if self.commune_id is None:
            return None
        return self.progress.of(task_id(deadline.id, unit), self.commune_id)

    def concerned(self, deadline: Deadline) -> tuple[str, ...]:
        """The units a deadline's line speaks of: written for one commune, the communes' share
        when they have one (its state is that commune's), the district units for a goal the
        communes reach together; otherwise every responsible unit."""
        if self.commune_id is not None and COMMUNES in deadline.responsible:
            if deadline.goal:
                units = tuple(u for u in deadline.responsible if self.kb.is_department(u))
                return units or tuple(deadline.responsible)
            return (COMMUNES,)
        return tuple(deadline.responsible)

    def finished(self, deadline: Deadline) -> bool:
        """Every concerned unit has marked its task done (a commune: its own share)."""
        if self.progress is None:
            return False
        marks = [self.unit_task(deadline, u) for u in self.concerned(deadline)]
        return bool(marks) and all(is_done(m) for m in marks)

    def deadline_state(self, deadline: Deadline, units: tuple[str, ...]) -> str:
        """ "đã hoàn thành 12/11/2021" once every unit bound by it has marked its task done;
        otherwise how much time is left (or how late it is)."""
        marks = [self.unit_task(deadline, u) for u in units]
        if units and self.progress is not None and all(is_done(m) for m in marks):
            last = max(self.progress.done_on(m) for m in marks if m is not None)
            done = format_date(last, "dd/MM/yyyy", locale=self._.lang)
            return self._("đã hoàn thành {date}", date=done)
        return self.state(deadline)

    def own_state(self, deadline: Deadline, unit: str) -> str:
        """A unit's own deadline: its task's state once marked ("đã hoàn thành 12/11/2021",
        "vướng mắc: …"), else how much time is left."""
        mark = self.unit_task(deadline, unit)
        if mark is None or mark.status is TaskStatus.OPEN or self.progress is None:
            return self.state(deadline)
        return state_phrase(self._, mark, deadline.due, self.today, self.progress.tz)

    def unit_progress(self, deadline: Deadline, unit: str, *, named: bool = False) -> str:
        """ " — đã hoàn thành 12/11/2021" after a unit's line when it has marked its task
        (``named``: with the unit's name, when the line names several)."""
        mark = self.unit_task(deadline, unit)
        if mark is None or mark.status is TaskStatus.OPEN or self.progress is None:
            return ""
        phrase = state_phrase(self._, mark, deadline.due, self.today, self.progress.tz)
        if named:
            return f" — {self.kb.unit(unit).short or self.kb.unit(unit).name}: {phrase}"
        return f" — {phrase}"

    def deadline_line(
        self, link: DeadlineLink, *, with_units: bool = True, owners: bool = True
    ) -> list[Part]:
        """``owners=False``: the units are named as context, not as the answer's owners."""
        deadline = link.deadline
        state = self.deadline_state(deadline, link.units)
        parts: list[Part] = [b(self.when(deadline)), f" ({state})"]
        if deadline.applies_to_owned and len(link.units) == 1:
            # one unit's part of the shared appraisal: what it must do (which Sở it invites)
            unit = link.units[0]
            text = self.appraisal_text(unit)
            if not with_units:  # the line starts with what is done: "Lập hồ sơ, mời Sở …"
                text = text[:1].upper() + text[1:]
            named: list[Part] = [self.unit(unit, owner=owners), ": "] if with_units else []
            return [*parts, " — ", *named, text, self.unit_progress(deadline, unit)]
        if with_units:
            parts += [" — ", self.units(list(link.units), owner=owners), ": "]
        else:
            parts += [" — "]
        parts.append(self.what(deadline))
        if len(link.units) > 1:
            parts += [self.unit_progress(deadline, unit, named=True) for unit in link.units]
        elif link.units:
            parts.append(self.unit_progress(deadline, link.units[0]))
        return parts

    def deadline_item(
        self, link: DeadlineLink, *, with_units: bool = True, owners: bool = True
    ) -> None:
        """A bullet for the deadline; an appraisal shared by many units lists them below."""
        deadline = link.deadline
        if deadline.applies_to_owned and with_units and len(link.units) > 1:
            self.doc.bullet(
                b(self.when(deadline)), f" ({self.state(deadline)}) — ", self.what(deadline), ":"
            )
            for unit in link.units:
                self.doc.add(
                    "   – ",
                    self.unit(unit, owner=owners),
                    ": ",
                    self.appraisal_text(unit),
                    self.unit_progress(deadline, unit),
                )
            return
        self.doc.bullet(*self.deadline_line(link, with_units=with_units, owners=owners))

    def source(self, text: str) -> None:
        self.doc.add(it(self._("Nguồn: Kế hoạch, mục {section}", section=text)))

    # -- results --------------------------------------------------------------------------
    def result(self, result: r.Result) -> None:
        method = getattr(self, "r_" + type(result).__name__.lower())
        method(result)

    def r_help(self, result: r.Help) -> None:
        _ = self._
        self.doc.add(b(_("Trợ lý NTM — hỏi đáp về Kế hoạch xây dựng nông thôn mới của huyện")))
        self.doc.add(
            _(
                "Tôi trả lời: đơn vị nào phụ trách tiêu chí nào, mỗi đơn vị phải làm gì, "
                "thời hạn nào áp dụng và việc gì đến hạn. Bạn có thể hỏi có dấu, không dấu "
                "hoặc bằng tiếng Anh."
            )
        )
        self.examples()

    def examples(self) -> None:
        _ = self._
        self.doc.add(_("Ví dụ:"))
        for example in (
            _("Ai phụ trách tiêu chí 17.4?"),
            _("Hạn BHYT là khi nào?"),
            _("Phòng Tư pháp phụ trách gì?"),
            _("Việc đến hạn tháng 11/2021"),
            _("Tiêu chí 6 cấp huyện"),
            _("Mỗi xã phải có mấy sản phẩm OCOP?"),
        ):
            self.doc.bullet(example)

    def r_nofigure(self, result: r.NoFigure) -> None:
        _ = self._
        none_given = (
            _("Kế hoạch không nêu số tiền cho nội dung này.")
            if result.money
            else _("Kế hoạch không nêu con số cụ thể cho nội dung này.")
        )
        if isinstance(result.then, r.OutOfScope | r.Suggest):
            # nothing of the plan on it: no figure, and then why (no "the plan says:")
            self.doc.add(b(none_given))
            self.result(result.then)
            return
        self.doc.add(
            b(none_given),
            " ",
            _("Kế hoạch nêu như sau:"),
        )
        self.doc.blank()
        self.result(result.then)

    def r_outofscope(self, result: r.OutOfScope) -> None:
        _ = self._
        self.doc.add(
            _(
                "Xin lỗi, Kế hoạch xây dựng NTM không có thông tin về nội dung này. "
                "Tôi chỉ trả lời về tiêu chí, đơn vị phụ trách, nhiệm vụ và thời hạn "
                "trong Kế hoạch."
            )
        )
        self.examples()

    def r_notthisplan(self, result: r.NotThisPlan) -> None:
        _ = self._
        meta = self.kb.meta
        self.doc.add(
            _(
                "Kế hoạch này là của huyện {district} năm {year}; không có thông tin về {subject}.",
                district=meta.district,
                year=meta.year,
                subject=result.subject_en if _.en else result.subject,
            )
        )
        self.doc.add(
            _(
                "Tôi trả lời về tiêu chí, đơn vị phụ trách, nhiệm vụ, thời hạn và văn bản "
                "của Kế hoạch này, ví dụ: “Ai phụ trách tiêu chí 17.4?”"
            )
        )

    def r_documents(self, result: r.Documents) -> None:
        _ = self._
        if result.recipients:
            self._recipients()
        elif result.this_plan:
            self._this_plan()
        for doc in result.documents:
            kind = self.kb.documents.kinds[doc.kind]
            self.doc.bullet(
                b(
                    _(
                        "{kind} số {number} ngày {date}",
                        kind=kind.name_en if _.en else kind.name,
                        number=doc.number,
                        date=self.date(doc.date),
                    )
                ),
                _(
                    " của {issuer}: {subject}.",
                    issuer=doc.issuer_en if _.en else doc.issuer,
                    subject=doc.subject_en if _.en else doc.subject,
                ),
                it(_(" Trong Kế hoạch: {role}.", role=doc.role_en if _.en else doc.role)),
            )
        if result.documents:
            sources = dict.fromkeys(d.source for d in result.documents)
            self.source("; ".join(sources))

    def _this_plan(self) -> None:
        _ = self._
        meta = self.kb.meta
        self.doc.add(b(meta.title_en if _.en else meta.title))
        self.doc.bullet(
            _("Cơ quan ban hành: {issuer}", issuer=meta.issuer_en if _.en else meta.issuer)
        )
        if meta.number:
            self.doc.bullet(_("Số: {number}", number=meta.number))
        else:
            self.doc.bullet(_("Số văn bản: văn bản Kế hoạch không nêu (để trống)"))
        if meta.date:
            self.doc.bullet(_("Ngày ban hành: {date}", date=self.date(meta.date)))
        else:
            self.doc.bullet(
                _("Ngày ban hành: văn bản không nêu ngày cụ thể (năm {year})", year=meta.year)
            )
        if meta.signed_by:
            self.doc.bullet(_("Người ký: {who}", who=meta.signed_by))

    def _recipients(self) -> None:
        _ = self._
        self.doc.add(
            b(
                _(
                    "Nơi nhận của {title}:",
                    title=self.kb.meta.title_en if _.en else self.kb.meta.title,
                )
            )
        )
        for recipient in self.kb.meta.recipients:
            name = recipient.name_en if _.en else recipient.name
            purpose = recipient.purpose_en if _.en else recipient.purpose
            self.doc.bullet(
                _("{name} ({purpose})", name=name, purpose=purpose) if purpose else name
            )

    def r_clarify(self, result: r.Clarify) -> None:
        _ = self._
        self.doc.add(
            _(
                "Bạn muốn hỏi về tiêu chí, đơn vị hay công việc nào? Xin nêu rõ hơn, "
                "ví dụ số tiêu chí hoặc tên đơn vị."
            )
        )
        self.examples()

    def r_unknowncriterion(self, result: r.UnknownCriterion) -> None:
        _ = self._
        number = result.label.split(".")[0]
        levels = [result.level] if result.level else ["xa", "huyen"]
        parents = [self.kb.indicators.get(f"{lvl}:{number}") for lvl in levels]
        parents_found = [p for p in parents if p is not None]
        if "." in result.label and parents_found:
            for parent in parents_found:
                subs = [self.kb.indicators[c].label for c in parent.children]
                if subs:
                    self.doc.add(
                        _(
                            "{code} ({level}) không có chỉ tiêu {label}; các chỉ tiêu là: {subs}.",
                            code=self.code(parent),
                            level=self.level(parent.level),
                            label=result.label,
                            subs=", ".join(subs),
                        )
                    )
                else:
                    self.doc.add(
                        _(
                            "{code} ({level}) không chia thành chỉ tiêu nhỏ.",
                            code=self.code(parent),
                            level=self.level(parent.level),
                        )
                    )
        else:
            where = _(" ở {level}", level=self.level(result.level)) if result.level else ""
            self.doc.add(
                _(
                    "Không có tiêu chí {label}{where} trong Kế hoạch.",
                    label=result.label,
                    where=where,
                )
            )
        self.doc.add(
            _(
                "Bộ tiêu chí xã có {xa} tiêu chí (1–{xa}); tiêu chí huyện có {huyen} "
                "tiêu chí (1–{huyen}).",
                xa=len(self.kb.criteria.xa),
                huyen=len(self.kb.criteria.huyen),
            )
        )

    def r_owner(self, result: r.Owner) -> None:
        _ = self._
        ind = result.indicator
        self.doc.add(b(self.title(ind)))
        if ind.parent:
            parent = self.kb.indicators[ind.parent]
            self.doc.add(_("Thuộc {code}: {name}.", code=self.code(parent), name=self.name(parent)))
        elif ind.description and not _.en:
            self.doc.add(ind.description)
        subs = [self.kb.indicators[c] for c in ind.children]
        if len(ind.owners) == 1:
            self.doc.add(_("Đơn vị chủ trì, hướng dẫn: "), b(self.unit(ind.owners[0])))
            if subs:
                self.doc.add(_("Gồm các chỉ tiêu:"))
                for sub in subs:
                    self.doc.bullet(f"{self.code(sub)}: {self.name(sub)}")
        else:
            self.doc.add(_("Đơn vị chủ trì theo từng chỉ tiêu:"))
            for sub in subs:
                self.doc.bullet(f"{self.code(sub)} {self.name(sub)}: ", b(self.unit(sub.owners[0])))
        cooperating = list(ind.cooperating)
        if cooperating:
            self.doc.add(_("Đơn vị phối hợp: {units}", units=self.units(cooperating, owner=False)))
        if result.asked_unit is not None:
            owners = set(ind.owners) | {o for s in subs for o in s.owners}
            asked = self.unit(result.asked_unit, owner=False)
            if result.asked_unit in owners:
                self.doc.add(_("Đúng: {unit} là đơn vị chủ trì.", unit=asked))
            elif result.asked_unit in ind.cooperating:
                self.doc.add(_("{unit} là đơn vị phối hợp, không phải đơn vị chủ trì.", unit=asked))
            else:
                self.doc.add(_("{unit} không phải đơn vị chủ trì nội dung này.", unit=asked))
        if result.deadlines:
            self.doc.add(_("Thời hạn:"))
            for link in result.deadlines:
                self.deadline_item(link, owners=False)
        self.source(ind.source)

    def r_topicowner(self, result: r.TopicOwner) -> None:
        _ = self._
        for deadline in result.deadlines:
            self.doc.add(b(self.what(deadline)))
            self.doc.add(_("Đơn vị thực hiện: "), b(self.units(deadline.responsible)))
            state = self.deadline_state(deadline, tuple(deadline.responsible))
            self.doc.add(_("Thời hạn: "), b(self.when(deadline)), f" ({state})")
            self.source(deadline.source)
            self.doc.blank()
        for fact in result.facts:
            self.fact_lines(fact)
            self.doc.add(_("Đơn vị thực hiện: "), b(self.units(fact.who)))
            self.source(fact.source)
            self.doc.blank()
        for ref in result.duties:
            self.doc.add(b(self.duty_text(ref.unit, ref.duty)))
            self.doc.add(_("Đơn vị thực hiện: "), b(self.unit(ref.unit)))
            if ref.duty.with_units:
                self.doc.add(
                    _(
                        "Đơn vị phối hợp: {units}",
                        units=self.units(ref.duty.with_units, owner=False),
                    )
                )
            if ref.duty.deadline:
                deadline = self.kb.deadline_by_id[ref.duty.deadline]
                state = self.own_state(deadline, ref.unit)
                self.doc.add(_("Thời hạn: "), b(self.when(deadline)), f" ({state})")
            self.source(ref.duty.source)
            self.doc.blank()

    def r_deadlines(self, result: r.Deadlines) -> None:
        _ = self._
        if result.indicator is not None:
            self.doc.add(b(_("Thời hạn — {title}", title=self.title(result.indicator))))
        elif result.unit is not None:
            self.doc.add(b(_("Thời hạn của {unit}", unit=self.unit(result.unit))))
        else:
            self.doc.add(b(_("Thời hạn theo Kế hoạch")))
        if not result.links:
            self.doc.add(_("Kế hoạch không đặt thời hạn cụ thể cho nội dung này."))
            return
        for link in result.links:
            self.deadline_item(link, with_units=result.unit is None)
        if len(result.links) == 1:
            deadline = result.links[0].deadline
            self.doc.add(it(_("Kế hoạch ghi: “{quote}”", quote=deadline.quote)))
            self.source(deadline.source)

    def r_calendar(self, result: r.Calendar) -> None:
        _ = self._
        span = result.range
        if result.overdue_first:
            self.overdue_lines(result)
            self.doc.blank()
        self.doc.add(b(self.range_title(span)))
        if result.due:
            for deadline in result.due[: MAX_LIST * 2]:
                self.deadline_item(DeadlineLink(deadline, self.concerned(deadline)))
        else:
            self.doc.add(_("Không có việc nào đến hạn trong khoảng thời gian này."))
            later = [d for d in self.kb.deadlines if d.due > span.end]
            if later:  # everything that falls due on the next date, not just one of it
                nearest = [d for d in later if d.due == later[0].due]
                self.doc.add(_("Thời hạn gần nhất sau đó: "), b(self.when(nearest[0])))
                for deadline in nearest:
                    self.doc.bullet(f"{self.what(deadline)} ({self.units(deadline.responsible)})")
        if result.include_overdue and not result.overdue_first:
            self.doc.blank()
            self.overdue_lines(result)
        listed = [*result.due[: MAX_LIST * 2], *result.overdue[:MAX_LIST]]
        sections = dict.fromkeys(s for d in listed for s in _sections_of(d.source))
        if sections:
            self.source(", ".join(sorted(sections, key=_section_key)))

    def overdue_lines(self, result: r.Calendar) -> None:
        _ = self._
        # what every concerned unit has finished is not overdue, whatever its date
        overdue = sorted(
            (d for d in result.overdue if not self.finished(d)), key=lambda d: d.due, reverse=True
        )
        if not overdue:
            if result.overdue_first:
                self.doc.add(b(_("Không có việc nào đã quá hạn.")))
            return
        self.doc.add(
            b(
                _.n(
                    "Đã quá hạn: {count} việc",
                    "Đã quá hạn: {count} việc",
                    len(overdue),
                    count=len(overdue),
                )
            )
        )
        for deadline in overdue[:MAX_LIST]:
            self.deadline_item(DeadlineLink(deadline, self.concerned(deadline)))
        if len(overdue) > MAX_LIST:
            self.doc.add(_("… và {count} việc khác.", count=len(overdue) - MAX_LIST))

    def range_title(self, span: DateRange) -> str:
        _ = self._
        if span.kind == "until":  # no start date worth naming
            return _("Việc phải xong trước hoặc đúng ngày {date}", date=self.date(span.end))
        if span.kind == "after":  # nor an end date
            return _(
                "Việc đến hạn sau ngày {date}",
                date=self.date(span.start - dt.timedelta(days=1)),
            )
        start, end = self.date(span.start), self.date(span.end)
        if span.kind == "day":
            return _("Việc đến hạn ngày {date}", date=start)
        if span.kind == "month":
            return _(
                "Việc đến hạn trong tháng {month} ({start} – {end})",
                month=f"{span.start.month:02d}/{span.start.year}",
                start=start,
                end=end,
            )
        if span.kind == "quarter":
            quarter = ["I", "II", "III", "IV"][(span.start.month - 1) // 3]
            return _(
                "Việc đến hạn trong Quý {quarter}/{year} ({start} – {end})",
                quarter=quarter,
                year=span.start.year,
                start=start,
                end=end,
            )
        if span.kind == "year":
            return _("Việc đến hạn trong năm {year}", year=span.start.year)
        if span.kind == "days":
            return _(
                "Việc đến hạn trong {count} ngày tới ({start} – {end})",
                count=span.days or 0,
                start=start,
                end=end,
            )
        return _("Việc đến hạn từ {start} đến {end}", start=start, end=end)

    def fact_lines(self, fact: Fact) -> None:
        _ = self._
        subject = fact.subject_en if _.en else fact.subject
        value = fact.value_en if _.en else fact.value
        self.doc.add(f"{subject}: ", b(value))
        if fact.deadline:
            deadline = self.kb.deadline_by_id[fact.deadline]
            self.doc.add(_("Thời hạn: "), b(self.when(deadline)), f" ({self.state(deadline)})")

    def r_facts(self, result: r.Facts) -> None:
        _ = self._
        self.doc.add(b(_("Theo Kế hoạch:")))
        for fact in result.facts:
            self.doc.blank()
            self.fact_lines(fact)
            if fact.who:
                self.doc.add(_("Đơn vị thực hiện: {units}", units=self.units(fact.who)))
            self.doc.add(it(_("Kế hoạch ghi: “{quote}”", quote=fact.quote)))
            self.source(fact.source)
        for deadline in result.deadlines:
            self.doc.blank()
            self.deadline_item(DeadlineLink(deadline, tuple(deadline.responsible)))

    def duty_text(self, unit: str, duty: Duty) -> str:
        _ = self._
        if duty.kind == "appraisal":
            # ``subject`` names the dossier ("hồ sơ kết quả tỷ lệ …"), as the tasks do
            subject = (duty.subject_en if _.en else duty.subject) or _(
                "hồ sơ kết quả thực hiện các tiêu chí được giao"
            )
            body = duty.provincial_body_en if _.en else duty.provincial_body
            return _(
                "Lập {subject}; mời {body} thẩm tra, thẩm định và có văn bản đánh giá đạt",
                subject=subject,
                body=body,
            )
        return (duty.text_en if _.en else duty.text) or ""

    def r_duties(self, result: r.Duties) -> None:
        _ = self._
        self.doc.add(b(_("{unit} — nhiệm vụ theo Kế hoạch", unit=self.unit(result.unit))))
        for level in ("xa", "huyen"):
            owned = [i for i in result.owned if i.level == level]
            if not owned:
                continue
            listed = "; ".join(f"{self.code(i)} ({self.name(i)})" for i in owned)
            if level == "xa":
                self.doc.bullet(
                    _(
                        "Chỉ đạo các xã củng cố, nâng cao chất lượng tiêu chí xã: {items}",
                        items=listed,
                    )
                )
            else:
                self.doc.bullet(_("Chủ trì lập hồ sơ tiêu chí huyện: {items}", items=listed))
        for duty in result.duties:
            parts: list[Part] = [self.duty_text(result.unit, duty)]
            if duty.with_units:
                parts.append(
                    _(" (phối hợp: {units})", units=self.units(duty.with_units, owner=False))
                )
            if duty.deadline:
                deadline = self.kb.deadline_by_id[duty.deadline]
                state = self.own_state(deadline, result.unit)
                parts += [" — ", _("hạn "), b(self.when(deadline)), f" ({state})"]
            self.doc.bullet(*parts)
        for deadline in result.deadlines:
            self.doc.bullet(
                self.what(deadline),
                " — ",
                _("hạn "),
                b(self.when(deadline)),
                f" ({self.own_state(deadline, result.unit)})",
            )
        for ind in result.cooperating:
            owners = self.units(list(ind.owners), owner=False)
            self.doc.bullet(
                _(
                    "Phối hợp thực hiện {title} (chủ trì: {owners})",
                    title=self.title(ind),
                    owners=owners,
                )
            )
        self.source(self.kb.unit(result.unit).source)

    def r_listcriteria(self, result: r.ListCriteria) -> None:
        _ = self._
        for level in result.levels:
            items = self.kb.top_level(level)
            title = (
                _("Bộ tiêu chí xã ({count} tiêu chí)", count=len(items))
                if level == "xa"
                else _("Tiêu chí huyện ({count} tiêu chí)", count=len(items))
            )
            self.doc.add(b(title))
            for ind in items:
                self.criteria[ind.code] = None
                owners = "; ".join(self.unit(o) for o in ind.owners)
                self.doc.add(f"{ind.label}. {self.name(ind)} — {owners}")
            self.doc.blank()

    def r_listunits(self, result: r.ListUnits) -> None:
        _ = self._
        self.doc.add(b(_("Các đơn vị trong Kế hoạch")))
        for unit in self.kb.units:
            if unit.kind == "communes":
                continue
            owned = self.kb.owned_by(unit.key)
            codes = ", ".join(f"{self.level(i.level)} {i.label}" for i in owned)
            self.doc.bullet(self.unit(unit.key, owner=False), f" — {codes}" if codes else "")

    def r_listcommunes(self, result: r.ListCommunes) -> None:
        _ = self._
        communes = self.kb.communes.communes
        xa = [c.name for c in communes if c.kind == "xa"]
        towns = [c.name for c in communes if c.kind == "thi_tran"]
        self.doc.add(
            b(
                _(
                    "Huyện {district} có {xa} xã và {towns} thị trấn",
                    district=self.kb.meta.district,
                    xa=len(xa),
                    towns=len(towns),
                )
            )
        )
        self.doc.add(_("Xã: {names}", names=", ".join(xa)))
        if towns:
            self.doc.add(_("Thị trấn: {names}", names=", ".join(towns)))
        self.source(self.kb.communes.source)

    def r_ambiguous(self, result: r.Ambiguous) -> None:
        _ = self._
        self.doc.add(
            _(
                "“{label}” có ở cả hai cấp — xin chọn cấp hoặc hỏi kèm “xã”/“huyện”:",
                label=result.label
                if not result.label[0].isdigit()
                else _("Tiêu chí {label}", label=result.label),
            )
        )
        row: list[Choice] = []
        for level, option in result.options:
            self.doc.blank()
            self.doc.add(b(self.level_title(level)))
            if isinstance(option, r.Owner):
                ind = option.indicator
                owners = "; ".join(self.unit(o) for o in ind.owners)
                self.doc.add(f"{self.code(ind)}. {self.name(ind)} — ", b(owners))
                row.append(Choice(self.level_title(level), CRITERIA.encode(Criterion(ind.code))))
            else:
                self.result(option)
                if isinstance(option, r.Deadlines) and option.indicator is not None:
                    row.append(
                        Choice(
                            self.level_title(level),
                            DEADLINES.encode(IndicatorDeadlines(option.indicator.code)),
                        )
                    )
        if row:
            self.choices.append(row)

    def section(self, passage: Passage) -> str:
        _ = self._
        if passage.section == LEGAL_BASES:
            return _("phần căn cứ của Kế hoạch")
        if passage.section == CLOSING:
            return _("phần kết của Kế hoạch")
        if passage.section == TITLE:
            return _("phần đầu của Kế hoạch")
        return _("mục {section} của Kế hoạch", section=passage.section)

    def r_passages(self, result: r.Passages) -> None:
        _ = self._
        for unit in result.units:
            self.unit(unit)
        for i, passage in enumerate(result.passages):
            if i:
                self.doc.blank()
            where = self.section(passage)
            about = (
                f" — {passage.lead}" if passage.lead and passage.lead not in passage.text else ""
            )
            self.doc.add(b(_("Theo {where}{about}:", where=where, about=about)))
            self.quote(passage)
        if _.en:
            self.doc.add(it(_("(The plan is quoted in Vietnamese, as written.)")))

    def quote(self, passage: Passage, *, bullet: bool = False) -> None:
        """The plan's words, with the time it gives the whole list they stand in."""
        (self.doc.bullet if bullet else self.doc.add)(f"“{passage.text}”")
        if passage.closing:
            self.doc.add(self._("Cho cả mục này: “{closing}”", closing=passage.closing))
        for day, month, year in _DATE.findall(f"{passage.text} {passage.closing}"):
            self.dates.add(dt.date(int(year), int(month), int(day)).isoformat())

    def r_suggest(self, result: r.Suggest) -> None:
        _ = self._
        asked = {
            "owner": _("đơn vị phụ trách"),
            "deadline": _("thời hạn"),
            "duties": _("nhiệm vụ"),
            "fact": _("mục tiêu, số liệu"),
        }
        understood = ", ".join(asked[c] for c in result.understood if c in asked)
        if understood:
            self.doc.add(
                _("Tôi hiểu bạn hỏi về {what}, nhưng chưa chắc về nội dung nào.", what=understood)
            )
        else:
            self.doc.add(_("Tôi chưa chắc đã hiểu đúng câu hỏi."))
        self.doc.add(_("Có phải bạn muốn hỏi về:"))
        row: list[Choice] = []
        for topic in result.options:
            kind, _sep, key = topic.partition(":")
            if kind == "ind":
                ind = self.kb.indicators[key]
                self.doc.bullet(f"{self.code(ind)} ({self.level(ind.level)}): {self.name(ind)}")
                row.append(
                    Choice(
                        self._(
                            "{code} ({level})", code=self.code(ind), level=self.level(ind.level)
                        ),
                        CRITERIA.encode(Criterion(key)),
                    )
                )
            elif kind == "dl":
                self.doc.bullet(self.what(self.kb.deadline_by_id[key]))
            elif kind == "fact":
                fact = self.kb.fact_by_id[key]
                self.doc.bullet(fact.subject_en if _.en else fact.subject)
            elif kind == "duty":
                unit = key.partition(":")[0]
                name = self.kb.unit(unit).name
                self.doc.bullet(_("Nhiệm vụ của {unit}", unit=name))
                row.append(Choice(name[:38], UNIT.encode(Unit(unit))))
        self.doc.add(it(_("Xin hỏi lại rõ hơn, ví dụ kèm số tiêu chí hoặc tên đơn vị.")))
        if row:
            self.choices.append(row[:3])

    def r_communeactions(self, result: r.CommuneActions) -> None:
        _ = self._
        self.doc.add(b(_("Việc các xã phải làm theo Kế hoạch:")))
        for passage in result.passages:
            self.quote(passage, bullet=True)
        if result.passages:
            self.source("; ".join(dict.fromkeys(p.section for p in result.passages)))
        for fact in result.facts:
            self.fact_lines(fact)
            self.source(fact.source)
        for link in result.links:
            self.deadline_item(link, with_units=False)
            self.source(link.deadline.source)
        owners = list(dict.fromkeys(o for ind in result.indicators for o in ind.owners))
        if owners:
            self.doc.blank()
            topics = "; ".join(f"{self.code(ind)} ({self.name(ind)})" for ind in result.indicators)
            self.doc.add(
                _("Đơn vị hướng dẫn các xã ({topics}): ", topics=topics), b(self.units(owners))
            )

    def r_several(self, result: r.Several) -> None:
        for i, part in enumerate(result.parts):
            if i:
                self.doc.blank()
            self.result(part)


def _sections_of(source: str) -> list[str]:
    """The sections alone: "III.1.1 (Về BHYT); III.1.2 (…)" → ["III.1.1", "III.1.2"]."""
    parts = [re.sub(r"\s*\(.*?\)", "", part).strip() for part in source.split(";")]
    return [p for p in parts if p]


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


def _section_key(section: str) -> tuple[int, ...]:
    head, _, rest = section.partition(".")
    numbers = [int(n) for n in rest.split(".") if n.isdigit()]
    return (_ROMAN.get(head, 99), *numbers)


def _period_start(deadline: Deadline) -> dt.date | None:
    due = deadline.due
    if deadline.period == "month":
        return due.replace(day=1)
    if deadline.period == "quarter":
        return dt.date(due.year, 3 * ((due.month - 1) // 3) + 1, 1)
    if deadline.period == "year":
        return dt.date(due.year, 1, 1)
    return None
