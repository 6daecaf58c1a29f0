"""Understand a question about the plan and find the answer in the data.

:meth:`QueryEngine.analyze` turns the question into an :class:`Analysis` (language, intent
cues, criterion codes, units, level, date range, scored topics); :meth:`QueryEngine.resolve`
turns that into a :mod:`knowledge.results` object. No answer text is produced here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from knowledge import results as r
from knowledge.base import COMMUNES, DeadlineLink, Indicator, KnowledgeBase
from knowledge.documents import Document, DocumentFinder
from knowledge.duty_search import DutySearch
from knowledge.gazetteer import COMMUNE, DISTRICT, PROVINCE, Home, PlaceFinder, load_gazetteer
from knowledge.lexicon import CitizenMatter, Lexicon, Phrase, load_lexicon
from knowledge.matching import Entry, PhraseIndex, Speller, TopicMatch
from knowledge.models import Deadline
from knowledge.normalize import (
    Typed,
    clean,
    find_phrase,
    fold,
    fold_bulk,
    fold_word,
    has_diacritics,
    is_syllable,
    modern_tones,
    tokenize,
    typed_forms,
    typed_tokens,
    words,
)
from knowledge.passages import Passage
from knowledge.retrieval import Hit, PlanSearch
from knowledge.temporal import (
    DEFAULT_UPCOMING_DAYS,
    DateRange,
    find_range,
    full_dates,
    next_days,
)

# Words that say what kind of thing is meant rather than which: optional inside phrases.
STRUCTURAL = frozenset(
    {"tieu", "chi", "noi", "dung", "so", "cap", "xa", "huyen", "cua", "va", "cac", "o"}
    | {"criterion", "criteria", "indicator"}
)
_CRITERION_MARKER = re.compile(r"\b(?:tieu chi|chi tieu|criterion|criteria|tc)\b")
_COMMAND = re.compile(r"^/([A-Za-z_]+)(?:@\w+)?(?:\s|$)")
_CODE = re.compile(r"^\d{1,2}(?:\.\d{1,2})?$")
_RANGE_WORDS = frozenset({"den", "toi", "to", "through", "till", "until"})
# "18.1-18.4" and "18.1 – 18.4" say "from … to …" (the hyphen does not survive tokenizing).
_DASHED_RANGE = re.compile(r"(\d{1,2}\.\d{1,2})\s*[-–—]\s*(\d{1,2}\.\d{1,2})")
_SUB_CODE = re.compile(r"^\d{1,2}\.\d{1,2}$")
_MARKERS: tuple[Phrase, ...] = (
    ("tieu", "chi"),
    ("chi", "tieu"),
    ("noi", "dung"),
    ("sub", "indicator"),
    ("criterion",),
    ("criteria",),
    ("indicator",),
)
# Words of a date or a window ("đến hết tháng sau"): they say when, not about what.
_TIME_WORDS = frozenset(
    {"thang", "ngay", "tuan", "nam", "quy", "het", "cuoi", "dau", "sau", "toi", "nay", "nua"}
    | {"sang", "giua", "vong"}
    | {
        "tu",
        "den",
        "hom",
        "mai",
        "qua",
        "truoc",
        "gio",
        "bay",
        "month",
        "week",
        "year",
        "day",
        "days",
    }
)
# The time words as written: a word typed with other marks is another word ("đèn", "đầu tư").
_TIME_SPELLED = frozenset(
    {"tháng", "ngày", "tuần", "năm", "quý", "hết", "cuối", "đầu", "sau", "tới", "nay", "nữa"}
    | {"từ", "đến", "hôm", "mai", "qua", "trước", "giờ", "bây", "sang", "giữa", "vòng"}
)
# The programme and the plan every question here is about: naming them says nothing of the
# subject ("kế hoạch phấn đấu bao nhiêu xã đạt chuẩn NTM").
_PROGRAMME: tuple[Phrase, ...] = (
    ("chuong", "trinh", "xay", "dung", "nong", "thon", "moi"),
    ("chuong", "trinh", "nong", "thon", "moi"),
    ("nong", "thon", "moi"),
    ("ntm",),
    ("new", "rural"),
    ("ke", "hoach"),
    ("kh",),
)
# Words before a unit that make it a partner or an object of the question, not its subject.
_OBJECT_MARKERS: tuple[Phrase, ...] = (
    ("voi",),
    ("cung",),
    ("ngoai",),
    ("chi", "dao"),
    ("huong", "dan"),
    ("giup",),
    ("with",),
)
_PLAN_WORDS: tuple[Phrase, ...] = (("ke", "hoach"), ("kh",), ("plan",))
# Words that may stand between "kế hoạch" and the year that names it.
_PLAN_NAME_WORDS = frozenset(
    {"ntm", "nong", "thon", "moi", "xay", "dung", "cua", "huyen", "nam", "for", "of", "the"}
    | {"trieu", "son", "thanh", "hoa", "ntm's", "rural", "new", "in"}
)
_THIS_PLAN: tuple[Phrase, ...] = (
    ("ke", "hoach", "nay"),
    ("kh", "nay"),
    ("van", "ban", "nay"),
    ("this", "plan"),
    ("the", "plan"),
)
# "có mấy chỉ tiêu", "bao nhiêu đơn vị": a count of the plan's parts, which its lists give.
_PLAN_PARTS: tuple[Phrase, ...] = (
    ("chi", "tieu"),
    ("tieu", "chi"),
    ("noi", "dung"),
    ("don", "vi"),
    ("phong",),
    ("xa",),
    ("thon",),
    ("viec",),
    ("nhiem", "vu"),
    ("van", "ban"),
    ("criteria",),
    ("criterion",),
    ("indicators",),
    ("units",),
    ("departments",),
    ("communes",),
)
_DATES = re.compile(r"\d{1,2}/\d{1,2}(?:/\d{4})?|\b(?:19|20)\d\d\b|\b\d{1,2}\.\d{1,2}\b")
_FIGURE = re.compile(r"\d")
# "What income must communes reach?", "which rate should the district achieve": a level asked
# with the words apart (a cue phrase holds its words together).
_LEVEL_ASKED = re.compile(
    r"^(?:what|which) (?!criteria|criterion|documents?|steps?|tasks?|must|should|do|does)"
    r"(?:\w+ ){0,4}?(?:must|should|need to|needs to|has to|have to) (?:\w+ ){0,3}?"
    r"(?:reach|achieve|attain)\b"
)
# An amount of money, asked and given.
_MONEY_FIGURE = re.compile(r"\d[\d.,]*\s*(?:đồng|tỷ|triệu|nghìn|ngàn|vnđ|vnd|\$)", re.IGNORECASE)
_MONEY_WORDS: tuple[Phrase, ...] = (
    ("bao", "nhieu", "tien"),
    ("may", "tien"),
    ("bao", "nhieu", "ty"),
    ("bao", "nhieu", "trieu"),
    ("may", "trieu"),
    ("may", "ty"),
    ("kinh", "phi"),
    ("how", "much", "money"),
    ("funding",),
    ("budget",),
    ("cost",),
)
_VOWEL = re.compile(r"[aeiouy]")
_CODE_FILLERS = frozenset(
    {"so", "thu", "xa", "huyen", "cap", "number", "no", "the", "of", "level", "commune", "district"}
)
_CODE_SEPARATORS = frozenset({"va", "and", "hoac", "or", "voi"})
_LEVEL_WORDS = {
    "xa": "xa",
    "commune": "xa",
    "communes": "xa",
    "huyen": "huyen",
    "district": "huyen",
}
MIN_TOPIC_SCORE = 1.0
WEAK_COVERAGE = 0.6  # a best topic explaining less of the question's plan words is doubted
# Words that name a criterion: a question with one asks of the plan, whatever else it says
_CRITERION_MARKERS = (("tieu", "chi"), ("chi", "tieu"), ("criterion",), ("criteria",))
NAMED_ELSEWHERE = 0.7  # … or less, with two words of another subject side by side
OFF_TOPIC_COVERAGE = 0.6  # … and less of all its words, with others the plan never uses: no answer
TIE = 0.995
FIRM_TOPIC = 3.0  # a topic score that is more than a lone word's (several words, or a rare one)
CLEAR_LEAD = 0.5  # another criterion scoring under this share of the best is no close choice
DOMINANT = 0.6  # a part explaining this much of its criterion's match is what is meant


@dataclass(frozen=True)
class CodeRef:
    label: str
    level: str | None
    explicit: bool
    position: int

    @property
    def number(self) -> int:
        return int(self.label.split(".")[0])


@dataclass
class Analysis:
    question: str
    lang: str
    tokens: list[str]
    cues: set[str]
    codes: list[CodeRef]
    units: list[str]
    level: str | None
    range: DateRange | None
    topics: list[TopicMatch]
    unit_positions: set[int] = field(default_factory=set)
    levels: frozenset[str] = frozenset()  # every level named ("cấp xã và cấp huyện": both)
    typed: Typed | None = None  # how the user spelled each word (None: spelling forgiven)
    cue_positions: frozenset[int] = frozenset()  # words that say what is asked ("ai", "hạn")
    written: str = "vi"  # the language the question is written in (``lang``: of the answer)
    raw: list[str] = field(default_factory=list)  # the words as typed (folded), uncorrected
    as_typed: list[str] = field(default_factory=list)  # for each token, the raw word it is from
    # The plan's own communes the question names ("xã em là Thọ Bình"): who asks, not what
    home_positions: frozenset[int] = frozenset()
    # Words that frame every question to this plan rather than say what it is about: the
    # plan's own district and province, the programme's name ("NTM ở Triệu Sơn")
    frame_positions: frozenset[int] = frozenset()
    folded: str = ""  # the question folded
    spelling: Typed | None = None  # how each word was typed (always, unlike ``typed``)

    def has(self, *cues: str) -> bool:
        return any(c in self.cues for c in cues)


class QueryEngine:
    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon | None = None) -> None:
        self.kb = kb
        self.lexicon = lexicon or load_lexicon()
        self._unit_aliases = self._build_unit_aliases()
        # the plan's own place names, said in English questions too ("from Trieu Son to …")
        self._place_words = frozenset(words(f"{kb.meta.district} {kb.meta.province}"))
        # short forms people type ("bhyt", "ubnd", "tnmt"): not English for being no syllable
        self._short_forms = frozenset(self.lexicon.abbreviations) | {
            w for phrase in self._unit_aliases for w in phrase if not is_syllable(w)
        }
        self._cues_by_first: dict[str, list[tuple[str, Phrase]]] = {}
        for name, phrases in self.lexicon.cues.items():
            for phrase in phrases:
                self._cues_by_first.setdefault(phrase[0], []).append((name, phrase))
        self._matters_by_first: dict[str, list[CitizenMatter]] = {}
        for matter in self.lexicon.citizen_matters:
            self._matters_by_first.setdefault(matter.folded[0], []).append(matter)
        # English question words that are cues of their own ("when": a date is asked)
        self._opening_cues = {
            phrase[0]: name
            for name, phrases in self.lexicon.cues.items()
            for phrase in phrases
            if len(phrase) == 1 and phrase[0] in self.lexicon.english_stopwords
        }
        # the same, with their short forms spelled out as a question's are ("qs" → "quân sự")
        self._expanded_aliases = {
            tuple(self.lexicon.expand(list(phrase))): key
            for phrase, key in self._unit_aliases.items()
        }
        self._district_phrases = {
            tuple(words(f"huyện {kb.meta.district}")),
            tuple(words(f"{kb.meta.district} district")),
        }
        self._frame_phrases: tuple[Phrase, ...] = tuple(
            sorted(
                {tuple(words(name)) for name in (kb.meta.district, kb.meta.province)}
                | set(_PROGRAMME)
                | set(self.lexicon.framing),
                key=len,
                reverse=True,
            )
        )
        self._spelled_words: set[str] = set()  # the topics' words as the plan spells them
        self.index = self._build_index()
        self.search = PlanSearch(kb.passages, self.lexicon)
        # Words the plan itself uses (its text and the curated phrases): only they can tell
        # whether a topic explains the question; a word the plan never uses cannot.
        self._plan_words = frozenset(self.index.vocabulary()) | self.search.vocabulary
        # The words the plan's topics, units, communes and text are named with, folded and as
        # written: a word outside them is another subject ("phạt", "tuyển"); "hoàn thiện" is not.
        names = [u.name for u in kb.units] + [c.name for c in kb.communes.communes]
        for name in names:
            self._spelled_words.update(f for forms in typed_forms(name).values() for f in forms)
        text = " ".join(p.text for p in kb.passages)
        self._known_words = (
            frozenset(self.index.vocabulary())
            | {w for phrase in self._unit_aliases for w in phrase}
            | {w for name in names for w in words(name)}
            | set(tokenize(fold_bulk(text)))
        )
        self._known_spelled = frozenset(
            self._spelled_words | {modern_tones(w) for w in re.findall(r"\w+", text.lower())}
        )
        del self._spelled_words
        self._commune_names: dict[str, list[Phrase]] = {}  # by their first word
        commune_names = {tuple(words(c.name)) for c in kb.communes.communes}
        for phrase in sorted(commune_names, key=len, reverse=True):
            self._commune_names.setdefault(phrase[0], []).append(phrase)
        self.speller = self._build_speller()
        self._vi_words = self._vietnamese_vocabulary()
        self._deadline_months = {(d.due.year, d.due.month) for d in kb.deadlines}
        self.documents = DocumentFinder(kb.documents)
        self.duty_search = DutySearch(kb)
        self._commune_sections = self._sections_for_communes()
        self.places = self._build_places()
        # the two-word compounds the plan's topics are named with ("đánh giá", "hạ tầng")
        self._topic_pairs = frozenset(
            pair
            for topic in self.index.topics()
            for entry in self.index.entries(topic)
            for pair in itertools.pairwise(entry.tokens)
        )
        self._years = self._plan_years()
        self._cited_plan_years = {
            d.date.year for d in kb.documents.documents if d.kind == "ke-hoach"
        }

    # -- building ---------------------------------------------------------------------------
    def _build_unit_aliases(self) -> dict[Phrase, str]:
        aliases: dict[Phrase, str] = {}
        for unit in self.kb.units:
            for text in [unit.name, *([unit.short] if unit.short else []), *unit.aliases]:
                phrase = tuple(words(text))
                if phrase:
                    aliases.setdefault(phrase, unit.key)
        for unit in self.kb.units:  # written aliases first: a generated one never overrides
            for phrase in _acronym_aliases(unit.short):
                aliases.setdefault(phrase, unit.key)
            for text in _english_office_names(unit.name_en):
                aliases.setdefault(tuple(words(text)), unit.key)
            for text in [*([unit.short] if unit.short else []), *unit.aliases]:
                # "KT-HT" typed "kt ht": the pieces of an acronym apart ("TT&DL": "tt và dl")
                if re.search(r"\w[-&]\w", text):
                    for joined in (" ", " và "):
                        apart = re.sub(r"(?<=\w)&(?=\w)", joined, text)
                        phrase = tuple(words(re.sub(r"(?<=\w)-(?=\w)", " ", apart)))
                        aliases.setdefault(phrase, unit.key)
        for phrase, key in list(aliases.items()):
            if phrase[:2] == ("trung", "tam") and len(phrase) > 3:
                aliases.setdefault(("tt", *phrase[2:]), key)  # "TT văn hóa thông tin …"
            if phrase[0] == "phong" and len(phrase) > 1:
                aliases.setdefault(("p", *phrase[1:]), key)  # "p. kt ht", "p tư pháp"
                if len(phrase) == 2 and not _VOWEL.search(phrase[1]):
                    aliases.setdefault(("p" + phrase[1],), key)  # "pgd", "pktht"
        return aliases

    def _entries(self, texts: Iterable[str], english: bool = False) -> list[Entry]:
        entries: list[Entry] = []
        for text in texts:
            tokens = self.lexicon.expand(words(text))
            if english:
                tokens = [t for t in tokens if t not in self.lexicon.english_stopwords]
            if not tokens:
                continue
            spelled: tuple[str | None, ...] | None = None
            if not english:
                plan_words = typed_forms(text)
                for forms in plan_words.values():
                    self._spelled_words.update(forms)
                spelled = tuple(
                    next(iter(plan_words[t])) if len(plan_words.get(t, ())) == 1 else None
                    for t in tokens
                )
            entries.append(Entry(tuple(tokens), spelled))
        return entries

    def _build_index(self) -> PhraseIndex:
        index = PhraseIndex(stop_tokens=STRUCTURAL)
        kb = self.kb
        for ind in kb.indicators.values():
            own = self._entries([ind.name, *ind.keywords]) + self._entries(
                [ind.name_en, *ind.keywords_en], english=True
            )
            for child in ind.children:
                sub = kb.indicators[child]
                own += self._entries(sub.keywords) + self._entries(sub.keywords_en, english=True)
            index.add(f"ind:{ind.code}", own)
        for deadline in kb.deadlines:
            index.add(
                f"dl:{deadline.id}",
                self._entries(deadline.keywords)
                + self._entries(deadline.keywords_en, english=True),
            )
        for fact in kb.facts:
            index.add(
                f"fact:{fact.id}",
                self._entries(fact.keywords) + self._entries(fact.keywords_en, english=True),
            )
        for doc in kb.documents.documents:
            kind = kb.documents.kinds[doc.kind]
            named = [k for k in doc.keywords if fold(k).startswith(fold(kind.name) + " ")]
            # "kế hoạch phân công …" typed "kh phân công …": the kind by its short forms too
            shortened = [
                short + k[len(kind.name) :] for k in named for short in kind.short if short
            ]
            index.add(
                f"doc:{doc.id}",
                self._entries([*doc.keywords, *shortened])
                + self._entries(doc.keywords_en, english=True),
            )
        for unit in kb.units:
            for i, duty in enumerate(unit.duties):
                if duty.keywords:
                    index.add(f"duty:{unit.key}:{i}", self._entries(duty.keywords))
        index.build()
        return index

    def _sections_for_communes(self) -> frozenset[str]:
        """The plan's sections that say what the communes must do (where their deadlines and
        targets are written, and their own duties)."""
        sources = [d.source for d in self.kb.deadlines if COMMUNES in d.responsible]
        sources += [f.source for f in self.kb.facts if COMMUNES in f.who]
        found = Counter(
            m[1] for source in sources for m in re.finditer(r"(?:^|;\s*)([IVX]+(?:\.\d+)+)", source)
        )
        # and the sections of the communes' own duties ("Ở xã", "công trình biểu tượng")
        duties = [duty.source for duty in self.kb.unit(COMMUNES).duties if duty.source]
        return frozenset(
            [section for section, _ in found.most_common(1)]
            + [m[1] for source in duties for m in re.finditer(r"([IVX]+(?:\.\d+)+)", source)]
        )

    def _plan_years(self) -> set[int]:
        """The years the plan is about: its own, its deadlines', and those its criteria and
        targets name ("Luật Hợp tác xã năm 2012", "quy hoạch giai đoạn 2021-2030"); not the
        dates of the documents it cites."""
        kb = self.kb
        texts = [kb.meta.title]
        for ind in kb.indicators.values():
            texts += [ind.name, ind.description or "", *ind.keywords]
        for fact in kb.facts:
            texts += [fact.value, *fact.keywords]
        for deadline in kb.deadlines:
            texts += [deadline.what, *deadline.keywords]
        years = {kb.meta.year} | {d.due.year for d in kb.deadlines}
        for text in texts:
            years.update(int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", text))
        return years

    def _build_places(self) -> PlaceFinder:
        kb = self.kb
        communes = {
            tuple(words(name))
            for commune in kb.communes.communes
            for name in [commune.name, *commune.aliases]
        }
        home = Home(
            {
                PROVINCE: frozenset({tuple(words(kb.meta.province))}),
                DISTRICT: frozenset({tuple(words(kb.meta.district))}),
                COMMUNE: frozenset(communes),
            }
        )
        plan_text = " ".join(fold_bulk(p.text) for p in kb.passages)
        everyday = self.lexicon.known_words | self.lexicon.question_words
        common = self._plan_words | everyday
        return PlaceFinder(load_gazetteer(), home, plan_text, common, everyday)

    def _build_speller(self) -> Speller:
        vocabulary = self.index.vocabulary()
        for phrase in self._unit_aliases:
            vocabulary.update(phrase)
        for cue_phrases in self.lexicon.cues.values():
            for phrase in cue_phrases:
                vocabulary.update(phrase)
        protected = (
            set(self.lexicon.known_words)
            | set(self.lexicon.english_markers)
            | set(self.lexicon.english_stopwords)
            | set(self.lexicon.abbreviations)
            | STRUCTURAL
        )
        for commune in self.kb.communes.communes:
            vocabulary.update(words(commune.name))
        phrases = [e.tokens for t in self.index.topics() for e in self.index.entries(t)]
        phrases += list(self._unit_aliases)
        phrases += [p for cue in self.lexicon.cues.values() for p in cue]
        bigrams = {pair for p in phrases for pair in itertools.pairwise(p)}
        return Speller(vocabulary, protected, bigrams)

    def _vietnamese_vocabulary(self) -> frozenset[str]:
        vi: set[str] = set(self.lexicon.known_words) | STRUCTURAL
        for phrase in self._unit_aliases:
            vi.update(phrase)
        for ind in self.kb.indicators.values():
            for text in [ind.name, *ind.keywords]:
                vi.update(words(text))
        vi.update(self.lexicon.abbreviations)
        return frozenset(vi - self.lexicon.english_markers)

    # -- analysis ---------------------------------------------------------------------------
    def analyze(self, question: str, today: dt.date, lang: str | None = None) -> Analysis:
        text = clean(question)
        folded = _DASHED_RANGE.sub(r"\1 den \2", fold(text))
        raw = tokenize(folded)
        written = self._detect_lang(raw, text)
        detected = lang or written
        corrected: list[str] = []
        typed_at: list[int] = []  # the raw word each corrected word comes from
        for k, word in enumerate(raw):
            for fixed in self.speller.correct_token(word, corrected[-1] if corrected else None):
                corrected.append(fixed)
                typed_at.append(k)
        units, unit_spans, district_spans = self._find_units(corrected)
        tokens: list[str] = []
        origin: list[int] = []
        for i, token in enumerate(corrected):
            for piece in self.lexicon.abbreviations.get(token, (token,)):
                tokens.append(piece)
                origin.append(i)
        unit_positions = {j for j, i in enumerate(origin) if i in unit_spans}
        district_positions = {j for j, i in enumerate(origin) if i in district_spans}
        # "ban chỉ huy qs huyện", "phòng yte": a unit named with a short form of its words
        more, spans, _ = self._find_units(tokens, self._expanded_aliases)
        for key in more:
            if key not in units:
                units.append(key)
        unit_positions |= spans - district_positions
        home = self._home_communes(tokens, text)
        ignored = set(unit_positions) | home
        if detected == "en":
            ignored |= {j for j, t in enumerate(tokens) if t in self.lexicon.english_stopwords}
        cues, cue_positions = self._find_cues(tokens, ignored, unit_positions)
        if detected == "en" and "deadline" not in cues and _LEVEL_ASKED.search(" ".join(tokens)):
            cues.add("figure")  # "what income per head must communes reach": a level asked
        codes = self._expand_ranges(tokens, self._find_codes(tokens))
        code_positions = {c.position for c in codes}
        levels = self._find_levels(tokens, unit_positions | district_positions)
        level = next(iter(levels)) if len(levels) == 1 else None
        date_range = find_range(" ".join(tokens), today, self._default_year)
        typed: Typed | None = typed_forms(text)
        if _CRITERION_MARKER.search(folded) or self._plan_question(
            tokens, cues, cue_positions | unit_positions
        ):
            # "tiêu chí … điên", "ai phụ trách điên": the question is clearly about the plan,
            # so a wrong tone mark is a typo, not another word; forgive it
            typed = None
        topics = self.index.match(tokens, ignored | code_positions, typed)
        if units and not cues & {"duties", "task"}:
            # "trung tâm văn hóa huyện đạt chuẩn …": the words that name a unit also name a
            # criterion word for word; asked about, not asked what it does, it is the criterion.
            whole = self.index.match(tokens, (ignored - unit_positions) | code_positions, typed)
            # (unless the rest of the question names a task of the unit: "when must the
            # district culture centre finish the reports and images")
            if (
                whole
                and whole[0].topic.startswith("ind:")
                and whole[0].contiguous
                and unit_positions <= whole[0].positions
                and not any(
                    t.score >= 0.5 * whole[0].score
                    and any(self._belongs(t.topic, u) for u in units)
                    for t in topics
                    if not t.positions & unit_positions
                )
            ):
                units, unit_positions, topics = [], set(), whole
        topics = [t for t in topics if t.score >= MIN_TOPIC_SCORE]
        spelling = typed_forms(text)
        plain = {
            i
            for i, t in enumerate(tokens)
            if t in self.lexicon.question_words
            and not any(
                has_diacritics(f) and f not in self.lexicon.question_words_spelled
                for f in spelling.get(t, ())
            )
        }
        # "xa co dc trong cho von cap tren ko": "cho" typed plainly is the word "cho", not "chợ"
        # (a topic named by one such word alone, in a question that asks nothing of it, is no
        # topic; "chợ" typed so still is)
        frame = self._framing(tokens)
        # a topic said only by the words that ask ("kế hoạch của xã gửi cho ai": "cho" of the
        # cue "gửi cho ai" is no market) is no topic
        topics = [
            t
            for t in topics
            if not (t.positions & cue_positions and t.positions <= cue_positions | frame)
        ]
        if not cues:  # (asked nothing of it: "ai quản lý chợ" plainly typed still asks)
            # (nor with the programme's name: "trong cho von … de lam ntm" is no "chợ nông thôn")
            topics = [
                t
                for t in topics
                if not (len(t.positions - frame) == 1 and t.positions - frame <= plain)
            ]
        if any(not t.positions <= frame for t in topics):
            # "when must the commune's remaining NTM criteria be finished": the programme's
            # name frames the question; what it is about is the rest ("NTM là gì" still asks it)
            topics = [t for t in topics if not t.positions <= frame]
        if not (
            cues & {"legal"}
            or self.documents.kinds_in(raw) - {"ke-hoach"}
            or self.documents.number_asked(raw, tokens)  # ("kh số bn": short forms spelled out)
        ):
            # a document's subject is what it is about, not what the plan asks ("tiêu chí
            # huyện"): asked about only as a document ("quyết định nào", "căn cứ")
            topics = [t for t in topics if not t.topic.startswith("doc:")]
        return Analysis(
            question=question,
            lang=detected,
            tokens=tokens,
            cues=cues,
            codes=codes,
            units=units,
            level=level,
            range=date_range,
            topics=topics,
            unit_positions=unit_positions,
            levels=frozenset(levels),
            typed=typed,
            cue_positions=frozenset(cue_positions),
            written=written,
            raw=raw,
            home_positions=frozenset(home),
            frame_positions=frozenset(frame),
            as_typed=[raw[typed_at[i]] for i in origin],
            folded=folded,
            spelling=spelling,
        )

    def _detect_lang(self, tokens: list[str], text: str) -> str:
        if has_diacritics(text):
            return "vi"
        english = sum(1 for t in tokens if t in self.lexicon.english_markers)
        # words no Vietnamese syllable is ("renew", "passport"), nor a short form: two or more
        # (one may be a command or syllables run together: "/tieuchi")
        foreign = sum(
            1
            for t in tokens
            if len(t) >= 4 and t.isalpha() and not is_syllable(t) and t not in self._short_forms
        )
        english += foreign if foreign >= 2 else 0
        vietnamese = sum(1 for t in tokens if t in self._vi_words and t not in self._place_words)
        return "en" if english > vietnamese else "vi"

    def _find_units(
        self, tokens: list[str], aliases: dict[Phrase, str] | None = None
    ) -> tuple[list[str], set[int], set[int]]:
        """Unit mentions (longest alias first) and the district's own name."""
        found: list[str] = []
        spans: set[int] = set()
        district: set[int] = set()
        for key, start, size in self._scan_units(tokens, aliases):
            if key is None:
                district.update(range(start, start + size))
                continue
            if key not in found:
                found.append(key)
            spans.update(range(start, start + size))
        return found, spans, district

    def _scan_units(
        self, tokens: list[str], aliases: dict[Phrase, str] | None = None
    ) -> Iterable[tuple[str | None, int, int]]:
        """Each unit alias (its key) or the district's name (``None``) in the question, longest
        first, as (key, start, size)."""
        aliases = self._unit_aliases if aliases is None else aliases
        longest = max((len(p) for p in aliases), default=1)
        i = 0
        while i < len(tokens):
            for size in range(min(longest, len(tokens) - i), 0, -1):
                window = tuple(tokens[i : i + size])
                key = aliases.get(window)
                if key is not None or window in self._district_phrases:
                    yield key, i, size
                    i += size
                    break
            else:
                i += 1

    def _find_cues(
        self, tokens: list[str], skip: set[int], units: set[int]
    ) -> tuple[set[str], set[int]]:
        """Cue phrases, matched on the question without unit names (and English stopwords):
        the cues found, and the positions of the words that said them."""
        found: set[str] = set()
        positions: set[int] = set()
        kept = [i for i in range(len(tokens)) if i not in skip]
        text = [tokens[i] for i in kept]
        # Several-word cues are specific enough to match with English stopwords in place
        # ("what must", "who does"); single words only among the words that carry meaning.
        whole = [i for i in range(len(tokens)) if i not in units]
        whole_text = [tokens[i] for i in whole]
        starts_kept = _starts(text)
        starts_whole = _starts(whole_text)
        present = starts_kept.keys() | starts_whole.keys()
        candidates = [
            entry for token in present for entry in self._cues_by_first.get(token, ())
        ]  # (only the phrases whose first word the question has)
        for name, phrase in candidates:  # every phrase: "hạn là khi nào" says it twice
            for indices, words_, starts in (
                (kept, text, starts_kept),
                (whole, whole_text, starts_whole),
            ):
                if len(phrase) == 1 and indices is whole:
                    continue
                start = _first(words_, phrase, starts)
                if start is not None:
                    found.add(name)
                    positions.update(indices[start : start + len(phrase)])
                    break
        opening = next((i for i in range(len(tokens)) if i not in units), None)
        if opening is not None and opening in skip and tokens[opening] in self._opening_cues:
            # "When must the centre finish …", "Who is …": the word an English question opens
            # with says what it asks, though a stopword elsewhere
            found.add(self._opening_cues[tokens[opening]])
            positions.add(opening)
        return found, positions

    def _find_codes(self, tokens: list[str]) -> list[CodeRef]:
        codes: list[CodeRef] = []
        i = 0
        n = len(tokens)
        while i < n:
            marker = next((m for m in _MARKERS if tuple(tokens[i : i + len(m)]) == m), None)
            if marker is None:
                if _SUB_CODE.match(tokens[i]):
                    codes.append(CodeRef(tokens[i], None, False, i))
                i += 1
                continue
            j = i + len(marker)
            level: str | None = None
            while j < n and tokens[j] in _CODE_FILLERS:
                level = _LEVEL_WORDS.get(tokens[j], level)
                j += 1
            found: list[tuple[str, int]] = []
            while j < n and (_CODE.match(tokens[j]) or (found and tokens[j] in _CODE_SEPARATORS)):
                if _CODE.match(tokens[j]):
                    found.append((tokens[j], j))
                j += 1
            if found:
                after = tokens[j : j + 2]
                if after and after[0] in ("cap", "cua", "o") and len(after) > 1:
                    # "tiêu chí 8 cấp xã", "tiêu chí số 8 của xã"
                    level = (
                        _LEVEL_WORDS.get(after[1], level) if after[1] in ("xa", "huyen") else level
                    )
                elif after:
                    level = (
                        _LEVEL_WORDS.get(after[0], level) if after[0] in ("xa", "huyen") else level
                    )
                codes.extend(CodeRef(label, level, True, pos) for label, pos in found)
            i = max(j, i + 1)
        return codes

    def _expand_ranges(self, tokens: list[str], codes: list[CodeRef]) -> list[CodeRef]:
        """ "18.1 đến 18.4" names 18.1, 18.2, 18.3 and 18.4 (same criterion, in order)."""
        out: list[CodeRef] = []
        for ref in codes:
            previous = out[-1] if out else None
            between = tokens[previous.position + 1 : ref.position] if previous else []
            if (
                previous is not None
                and "." in previous.label
                and "." in ref.label
                and previous.number == ref.number
                and len(between) == 1
                and between[0] in _RANGE_WORDS
            ):
                first = int(previous.label.split(".")[1])
                last = int(ref.label.split(".")[1])
                for sub in range(first + 1, last):
                    label = f"{ref.number}.{sub}"
                    out.append(CodeRef(label, ref.level, ref.explicit, previous.position))
            out.append(ref)
        return out

    def _find_levels(self, tokens: list[str], skip: set[int]) -> set[str]:
        levels: set[str] = set()
        for i, word in enumerate(tokens):
            if i in skip or word not in _LEVEL_WORDS:
                continue
            if word == "xa":
                following = tokens[i + 1] if i + 1 < len(tokens) else ""
                if following == "hoi" or tokens[i - 2 : i] == ["hop", "tac"]:
                    continue
            levels.add(_LEVEL_WORDS[word])
        return levels

    def _default_year(self, month: int) -> int:
        year = self.kb.meta.year
        for candidate in (year, year + 1, year - 1):
            if (candidate, month) in self._deadline_months:
                return candidate
        return year

    # -- resolution -------------------------------------------------------------------------
    def ask(
        self, question: str, today: dt.date, lang: str | None = None
    ) -> tuple[Analysis, r.Result]:
        analysis = self.analyze(question, today, lang)
        command = self._command(question, today)
        if command is not None:
            return analysis, command
        return analysis, self.resolve(analysis, today)

    def _command(self, question: str, today: dt.date) -> r.Result | None:
        """The browsing commands answer outside the chat too (``ntm-bot ask "/tieuchi"``)."""
        match = _COMMAND.match(question.strip())
        if match is None:
            return None
        name = match[1].lower()
        if name in ("tieuchi", "criteria"):
            return r.ListCriteria(("xa", "huyen"))
        if name in ("donvi", "units"):
            return r.ListUnits()
        if name in ("hanchot", "deadlines"):
            return self._calendar(next_days(today, DEFAULT_UPCOMING_DAYS), today, True)
        if name in ("help", "start", "trogiup", "huongdan"):
            return r.Help()
        return None

    def resolve(self, a: Analysis, today: dt.date) -> r.Result:
        result = self._resolve(a, today)
        personal = isinstance(result, r.OutOfScope) and result.personal
        if self._asks_figure(a) and not personal:
            money = self._asks_money(a)  # (only where a figure is asked: not every question)
            if self._lacks_figure(result, _MONEY_FIGURE if money else _FIGURE) or (
                isinstance(result, r.OutOfScope | r.Suggest) and self._about_the_plan(a)
            ):
                # "tổng kinh phí bao nhiêu tỷ": no figure, and what the plan says instead
                return r.NoFigure(self._figure_owner(a, result), money)
        if a.has("owner", "task"):
            result = self._narrowed(a, result)
        elif a.units and isinstance(result, r.Deadlines) and result.indicator is None:
            result = self._unit_part(a, result)
        return result

    def _unit_part(self, a: Analysis, result: r.Deadlines) -> r.Deadlines:
        """ "phòng y tế phải có văn bản đánh giá trước ngày nào": of deadlines many units
        share, the part of the one unit named."""
        named = {u for u in a.units if any(u in link.deadline.responsible for link in result.links)}
        if len(named) != 1:
            return result
        unit = named.pop()
        links = tuple(
            DeadlineLink(link.deadline, (unit,))
            for link in result.links
            if unit in link.deadline.responsible
        )
        return r.Deadlines(links, unit=unit)

    def _described(self, a: Analysis) -> list[str]:
        """The question's own words for what is done (not its time, cue or unit words; the
        district's name kept: "trường THPT Triệu Sơn" is a name a duty may say)."""
        return [
            a.tokens[i]
            for i in self._content_positions(a, framed=True)
            if a.tokens[i] not in _TIME_WORDS
        ]

    def _narrowed(self, a: Analysis, result: r.Result) -> r.Result:
        """ "ai mời Sở Xây dựng thẩm định": of the units a shared deadline binds, the one whose
        own duty the question describes, not all fourteen."""
        deadlines: tuple[Deadline, ...] = ()
        if isinstance(result, r.TopicOwner) and not (result.facts or result.duties):
            deadlines = result.deadlines
        elif isinstance(result, r.Deadlines) and result.indicator is None:
            deadlines = tuple(link.deadline for link in result.links)
        units = {u for d in deadlines for u in d.responsible if self.kb.is_department(u)}
        if len(units) < 3:
            return result
        named = [u for u in a.units if u in units]
        if len(named) == 1:  # "phòng y tế phải có văn bản đánh giá …": that unit's part
            ids = {d.id for d in deadlines}
            duty = next((d for d in self.kb.duties(named[0]) if d.deadline in ids), None)
            if duty is not None:
                return r.TopicOwner(duties=(r.DutyRef(named[0], duty),))
        hit = self.duty_search.find(self._described(a), a.tokens, units, strict=False)
        if hit is None:
            return result
        return r.TopicOwner(duties=(r.DutyRef(hit.unit, hit.duty),))

    def _named_criterion(self, a: Analysis) -> Indicator | None:
        """A criterion named by its subject right after "tiêu chí"/"chỉ tiêu" ("tiêu chí môi
        trường cấp huyện"): as good as its number."""
        for start in (
            i
            for i in range(len(a.tokens) - 1)
            if tuple(a.tokens[i : i + 2]) in (("tieu", "chi"), ("chi", "tieu"))
        ):
            after = start + 2
            while after < len(a.tokens) and a.tokens[after] in ("ve", "so", "cua"):
                after += 1  # "tiêu chí về chợ"
            if after in a.frame_positions:
                continue  # "các tiêu chí NTM": the programme's, no one criterion
            # (a topic read also in words before the marker still starts there: "chợ xã lụp
            # xụp …, tiêu chí chợ nông thôn ai phụ trách")
            named = [
                (match, self.kb.indicators[match.topic[4:]])
                for match in a.topics
                if match.topic.startswith("ind:")
                and after in match.positions
                and not match.positions & set(range(start, after))  # ("tiêu" is no "nhà tiêu")
            ]
            named = [(m, ind) for m, ind in named if a.level is None or ind.level == a.level]
            # the words after it name a criterion only when no other topic reads them better
            # ("chỉ tiêu nhà tắm nhà tiêu hợp vệ sinh" is 17.6's, not "nhà tạm" of criterion 9;
            # a criterion and its parts are one reading, told apart below)
            named = [
                (m, ind)
                for m, ind in named
                if not any(
                    other.score > m.score
                    and after in other.positions
                    and _criterion_of(other.topic) != _criterion_of(m.topic)
                    for other in a.topics
                    if other.topic.startswith("ind:")
                )
            ]
            named = self._part_named(a, after, named)
            # the one named by the words right there, all of them ("tc điện": criterion 4)
            whole = [ind for m, ind in named if _run_from(m, after) == _positions_from(m, after)]
            chosen = whole or [ind for _, ind in named]
            if len({ind.level for ind in chosen}) > 1:
                return None  # "tiêu chí giao thông": both levels have one; the level is asked
            if chosen:
                return chosen[0]
        return None

    def _part_named(
        self, a: Analysis, after: int, named: list[tuple[TopicMatch, Indicator]]
    ) -> list[tuple[TopicMatch, Indicator]]:
        """Of a criterion and its parts read after the marker: the criterion where the words
        are its own name or keyword ("tiêu chí môi trường", "tiêu chí y tế xã"), else the part
        ("tc mai táng" is 17.4, "tiêu chí an toàn thực phẩm" 17.8)."""
        dropped: set[str] = set()
        for m, ind in named:
            parts = [(pm, part) for pm, part in named if part.parent == ind.code]
            if not parts:
                continue
            said = tuple(a.tokens[i] for i in _run_from(m, after))
            while said and (said[-1] in _LEVEL_WORDS or said[-1] == "cap"):
                said = said[:-1]  # ("y tế xã": the level, not the subject)
            own = {tuple(words(text)) for text in (ind.name, *ind.keywords)}
            if said in own:
                dropped.update(part.code for _, part in parts)
            else:
                dropped.add(ind.code)
        return [(m, ind) for m, ind in named if ind.code not in dropped]

    def _by_duty(self, a: Analysis) -> r.TopicOwner | None:
        """Who does the task the question describes, when a unit's duty says it better than
        any topic does ("bên nào đôn đốc nhà thầu làm nhanh đường giao thông")."""
        if a.codes or a.units or not a.has("task", "owner", "deadline"):
            return None
        hit = self.duty_search.find(self._described(a), a.tokens)
        if hit is None:
            return None
        content = self._measured(a)
        topical = (
            len(a.topics[0].positions.intersection(content)) / len(content)
            if a.topics and content
            else 0.0
        )
        if hit.share < topical + 0.1:
            return None
        if not a.has("task", "owner") and (topical >= 0.5 or hit.duty.deadline is None):
            return None  # a date asked: a duty only where no topic says it and it has one
        return r.TopicOwner(duties=(r.DutyRef(hit.unit, hit.duty),))

    def _asks_figure(self, a: Analysis) -> bool:
        """A rate, amount or count is asked ("phải đạt bao nhiêu %"), not a date ("mấy ngày
        nữa") or a count of the plan's own parts ("có mấy chỉ tiêu")."""
        if not a.has("figure") or a.has(
            "deadline", "calendar", "overdue", "list", "list_units", "list_communes", "legal"
        ):
            return False
        said = self._figure_words(a)
        if not said and not (a.written == "en" and _LEVEL_ASKED.search(" ".join(a.tokens))):
            return False  # "phần mềm máy tính": its cue word was another word, typed so
        if a.has("owner") and said == {("may",)}:
            return False  # "xã có mấy cái nghĩa trang … phòng nào hướng dẫn": "some", not a count
        return not self._counts_parts(a)

    def _figure_words(self, a: Analysis) -> set[tuple[str, ...]]:
        """The figure cue's phrases the question says (the longest, where one holds another)."""
        found = [p for p in self.lexicon.cues["figure"] if find_phrase(a.tokens, p) is not None]
        forms = (a.spelling or {}).get("may", frozenset())
        if forms and all(has_diacritics(f) for f in forms) and "mấy" not in forms:
            found = [p for p in found if "may" not in p]  # "máy tính" is no "mấy"
        return {p for p in found if not any(len(q) > len(p) and _holds(q, p) for q in found)}

    def _counts_parts(self, a: Analysis) -> bool:
        """ "có mấy chỉ tiêu", "how many criteria": the plan's lists answer it."""
        for phrase in self._figure_words(a):  # (whole: "mấy phần trăm" is no "mấy phần")
            start = find_phrase(a.tokens, phrase) if phrase in _COUNTING else None
            if start is not None:
                after = a.tokens[start + len(phrase) : start + len(phrase) + 2]
                if after and any(after[: len(p)] == list(p) for p in _PLAN_PARTS):
                    return True
        return False

    def _lacks_figure(self, result: r.Result, figure: re.Pattern[str] = _FIGURE) -> bool:
        """The answer found gives no number for what was asked (``figure``: an amount of
        money, when money was asked: "thôn kiểu mẫu được hỗ trợ bao nhiêu tiền" is not
        answered by "ít nhất 01 thôn")."""
        if isinstance(result, r.Facts):
            return not any(figure.search(_DATES.sub(" ", f.value)) for f in result.facts)
        if isinstance(result, r.Owner):
            facts = self.kb.facts_for(result.indicator.code)
            return not any(figure.search(_DATES.sub(" ", f.value)) for f in facts)
        if isinstance(result, r.Several):
            return all(self._lacks_figure(part, figure) for part in result.parts)
        if isinstance(result, r.Passages):
            text = " ".join(p.text for p in result.passages)
            return not figure.search(_DATES.sub(" ", text))
        if isinstance(result, r.CommuneActions):  # its facts and the plan's words it quotes
            text = " ".join([*(f.value for f in result.facts), *(p.text for p in result.passages)])
            return not figure.search(_DATES.sub(" ", text))
        return isinstance(result, r.TopicOwner | r.Deadlines)

    def _figure_owner(self, a: Analysis, result: r.Result) -> r.Result:
        """What the plan says where it gives no figure: the criterion's owner and dates, where
        a criterion reads the question as well as the deadline found ("đường giao thông xã
        phải rộng bao nhiêu m": criterion 2's, not only the communes' upkeep date)."""
        if not isinstance(result, r.Deadlines) or not a.topics:
            return result  # (not a doubt made sure: a choice offered stays offered)
        top = a.topics[0]
        criteria = [
            m.topic[4:]
            for m in a.topics
            if m.topic.startswith("ind:")
            and m.score >= TIE * top.score
            and m.positions >= top.positions  # (it reads every word the deadline was found by)
            and self._level_ok(m.topic, a.level)
        ]
        if len(criteria) != 1:
            return result  # (none, or both levels' "tiêu chí 2" with no level said)
        return self._owner(a, self.kb.indicators[criteria[0]])

    def _asks_money(self, a: Analysis) -> bool:
        """An amount of money is asked ("bao nhiêu tiền", "kinh phí", "how much money"), not
        a count of what gets it ("how many model villages get funding")."""
        if find_phrase(a.tokens, ("how", "many")) is not None:
            return False
        return any(find_phrase(a.tokens, phrase) is not None for phrase in _MONEY_WORDS)

    def _resolve(self, a: Analysis, today: dt.date) -> r.Result:
        has_subject = bool(a.codes or a.units or a.topics)
        if not a.tokens:
            return r.Help()
        elsewhere = self._other_place(a)
        if elsewhere is not None:  # (before the documents: "tỉnh Nghệ An … theo qđ nào")
            return elsewhere
        documents = self._documents(a)  # (before other years and sets: "kh phân công năm
        if documents is not None:  # 2020 số mấy", "qđ 1415 có phải bộ tiêu chí mới không")
            return documents
        elsewhere = self._other_set(a) or self._other_year(a)
        if elsewhere is not None:
            return elsewhere
        if not a.codes and self._citizen_matter(a):
            return r.OutOfScope(personal=True)  # "thẻ BHYT bị mất làm lại ở đâu"
        named = self._named_criterion(a)
        if named is not None and a.has("owner", "task") and not (a.codes or a.units):
            # "tiêu chí môi trường cấp huyện do phòng nào lập hồ sơ": each criterion's dossier
            # is its owner's, whatever the task's own words match
            return self._owner(a, named)
        if (
            self._asks_where(a)
            and not a.has("owner")
            and a.written == "vi"
            and self._untopical_words(a)
        ):
            return r.OutOfScope()  # "mua sản phẩm OCOP ở đâu làm quà tết": a place to go
        by_duty = self._by_duty(a)
        if by_duty is not None:
            return by_duty  # "việc thống nhất số liệu … là của đơn vị nào"
        listing = not a.codes and not a.units and not a.has("deadline", "calendar", "duties")
        if listing and a.has("owner", "task") and self._topic_carries(a):
            listing = False  # "hình ảnh minh chứng các tiêu chí là việc của ai": a task's owner
        if listing and a.has("list_units") and not a.topics:
            return r.ListUnits()
        if listing and a.has("list_communes") and not a.topics:
            return r.ListCommunes()
        if listing and a.has("list") and (not a.topics or not self._subject_positions(a)):
            # ("nhà văn hóa thôn gồm những gì": "gồm những gì" of a topic, not of the criteria)
            return r.ListCriteria((a.level,) if a.level else ("xa", "huyen"))
        if a.codes:
            return self._resolve_codes(a)
        if (
            a.units
            and not a.topics
            and (
                self._mostly_untopical(a)
                or self._untopical_head(a)
                or (self._asks_where(a) and COMMUNES not in a.units)  # (not "xã gửi … ở đâu")
            )
        ):
            # "đăng ký kết hôn ở ubnd xã cần mang gì": a unit named, about nothing of the plan
            return r.OutOfScope()
        if a.units:
            unit_result = self._resolve_unit(a, today)
            if unit_result is not None:
                return unit_result
        if a.has("owner") and not (a.codes or a.units) and self._read_two_ways(a):
            # "nhà văn hóa thôn dột nát, phòng nào": "nhà … dột nát" is housing's, "nhà văn
            # hóa thôn" culture's; neither owner is a confident answer, the choice is asked
            return self._suggest_two(a)
        if a.topics and not a.codes and self._off_topic(a):
            # "phí bảo hiểm y tế", "trường mầm non tuyển giáo viên": the subject is a word the
            # plan's topics never use and the topic found explains a part of the question only;
            # the plan's own text may still say it
            return self._passages(a) or r.OutOfScope()
        if a.range is not None and self._is_calendar(a):
            return self._calendar(a.range, today, include_overdue=a.has("overdue"))
        named_own = bool(a.units) and any(self._belongs(a.topics[0].topic, u) for u in a.units)
        if a.topics and a.written == "vi" and self._weak(a) and not named_own:
            # (English phrases are too sparse; a topic of the unit named is no stray word:
            # "còn mấy ngày để mttq hoàn thiện hồ sơ sự hài lòng")
            # The best topic explains little of the question: the plan's text may say more;
            # if it does not, offer the closest topics rather than answer something else
            # (unless the topic's own phrase is there, word for word).
            found = self._passages(a)
            if found is not None:
                return found
            doubted = not a.topics[0].contiguous or self._foreign_words(a)
            if doubted and not self._clearly_asked(a):
                return self._suggest(a)
        if a.topics:
            topical = self._resolve_topics(a)
            if topical is not None:
                return topical
        if (
            a.has("calendar", "overdue")
            and (a.has("deadline", "overdue") or "viec" in a.tokens)
            and not (a.written == "vi" and self._untopical_words(a))
        ):  # ("đổi bằng lái xe hết hạn": another subject's expiry, not the plan's calendar)
            upcoming = self._calendar(next_days(today, DEFAULT_UPCOMING_DAYS), today, True)
            return replace(upcoming, overdue_first=a.has("overdue"))
        if a.has("help") and not has_subject:
            return r.Help()
        found = self._passages(a)
        if found is not None:
            return found
        if a.has("owner", "deadline", "duties", "fact") and not has_subject:
            if self._content_positions(a):
                # "ai là tổng thống Mỹ", "khi nào có bão": a subject the plan does not have,
                # not a question that forgot its subject
                return r.OutOfScope()
            asked = next(c for c in ("owner", "deadline", "duties", "fact") if a.has(c))
            return r.Clarify(asked)
        return r.OutOfScope()

    # the plan's documents, and what is not this plan -----------------------------------------
    def _asks_recipients(self, a: Analysis, kinds: set[str]) -> bool:
        """ "kế hoạch này gửi cho những ai", "nơi nhận": whom the plan is sent to — asked of
        the plan itself, in words that say nothing else ("báo cáo gửi cho ai", "nơi nhận hồ
        sơ", "kế hoạch của xã gửi cho ai" ask of something else)."""
        if not a.has("recipients") or a.codes or a.units or not self.kb.meta.recipients:
            return False
        said = _phrase_positions(a.tokens, self.lexicon.cues["recipients"])
        plan = _phrase_positions(a.tokens, _THIS_PLAN + _PLAN_WORDS)
        if not plan and kinds != {"ke-hoach"} and find_phrase(a.tokens, ("noi", "nhan")) is None:
            return False
        after_plan = a.tokens[max(plan) + 1 : max(plan) + 3] if plan else []
        if after_plan[:1] == ["xa"] or after_plan == ["cua", "xa"]:
            return False  # the commune's own plan ("kế hoạch của xã gửi cho ai")
        rest = [i for i in self._content_positions(a) if i not in said | plan]
        # (the words that ask it name no topic: "gửi cho" is no "chợ", "plan" no goal)
        return not rest and all(t.positions <= said | plan for t in a.topics)

    def _documents(self, a: Analysis) -> r.Documents | r.NotThisPlan | None:
        """A document the plan cites, asked by number, issuer, kind or subject; the plan itself
        ("kế hoạch này ai ký"); the legal bases ("căn cứ pháp lý")."""
        finder = self.documents
        kinds = finder.kinds_in(a.raw)
        cited_kinds = kinds - {"ke-hoach"}
        if self._asks_recipients(a, kinds):
            return r.Documents((), this_plan=True, recipients=True)
        about = bool(a.has("legal") or cited_kinds) or len(a.raw) <= 2
        numbered = finder.by_number(a.folded, a.raw, about_documents=about)
        if numbered:
            return r.Documents(tuple(numbered))
        number_asked = any(
            find_phrase(words_, p) is not None
            for p in (("so", "may"), ("so", "bao", "nhieu"))
            for words_ in (a.raw, a.tokens)
        )
        asks_document = (
            bool(a.has("legal") or kinds or find_phrase(a.raw, ("van", "ban")) is not None)
            or "document" in a.raw
            or number_asked
        )
        on_day = [d for d in finder.documents.documents if d.date in full_dates(a.folded)]
        if (
            on_day
            and asks_document
            and (not a.units or _ids(on_day) & _ids(finder.by_issuer(a.raw, kinds)))
            and not a.has("calendar", "overdue", "deadline")
            and (number_asked or not a.has("duties"))
            and (a.range is None or a.range.kind == "day")
        ):
            # "văn bản của ubnd tỉnh ngày 3/5/2017 là văn bản gì": a cited document's own date
            # (not "theo kế hoạch ngày 28/12/2020 phòng tư pháp phụ trách gì": its duties)
            return r.Documents(tuple(on_day))
        years = {int(t) for t in a.raw if len(t) == 4 and t.isdigit()}
        dated = [d for d in finder.by_kind(kinds) if d.date.year in years]
        if dated:  # "kế hoạch phân công nhiệm vụ năm 2020 số mấy": the one it cites of that year
            return r.Documents(tuple(dated))
        if cited_kinds and finder.numbers_given(a.folded):
            # "thông tư 36": a number the plan cites no document of that kind with
            kind = finder.documents.kinds[sorted(cited_kinds)[0]]
            number = finder.numbers_given(a.folded)[0]
            return r.NotThisPlan(f"{kind.name} số {number}", f"{kind.name_en} No. {number}")
        if not (a.has("legal") or cited_kinds or finder.number_asked(a.raw, a.tokens)):
            return None
        issued = finder.by_issuer(a.raw, kinds) if cited_kinds or a.has("legal") else []
        if issued and cited_kinds:
            # "thông báo kết luận của Ban Thường vụ …"; of an issuer's several, the one whose
            # subject the question names ("qđ của thủ tướng về tiêu chí huyện")
            subjects = {m.topic[4:] for m in a.topics if m.topic.startswith("doc:")}
            named = [d for d in issued if d.id in subjects]
            return r.Documents(tuple(named or issued))
        if a.has("deadline") and not a.has("legal") and not self._document_first(a):
            return None  # "quyết định công nhận xã đạt chuẩn khi nào": a deadline
        plan_words = _phrase_positions(a.tokens, _THIS_PLAN)
        if plan_words and a.has("legal") and not a.has("basis") and not cited_kinds:
            return r.Documents((), this_plan=True)  # "kế hoạch này ai ký, số mấy"
        if kinds == {"ke-hoach"} and not a.has("basis") and not a.topics:
            return r.Documents((), this_plan=True)  # "kh số mấy", "kế hoạch ai ký"
        issued = finder.by_issuer(a.raw, kinds)
        if issued:
            return r.Documents(tuple(issued))
        # ("văn bản nào …": the words that ask for a document say nothing of its subject)
        said = a.cue_positions | plan_words | a.frame_positions
        said |= {
            i
            for i, t in enumerate(a.tokens)
            if t in STRUCTURAL or (t in self.lexicon.question_words and not self._corrected(a, i))
        }  # ("cho hỏi … căn cứ những văn bản nào": "cho" is no criterion 7, chợ)
        relevant = [m for m in a.topics if not m.positions <= said]
        docs = [m for m in relevant if m.topic.startswith("doc:")]
        if cited_kinds and docs:
            # "what circular guides the district criteria": of the documents on that subject,
            # those of the kind named — or the plan's documents of that kind, where none is
            of_kind = [m for m in docs if self.kb.documents.by_id(m.topic[4:]).kind in cited_kinds]
            if not of_kind:
                return r.Documents(tuple(finder.by_kind(cited_kinds)))
            docs = of_kind
        if docs and docs[0].score >= 0.8 * relevant[0].score:
            best = docs[0].score
            chosen = [self.kb.documents.by_id(m.topic[4:]) for m in docs if m.score >= TIE * best]
            return r.Documents(tuple(chosen))
        if a.codes or a.units or relevant:
            return None
        if cited_kinds:
            return r.Documents(tuple(finder.by_kind(cited_kinds)))
        return r.Documents(tuple(self._legal_bases()))

    @staticmethod
    def _document_first(a: Analysis) -> bool:
        """A cited document is what the question names best ("kế hoạch phân công nhiệm vụ
        … cuối năm 2020 số mấy, ngày nào": its number and date are asked)."""
        return bool(a.topics) and a.topics[0].topic.startswith("doc:")

    def _legal_bases(self) -> list[Document]:
        return list(self.kb.documents.documents)

    def _other_place(self, a: Analysis) -> r.NotThisPlan | None:
        """Another place: not what this plan is about."""
        place = self.places.elsewhere(a.raw, a.spelling, clean(a.question))
        if place is not None:
            return r.NotThisPlan(place.name, place.name_en)
        return None

    def _other_set(self, a: Analysis) -> r.NotThisPlan | None:
        """Another criteria set or programme ("NTM nâng cao")."""
        for other in self.lexicon.other_sets:
            for phrase in other.phrases:
                start = find_phrase(a.tokens, phrase)
                if start is None:
                    continue
                after = a.tokens[start + len(phrase) :]
                if any(after[: len(u)] == list(u) for u in other.unless_followed_by):
                    continue
                return r.NotThisPlan(other.name, other.name_en)
        return None

    def _other_year(self, a: Analysis) -> r.NotThisPlan | None:
        """Another year or period than the plan's."""
        years = [int(t) for t in a.raw if len(t) == 4 and t.isdigit() and 1990 <= int(t) <= 2100]
        others = [y for y in years if y not in self._years or self._plan_of_year(a.raw, y)]
        if others:
            if len(years) >= 2 and years[-1] > years[0]:
                span = f"{years[0]}–{years[-1]}"
                return r.NotThisPlan(f"giai đoạn {span}", f"the period {span}")
            return r.NotThisPlan(f"năm {others[0]}", str(others[0]))
        return None

    def _citizen_matter(self, a: Analysis) -> bool:
        """A person's own matter (a card lost, a price, an exam's date, a power cut at home):
        never the plan's, whatever topic it shares a word with. Read in the words as typed
        (before the speller: "cước" is no "cục"), each compared where it stands: a word typed
        with other marks is another word ("quốc gia về" is no "giá vé"), and some phrases
        count only as written with their marks ("tham gia ban chỉ đạo" is no "giá bán")."""
        if any(find_phrase(a.tokens, marker) is not None for marker in _CRITERION_MARKERS):
            return False  # "xã hay mất điện, tc điện hỏi phòng nào": a criterion is asked of
        typed: list[tuple[str, str | None]] = []
        for token, word in typed_tokens(a.question):
            pieces = self.lexicon.abbreviations.get(token)
            typed += [(piece, None) for piece in pieces] if pieces else [(token, word)]
        tokens = [token for token, _ in typed]
        for start, first in enumerate(tokens):
            for matter in self._matters_by_first.get(first, ()):
                size = len(matter.folded)
                if tuple(tokens[start : start + size]) != matter.folded:
                    continue
                if start and (tokens[start - 1], tokens[start]) in self._topic_pairs:
                    continue  # "đánh giá nước sạch": the plan's own compound, no "giá nước"
                written = [word for _, word in typed[start : start + size]]
                if not matter.spelled or all(
                    word is None
                    or word == spelled
                    or (not matter.marked_only and not has_diacritics(word))
                    for word, spelled in zip(written, matter.spelled, strict=True)
                ):
                    return True
        return False

    def _plan_of_year(self, raw: list[str], year: int) -> bool:
        """ "kế hoạch NTM năm 2022": a plan of another year, though this plan has dates in it."""
        if year == self.kb.meta.year or year in self._cited_plan_years:
            return False  # (the plans it cites: "kế hoạch … cuối năm 2020 số mấy")
        at = raw.index(str(year))
        for phrase in _PLAN_WORDS:
            start = find_phrase(raw, phrase)
            if start is None or start >= at:
                continue
            between = raw[start + len(phrase) : at]
            # the year names the plan ("kế hoạch xây dựng NTM năm 2022"), not a date in this one
            # ("kh này quý 1 năm 2022", "việc trong kế hoạch đến hạn năm 2022")
            if len(between) <= 6 and all(w in _PLAN_NAME_WORDS for w in between):
                return True
        return False

    # the plan's text, and doubt ------------------------------------------------------------
    @staticmethod
    def _time_word(a: Analysis, i: int) -> bool:
        """A word of a date or window, unless typed as another word ("đèn" is not "đến")."""
        token = a.tokens[i]
        if token not in _TIME_WORDS:
            return False
        forms = (a.spelling or {}).get(token, frozenset())
        accented = [f for f in forms if has_diacritics(f)]
        return not accented or any(f in _TIME_SPELLED for f in accented)

    def _subject_positions(self, a: Analysis) -> list[int]:
        """The content words less those of a date or window: what the question is about."""
        return [i for i in self._content_positions(a) if a.tokens[i] not in _TIME_WORDS]

    def _home_communes(self, tokens: list[str], text: str) -> set[int]:
        """Positions of the plan's own commune names, said as names: after "xã"/"thị trấn"
        or written with capitals ("xã Thái Hòa bên em", "Thọ Bình"). "hợp lý" is a word."""
        capitals = {fold_word(w) for w in re.findall(r"\w+", text) if w[:1].isupper()}
        found: set[int] = set()
        for i in range(len(tokens)):
            for name in self._commune_names.get(tokens[i], ()):
                n = len(name)
                if tuple(tokens[i : i + n]) != name:
                    continue
                marked = tokens[max(0, i - 1) : i] == ["xa"] or tokens[max(0, i - 2) : i] in (
                    ["thi", "tran"],
                )
                if marked or all(w in capitals for w in name):
                    found.update(range(i, i + n))
        return found

    def _framing(self, tokens: list[str]) -> set[int]:
        """Positions of the plan's own district and province names and of the programme's."""
        found: set[int] = set()
        for phrase in self._frame_phrases:
            n = len(phrase)
            for i in range(len(tokens) - n + 1):
                if tuple(tokens[i : i + n]) != phrase or found.intersection(range(i, i + n)):
                    continue
                if phrase == ("ke", "hoach") and (
                    tokens[i - 1 : i] in (["so"], ["chinh"], ["phong"])
                    or tokens[i + 2 : i + 3] == ["va"]
                ):
                    continue  # "Sở Kế hoạch và Đầu tư", "Phòng Tài chính - Kế hoạch": a name
                found.update(range(i, i + n))
        return found

    def _content_positions(self, a: Analysis, *, framed: bool = False) -> list[int]:
        """Positions of the words that carry the question's topic (``framed``: with the
        district's and the programme's names)."""
        always = STRUCTURAL | self.lexicon.english_stopwords
        question = self.lexicon.question_words
        return [
            i
            for i, t in enumerate(a.tokens)
            if i not in a.unit_positions
            and i not in a.home_positions
            and (framed or i not in a.frame_positions)
            and i not in a.cue_positions
            and not t[0].isdigit()
            and (t not in always or self._corrected(a, i))
            and (t not in question or self._spelled_otherwise(a, t) or self._corrected(a, i))
        ]

    def _corrected(self, a: Analysis, i: int) -> bool:
        """The speller made this word of another ("thuế" → "the"): what was typed counts."""
        typed = a.as_typed[i] if i < len(a.as_typed) else a.tokens[i]
        return typed != a.tokens[i] and typed not in self.lexicon.abbreviations

    def _spelled_otherwise(self, a: Analysis, token: str) -> bool:
        """ "bão" is not the question word "bao": typed accents that no question word has."""
        forms = a.spelling.get(token) if a.spelling else None  # (as typed, even if forgiven)
        spelled = self.lexicon.question_words_spelled
        return bool(forms) and all(has_diacritics(f) and f not in spelled for f in forms or ())

    def _off_topic(self, a: Analysis) -> bool:
        """Words the plan never uses carry the question, and the best topic covers less than
        ``OFF_TOPIC_COVERAGE`` of its content words."""
        if a.written != "vi":
            return False  # (English topic phrases are too sparse to measure by)
        content = self._subject_positions(a)
        if not content:
            return False
        best = a.topics[0]
        if (
            a.has("owner", "task")
            and best.score >= FIRM_TOPIC
            and self._stands_alone(a, best, content)
        ):
            # "chợ quê xuống cấp, phòng nào hướng dẫn", "thanh niên xóm em ở nhà không có việc
            # làm, hỏi bên nào": a topic that is no other word's modifier ("phí bảo hiểm y tế"),
            # asked whose it is or what to do; the rest describes the trouble (unless another
            # criterion reads the same words about as well: "nhà văn hóa … dột nát")
            rivals = [
                m
                for m in a.topics[1:]
                if m.score >= 0.8 * best.score
                and content[0] in m.positions
                and _criterion_of(m.topic) != _criterion_of(best.topic)
            ]
            if not rivals:
                return False
        uncovered = [i for i in content if i not in best.positions]
        odd = {i for i in uncovered if self._untopical(a, i)}
        if not odd:
            return False
        covered = len(best.positions.intersection(content))
        named = {i for i in odd if self._typed_with_marks(a, i)}
        if any(i + 1 in named for i in named) and covered / len(content) < NAMED_ELSEWHERE:
            # "lịch thi đấu bóng đá ở sân vận động": two words of a subject of its own, typed
            # as such, beside a topic that explains a part of the question only
            return True
        return covered / len(content) < OFF_TOPIC_COVERAGE or self._untopical_head(a)

    def _stands_alone(self, a: Analysis, match: TopicMatch, content: list[int]) -> bool:
        """The topic's words open the question's subject, or come after a word that carries
        no subject ("ở nhà không có việc làm") amid words the plan has but one: no word of
        another subject heads them ("phí | bảo hiểm y tế") and no other subject is described
        ("sốt 39 độ uống thuốc gì, trạm y tế xã")."""
        if not match.contiguous:
            return False
        if content[0] in match.positions:
            return True
        if not match.topic.startswith("ind:"):
            return False  # (a case told around a criterion; not around the programme's name)
        first = min(match.positions)
        said = set(self._content_positions(a))
        placed = a.tokens[first - 2 : first - 1] in (["trong"], ["o"], ["tai"])
        if (first - 1 in said and not placed) or first - 1 in a.unit_positions:
            return False  # (a place before it is where: "trong thôn | nghỉ học sớm")
        odd = [i for i in content if i not in match.positions and self._untopical(a, i)]
        return len(odd) <= 1

    def _measured(self, a: Analysis) -> list[int]:
        """The subject's words, with the district's or programme's name where the best topic
        is named with it ("THPT Triệu Sơn", "đạt chuẩn NTM"): what a topic's share is of."""
        best = a.topics[0].positions if a.topics else set()
        return [
            i
            for i in self._content_positions(a, framed=True)
            if a.tokens[i] not in _TIME_WORDS and (i not in a.frame_positions or i in best)
        ]

    @staticmethod
    def _asks_where(a: Analysis) -> bool:
        """ "… ở đâu", "where": a place to go, which the plan does not give."""
        return find_phrase(a.tokens, ("o", "dau")) is not None or "where" in a.tokens

    def _topic_carries(self, a: Analysis) -> bool:
        """The best topic explains most of what the question is about (two words or more)."""
        if not a.topics:
            return False
        content = self._subject_positions(a)
        covered = len(a.topics[0].positions.intersection(content))
        return covered >= 2 and covered / len(content) >= OFF_TOPIC_COVERAGE

    def _untopical_head(self, a: Analysis) -> bool:
        """The question's head word, right before the topic found or the unit named, is one no
        topic of the plan uses: "lương cán bộ công chức", "phí bảo hiểm y tế", "rút BHXH" ask
        of something else about a topic or a unit."""
        if a.written != "vi":
            return False
        # (a word typed as another than a time word counts here: "lắp đèn" is not "lắp đến")
        content = [i for i in self._content_positions(a) if not self._time_word(a, i)]
        if not content:
            return False
        head = content[0]
        if a.topics:
            best = a.topics[0].positions
            follows = content[1] if len(content) > 1 else None
            before = follows in best and head < min(best)  # "lương | cán bộ công chức"
        else:
            before = head + 1 in a.unit_positions  # "rút | BHXH một lần"
        return (
            before
            and a.tokens[head] not in self.lexicon.known_words
            and is_syllable(a.tokens[head])  # ("until thôn kiểu mẫu": English, no subject)
            and self._untopical(a, head)
        )

    @staticmethod
    def _typed_with_marks(a: Analysis, i: int) -> bool:
        """The word was typed as it stands, with its diacritics: the user meant that word."""
        typed = a.as_typed[i] if i < len(a.as_typed) else a.tokens[i]
        forms = (a.spelling or {}).get(a.tokens[i], frozenset())
        return typed == a.tokens[i] and any(has_diacritics(f) for f in forms)

    def _untopical_words(self, a: Analysis) -> bool:
        """Content words no topic of the plan is made of ("lương", "tuyển")."""
        return any(
            self._untopical(a, i) and a.tokens[i] not in _TIME_WORDS
            for i in self._content_positions(a)
        )

    def _mostly_untopical(self, a: Analysis) -> bool:
        """Half the question's content words or more are words no topic of the plan uses
        (in Vietnamese: an English question's own words are never the plan's)."""
        if a.written != "vi":
            return False
        content = self._subject_positions(a)
        odd = [i for i in content if self._untopical(a, i)]
        return len(odd) >= 2 and 2 * len(odd) >= len(content)

    def _about_the_plan(self, a: Analysis) -> bool:
        """Most content words of the question are ones the plan's topics use ("tổng kinh phí
        xây dựng NTM"), unlike "mấy giờ rồi" or "bao nhiêu tuổi thì nghỉ hưu". The programme's
        name counts as the plan's ("kinh phí chương trình NTM bao nhiêu")."""
        content = [
            i for i in self._content_positions(a, framed=True) if a.tokens[i] not in _TIME_WORDS
        ]
        odd = [i for i in content if i not in a.frame_positions and self._untopical(a, i)]
        return bool(content) and 2 * len(odd) < len(content) and not self._untopical_head(a)

    def _untopical(self, a: Analysis, i: int) -> bool:
        """No topic is named with this word: folded, or as typed when typed with accents
        ("phạt" is not "phát", "lương" not "lượng")."""
        token = a.tokens[i]
        if not _VOWEL.search(token):
            return False  # "tt", "ttdl": an abbreviation, not a word of another subject
        known = self._known_words
        if token not in known:
            return True
        typed = a.as_typed[i] if i < len(a.as_typed) else token
        if typed != token and typed not in self.lexicon.abbreviations and is_syllable(typed):
            return typed not in known  # "thoại" made "thải" by the speller ("thogn": a slip)
        forms = (a.spelling or {}).get(token, frozenset())
        accented = [f for f in forms if has_diacritics(f)]
        spelled = self._known_spelled
        return bool(accented) and not any(f in spelled for f in accented)

    def _weak(self, a: Analysis) -> bool:
        """The best topic is a lone word amid a question about something else the plan knows."""
        best = a.topics[0]
        content = [i for i in self._measured(a) if a.tokens[i] in self._plan_words]
        if len(content) < 2:
            return False
        covered = len(best.positions.intersection(content))
        return covered / len(content) < WEAK_COVERAGE

    def _plan_question(self, tokens: list[str], cues: set[str], skip: set[int]) -> bool:
        """Asks something of the plan (a cue) about words the plan uses, and no others."""
        if not cues - {"help"}:
            return False
        ignore = STRUCTURAL | self.lexicon.question_words | self.lexicon.english_stopwords
        content = [
            t
            for i, t in enumerate(tokens)
            if i not in skip and t not in ignore and not t[0].isdigit()
        ]
        return bool(content) and all(t in self._plan_words for t in content)

    def _clearly_asked(self, a: Analysis) -> bool:
        """Whose a topic is, asked of a topic whose words stand together, well ahead of any
        other criterion's ("thanh niên xóm em không có việc làm, hỏi bên nào"): the rest of
        the question describes the case, and no choice is close enough to offer."""
        best = a.topics[0]
        if not (
            a.has("owner", "task")
            and best.topic.startswith("ind:")  # (a criterion: not the programme's name itself)
            and best.contiguous
            and best.score >= FIRM_TOPIC
        ):
            return False
        family = _criterion_of(best.topic)
        return all(
            m.score < CLEAR_LEAD * best.score
            for m in a.topics[1:]
            if m.topic.startswith("ind:") and _criterion_of(m.topic) != family
        )

    def _foreign_words(self, a: Analysis) -> bool:
        """The question has words the plan never uses ("thuế", "bão")."""
        return any(a.tokens[i] not in self._plan_words for i in self._content_positions(a))

    def _passages(self, a: Analysis) -> r.Passages | None:
        topic = [a.tokens[i] for i in self._content_positions(a)]
        hits = self._search(a, topic)
        if not hits:
            return None
        units: dict[str, None] = {}
        for hit in hits:
            found, _, _ = self._find_units(self.speller.correct(words(hit.passage.lead)))
            units.update(dict.fromkeys(found))
        return r.Passages(tuple(hit.passage for hit in hits), tuple(units))

    def _searchable(self, a: Analysis) -> list[str]:
        """The question's words to look up in the plan's text, less the asker's own commune
        ("xã em là Thọ Thế"): who asks is not what the passage must say."""
        return [t for i, t in enumerate(a.tokens) if i not in a.home_positions]

    def _search(
        self, a: Analysis, topic: list[str], sections: frozenset[str] | None = None
    ) -> list[Hit]:
        """The plan's passages for the question, its asker's commune aside."""
        return self.search.search(
            self._searchable(a), a.typed, topic, keep=self._kept(a, topic), sections=sections
        )

    def _kept(self, a: Analysis, topic: list[str]) -> frozenset[str]:
        """The topic's words that a search would drop as question words ("tự" of "trật tự")."""
        return frozenset(t for t in topic if t in self.lexicon.question_words)

    def _read_two_ways(self, a: Analysis) -> bool:
        """The best topic and another criterion's share a word and each reads words of the
        question the other does not, about as well."""
        if len(a.topics) < 2:
            return False
        best = a.topics[0]
        if not best.topic.startswith("ind:"):
            return False
        owners = set(self.kb.indicators[best.topic[4:]].owners)
        return any(
            m.score >= 0.85 * best.score
            and m.topic.startswith("ind:")
            and set(self.kb.indicators[m.topic[4:]].owners) != owners  # (else: one answer)
            and _criterion_of(m.topic) != _criterion_of(best.topic)
            and m.positions & best.positions
            and len(m.positions - best.positions) >= 2
            and len(best.positions - m.positions) >= 2
            for m in a.topics[1:4]
        )

    def _suggest_two(self, a: Analysis) -> r.Result:
        """The two readings, one topic of each criterion."""
        seen: set[str] = set()
        options = []
        for m in a.topics:
            criterion = _criterion_of(m.topic)
            if criterion not in seen:
                seen.add(criterion)
                options.append(m.topic)
        return self._suggest(a, options)

    def _suggest(self, a: Analysis, options: list[str] | None = None) -> r.Result:
        """Ask which of these topics (the three best, unless given) is meant."""
        offered = [m.topic for m in a.topics] if options is None else options
        if not offered:
            return r.OutOfScope()
        understood = tuple(c for c in ("owner", "deadline", "duties", "fact") if a.has(c))
        return r.Suggest(understood, tuple(offered[:3]))

    def _is_calendar(self, a: Analysis) -> bool:
        assert a.range is not None
        if a.topics and a.topics[0].score >= FIRM_TOPIC and not a.has("calendar"):
            return False
        if (
            a.topics
            and a.topics[0].score >= FIRM_TOPIC
            and a.range.kind == "day"
            and not a.range.explicit
        ):
            return False  # "hôm nay 15/10 rồi, còn mấy ngày nữa hết hạn …": today is context
        if (
            a.written == "vi"
            and self._untopical_words(a)
            and not (a.has("deadline") and self._topic_carries(a))
        ):
            # "bao giờ có lương tháng 10", "lịch thi đấu bóng đá tuần này": another calendar
            return False
        if a.has("calendar", "deadline", "overdue"):
            return True
        if a.range.kind == "days" and (not a.topics or a.has("duties")):
            return True  # "3 tuần tới cần làm gì": what falls due in that window
        # A bare date or month ("tháng 11/2021") asks what falls due then.
        return (
            not a.topics
            and a.range.explicit
            and a.range.kind in ("day", "month", "months", "quarter", "span", "after")
        )

    # codes -----------------------------------------------------------------------------------
    def _resolve_codes(self, a: Analysis) -> r.Result:
        parts: list[r.Result] = []
        seen: set[str] = set()
        labels = {ref.label for ref in a.codes}
        for ref in a.codes:
            if any(other.startswith(ref.label + ".") for other in labels):
                continue  # "nội dung 18.5 thuộc tiêu chí 18": the parent only locates 18.5
            part = self._resolve_code(a, ref)
            if part is None:
                continue
            key = repr(part)
            if key not in seen:
                seen.add(key)
                parts.append(part)
        if not parts:
            return r.OutOfScope()
        if len(parts) == 1:
            return parts[0]
        unknown = [p for p in parts if isinstance(p, r.UnknownCriterion)]
        known = [p for p in parts if not isinstance(p, r.UnknownCriterion)]
        if known:
            return known[0] if len(known) == 1 else r.Several(tuple(known))
        return unknown[0]

    def _resolve_code(self, a: Analysis, ref: CodeRef) -> r.Result | None:
        both_asked = len(a.levels) == 2 and (ref.level is None or _levels_joined(a.tokens))
        if both_asked:  # "tiêu chí 1 cấp xã và cấp huyện" (not "… huyện nhé, không phải xã")
            both = [lvl for lvl in ("xa", "huyen") if f"{lvl}:{ref.label}" in self.kb.indicators]
            if len(both) == 2:
                parts = [
                    self._about_indicator(a, self.kb.indicators[f"{lvl}:{ref.label}"])
                    for lvl in both
                ]
                return r.Several(tuple(parts))
        levels = [ref.level] if ref.level else ([a.level] if a.level else ["xa", "huyen"])
        existing = [lvl for lvl in levels if f"{lvl}:{ref.label}" in self.kb.indicators]
        if not existing and ref.level is None and a.level is not None:
            # "tiêu chí 5.1 bệnh viện huyện" said "xã" elsewhere: trust the code.
            existing = [
                lvl for lvl in ("xa", "huyen") if f"{lvl}:{ref.label}" in self.kb.indicators
            ]
        if not existing:
            return r.UnknownCriterion(ref.label, ref.level or a.level) if ref.explicit else None
        if len(existing) == 2:
            hinted = self._level_hint(a, ref)
            if hinted:
                existing = [hinted]
        if len(existing) == 1:
            return self._about_indicator(a, self.kb.indicators[f"{existing[0]}:{ref.label}"])
        options = tuple(
            (lvl, self._about_indicator(a, self.kb.indicators[f"{lvl}:{ref.label}"]))
            for lvl in existing
        )
        return r.Ambiguous(ref.label, options)

    def _level_hint(self, a: Analysis, ref: CodeRef) -> str | None:
        """A topic word that names the criterion at one level only ("tiêu chí 6 sản xuất")."""
        hits: set[str] = set()
        for match in a.topics:
            if not match.topic.startswith("ind:"):
                continue
            code = match.topic[4:]
            level, label = code.split(":")
            if label.split(".")[0] == str(ref.number):
                hits.add(level)
        return hits.pop() if len(hits) == 1 else None

    def _about_indicator(self, a: Analysis, ind: Indicator) -> r.Result:
        if a.has("deadline") and not a.has("owner"):
            return r.Deadlines(tuple(self.kb.deadlines_for(ind.code)), indicator=ind)
        if a.has("fact") and not a.has("owner", "deadline") and not self._counts_parts(a):
            facts = self.kb.facts_for(ind.code)
            if facts:
                return r.Facts(tuple(facts))
        if a.has("deadline") and a.has("owner"):
            return self._owner(a, ind)
        return self._owner(a, ind)

    def _owner(self, a: Analysis, ind: Indicator) -> r.Owner:
        asked = a.units[0] if a.units else None
        return r.Owner(ind, tuple(self.kb.deadlines_for(ind.code)), asked_unit=asked)

    # units -----------------------------------------------------------------------------------
    def _subject_unit(self, a: Analysis) -> str:
        """Of the units named, the one asked about: not one named as a partner or an object
        ("Phòng TN-MT phối hợp với Ban QLDA làm gì", "ngoài chỉ đạo các xã, …")."""
        if len(a.units) == 1:
            return a.units[0]
        starts: dict[str, int] = {}
        for key, start, _ in self._scan_units(a.tokens, self._expanded_aliases):
            if key is not None:
                starts.setdefault(key, start)
        for unit in a.units:
            at = starts.get(unit)
            if at is None or not any(
                tuple(a.tokens[max(0, at - len(m)) : at]) == m for m in _OBJECT_MARKERS
            ):
                return unit
        return a.units[0]

    def _listed_units(self, a: Analysis) -> list[str]:
        """Units named side by side, joined only by "và"/"với"/a comma ("phòng y tế với phòng
        tư pháp mỗi bên …"): each is asked about (not "… phối hợp với …": a partner)."""
        found = [
            (key, start, size)
            for key, start, size in self._scan_units(a.tokens, self._expanded_aliases)
            if key is not None
        ]
        listed: list[str] = []
        for (key, start, size), following in zip(found, [*found[1:], None], strict=True):
            if key not in listed:
                listed.append(key)
            if following is None:
                break
            between = a.tokens[start + size : following[1]]
            if not all(t in _JOINING for t in between):
                return listed[:1]
        return listed

    def _resolve_unit(self, a: Analysis, today: dt.date) -> r.Result | None:
        unit = self._subject_unit(a)
        topical = [t for t in a.topics if t.score >= 2.0]
        if unit == COMMUNES and not topical and not a.has("deadline", "calendar"):
            # "ban chỉ đạo xã cần kiện toàn như thế nào": the communes' part of the plan that
            # says it, rather than every task they have
            said = self._passages(a)
            if said is not None and all(
                "xa" in words(p.text) for p in said.passages
            ):  # (a passage that speaks of the communes)
                return said
        listed = self._listed_units(a) if a.has("duties") and not topical else []
        if len(listed) > 1 and all(self.kb.is_department(u) for u in listed):
            return r.Several(tuple(self._duties(u) for u in listed), intent="duties")
        if topical and not self.kb.is_department(unit):
            return None  # "các xã … vệ sinh môi trường": the topic says more than "the communes"
        if a.has("duties") and not (topical and a.has("fact", "owner") and not a.has("duties")):
            return self._duties(unit)
        if topical and a.has("fact", "owner", "deadline"):
            return None  # the question is about a topic; the unit is context
        if a.has("deadline") and not topical:
            return r.Deadlines(tuple(self._unit_deadline_links(unit)), unit=unit)
        if topical and not a.has("duties"):
            return None
        return self._duties(unit)

    def _unit_deadline_links(self, unit: str) -> list[DeadlineLink]:
        return [DeadlineLink(d, (unit,)) for d in self.kb.deadlines_of_unit(unit)]

    def _duties(self, unit: str) -> r.Duties:
        kb = self.kb
        duties = kb.duties(unit)
        deadline_ids = {d.deadline for d in duties if d.deadline}
        extra = tuple(d for d in kb.deadlines_of_unit(unit) if d.id not in deadline_ids)
        return r.Duties(
            unit=unit,
            owned=tuple(kb.owned_by(unit)),
            cooperating=tuple(kb.cooperations(unit)),
            duties=tuple(duties),
            deadlines=extra,
        )

    # calendar --------------------------------------------------------------------------------
    def _calendar(self, span: DateRange, today: dt.date, include_overdue: bool) -> r.Calendar:
        due = tuple(self.kb.deadlines_between(span.start, span.end))
        overdue: tuple[Deadline, ...] = ()
        if include_overdue or span.kind == "days":
            overdue = tuple(d for d in self.kb.deadlines if d.due < today and d not in due)
        return r.Calendar(span, due, overdue, include_overdue or span.kind == "days")

    # topics ----------------------------------------------------------------------------------
    def _resolve_topics(self, a: Analysis) -> r.Result | None:
        chosen = self._choose_topics(a)
        if not chosen:
            return None
        kinds = Counter(t.split(":", 1)[0] for t in chosen)
        asks_what = (
            a.has("duties")
            or (a.has("fact") and not a.has("figure"))
            or (self._asks_how(a) and not a.has("owner", "deadline", "figure"))
        )
        if asks_what and not a.has("owner") and (a.level == "xa" or COMMUNES in a.units):
            # "xã phải làm gì", "đường xã cần đảm bảo yêu cầu gì": what the plan asks of them
            actions = self._commune_actions(a, chosen)
            if actions is not None:
                return actions
        if a.has("duties") and not a.has("owner", "deadline") and kinds.keys() - {"ind"}:
            return self._topic_facts(chosen)
        if a.has("deadline") and not a.has("owner"):
            return self._topic_deadlines(chosen)
        if a.has("fact") and not a.has("owner"):
            return self._topic_facts(chosen)
        if a.has("owner") or kinds.get("ind"):
            if kinds.get("ind"):
                return self._topic_owner(a, chosen)
            return self._topic_responsible(chosen)
        if kinds.get("fact"):
            return self._topic_facts(chosen)
        if kinds.get("dl"):
            return self._topic_deadlines(chosen)
        return self._topic_responsible(chosen)

    def _commune_actions(self, a: Analysis, chosen: list[str]) -> r.CommuneActions | None:
        """ "Về giao thông và điện xã phải làm gì": the communes' own tasks on those topics
        (section III.1.1 of a plan), not the list of the criteria's owners."""
        topics = list(dict.fromkeys([*chosen, *(m.topic for m in a.topics if m.score >= 2.0)]))
        links: dict[str, DeadlineLink] = {}
        indicators: list[Indicator] = []
        facts = []
        for topic in topics:
            kind, _, key = topic.partition(":")
            if kind == "fact" and COMMUNES in self.kb.fact_by_id[key].who:
                facts.append(self.kb.fact_by_id[key])
            if kind == "ind" and key.startswith("xa:"):
                indicators.append(self.kb.indicators[key])
                for link in self.kb.deadlines_for(key):
                    if COMMUNES in link.units:
                        links.setdefault(link.deadline.id, link)
            elif kind == "dl" and COMMUNES in self.kb.deadline_by_id[key].responsible:
                deadline = self.kb.deadline_by_id[key]
                links.setdefault(key, DeadlineLink(deadline, (COMMUNES,)))
        if not links and not facts:
            return None
        ordered = sorted(links.values(), key=lambda link: (link.deadline.due, link.deadline.id))
        return r.CommuneActions(
            tuple(ordered),
            tuple(dict.fromkeys(indicators)),
            tuple(facts),
            self._communes_words(a),
        )

    def _communes_words(self, a: Analysis) -> tuple[Passage, ...]:
        """The passages of the plan's part for the communes that speak of the question's topic
        ("Giữ vững quốc phòng, an ninh …"), quoted beside the dates."""
        topic = [a.tokens[i] for i in self._content_positions(a)]
        hits = self._search(a, topic, sections=self._commune_sections)
        return tuple(h.passage for h in hits)

    def _choose_topics(self, a: Analysis) -> list[str]:
        """The best topics for the question's intent, de-duplicated (a criterion and its only
        matching sub-indicator → the sub-indicator; several sub-indicators → the criterion)."""
        matches = [m for m in a.topics if self._level_ok(m.topic, a.level)]
        if a.units and matches:
            # "the centre … finish the reports and images": of the topics, the named unit's own
            own = [
                m
                for m in matches
                if m.score >= 0.5 * matches[0].score
                and any(self._belongs(m.topic, u) for u in a.units)
                and not m.positions <= matches[0].positions  # (not a broader reading of it)
            ]
            matches = own or matches
        if self._asks_a_department(a):
            # "htx làm ăn kém, phòng nào chỉ đạo": the communes' own task is no department's
            matches = [m for m in matches if not self._communes_only(m.topic)] or matches
        if not matches:
            return []
        preferred = self._preferred_kinds(a)
        best_by_kind: dict[str, float] = {}
        for m in matches:
            kind = m.topic.split(":", 1)[0]
            best_by_kind[kind] = max(best_by_kind.get(kind, 0.0), m.score)
        top = matches[0].score
        # The preferred kind wins if it explains most of what the best topic explains.
        for kind in preferred:
            if best_by_kind.get(kind, 0.0) >= 0.8 * top:
                pool = [m for m in matches if m.topic.startswith(kind + ":")]
                break
        else:
            pool = matches
        best = pool[0].score
        tied = [m.topic for m in pool if m.score >= TIE * best]
        if len(tied) == 1 and tied[0].startswith("ind:"):
            tied = [self._dominant_part(tied[0], matches, best, a.tokens)]
        return self._collapse(tied)[:4]

    def _dominant_part(
        self, topic: str, matches: list[TopicMatch], score: float, tokens: list[str]
    ) -> str:
        """A criterion found through its parts' words, most of them one part's ("lò gạch xả
        thải gây ô nhiễm": 17.2): that part, whose owner is the answer, not every part's —
        unless the question names the criterion itself ("môi trường và an toàn thực phẩm")."""
        ind = self.kb.indicators[topic[4:]]
        if set(words(ind.name)) <= set(tokens) or set(words(ind.name_en)) <= set(tokens):
            return topic
        parts = sorted((m for m in matches if m.topic[4:] in ind.children), key=lambda m: -m.score)
        if not parts or parts[0].score < DOMINANT * score:
            return topic
        if (
            len(parts) > 1
            and parts[1].score * 2 > parts[0].score
            and not parts[1].positions <= parts[0].positions  # (a rival says something else)
        ):
            return topic
        return parts[0].topic

    @staticmethod
    def _asks_a_department(a: Analysis) -> bool:
        """Whose it is, asked of a district unit ("phòng nào", "cơ quan nào", "which
        department")."""
        asked = [a.tokens[i] for i in sorted(a.cue_positions)]
        return a.has("owner", "task") and any(w in asked for w in ("phong", "department", "office"))

    @staticmethod
    def _asks_how(a: Analysis) -> bool:
        """ "xã phải tổ chức vệ sinh môi trường thế nào": how something must be done."""
        return any(find_phrase(a.tokens, p) is not None for p in (("the", "nao"), ("ra", "sao")))

    def _belongs(self, topic: str, unit: str) -> bool:
        """The topic is the unit's: its criterion's owner, its deadline's, fact's or duty's."""
        kind, _, key = topic.partition(":")
        if kind == "ind":
            return unit in self.kb.indicators[key].owners
        if kind == "dl":
            return unit in self.kb.deadline_by_id[key].responsible
        if kind == "fact":
            return unit in self.kb.fact_by_id[key].who
        if kind == "duty":
            return key.partition(":")[0] == unit
        return False

    def _communes_only(self, topic: str) -> bool:
        """A deadline or fact of the communes alone."""
        kind, _, key = topic.partition(":")
        if kind == "dl":
            return set(self.kb.deadline_by_id[key].responsible) <= {COMMUNES}
        if kind == "fact":
            return set(self.kb.fact_by_id[key].who) <= {COMMUNES}
        return False

    @staticmethod
    def _preferred_kinds(a: Analysis) -> tuple[str, ...]:
        if a.has("task"):  # "đơn vị nào xây dựng bãi rác": a unit's task, not a criterion
            return ("duty", "fact", "dl", "ind")
        if a.has("duties") and not a.has("owner", "deadline"):
            return ("fact", "duty", "dl", "ind")
        if a.has("deadline") and a.has("figure") and not a.has("owner"):
            return ("fact", "dl", "ind", "duty")  # "mấy lần một tháng, vào ngày nào"
        if a.has("deadline") and not a.has("owner"):
            return ("dl", "ind", "fact", "duty")
        if a.has("fact") and not a.has("owner"):
            return ("fact", "dl", "ind", "duty")
        return ("ind", "fact", "dl", "duty")

    def _level_ok(self, topic: str, level: str | None) -> bool:
        if level is None:
            return True
        kind, _, key = topic.partition(":")
        if kind == "ind":
            return key.startswith(level + ":")
        if kind == "dl":
            return self.kb.deadline_by_id[key].level == level
        return True

    def _collapse(self, topics: list[str]) -> list[str]:
        result = list(dict.fromkeys(topics))
        indicators = [t[4:] for t in result if t.startswith("ind:")]
        for code in indicators:
            ind = self.kb.indicators[code]
            if ind.is_sub:
                continue
            subs = [c for c in indicators if self.kb.indicators[c].parent == code]
            if len(subs) == 1:
                result.remove(f"ind:{code}")
            elif len(subs) > 1:
                for sub in subs:
                    result.remove(f"ind:{sub}")
        return result

    def _topic_owner(self, a: Analysis, topics: list[str]) -> r.Result:
        inds = [self.kb.indicators[t[4:]] for t in topics if t.startswith("ind:")]
        by_level = {ind.level for ind in inds}
        if len(by_level) == 2 and a.level is None:
            options = tuple(
                (lvl, self._group([self._owner(a, i) for i in inds if i.level == lvl]))
                for lvl in ("xa", "huyen")
            )
            return r.Ambiguous(inds[0].name, options)
        return self._group([self._owner(a, i) for i in inds])

    @staticmethod
    def _group(parts: list[r.Owner]) -> r.Result:
        return parts[0] if len(parts) == 1 else r.Several(tuple(parts))

    def _topic_deadlines(self, topics: list[str]) -> r.Result:
        links: list[DeadlineLink] = []
        indicator: Indicator | None = None
        for topic in topics:
            kind, _, key = topic.partition(":")
            if kind == "dl":
                d = self.kb.deadline_by_id[key]
                links.append(DeadlineLink(d, tuple(d.responsible)))
            elif kind == "ind":
                indicator = self.kb.indicators[key]
                links.extend(self.kb.deadlines_for(key))
            elif kind == "fact":
                fact = self.kb.fact_by_id[key]
                if fact.deadline:
                    d = self.kb.deadline_by_id[fact.deadline]
                    links.append(DeadlineLink(d, tuple(d.responsible)))
            elif kind == "duty":
                unit, _, idx = key.partition(":")
                duty = self.kb.unit(unit).duties[int(idx)]
                if duty.deadline:
                    links.append(DeadlineLink(self.kb.deadline_by_id[duty.deadline], (unit,)))
        unique = {(link.deadline.id, link.units): link for link in links}
        ordered = sorted(unique.values(), key=lambda link: (link.deadline.due, link.deadline.id))
        if not ordered:
            return self._topic_responsible(topics)
        return r.Deadlines(tuple(ordered), indicator=indicator if len(topics) == 1 else None)

    def _topic_facts(self, topics: list[str]) -> r.Result:
        facts = []
        deadlines = []
        for topic in topics:
            kind, _, key = topic.partition(":")
            if kind == "fact":
                facts.append(self.kb.fact_by_id[key])
            elif kind == "dl":
                deadlines.append(self.kb.deadline_by_id[key])
                facts.extend(self.kb.facts_with_deadline(key))
            elif kind == "ind":
                facts.extend(self.kb.facts_for(key))
        facts = list({f.id: f for f in facts}.values())
        if facts:
            covered = {f.deadline for f in facts}
            return r.Facts(tuple(facts), tuple(d for d in deadlines if d.id not in covered))
        if deadlines:
            return r.Deadlines(tuple(DeadlineLink(d, tuple(d.responsible)) for d in deadlines))
        inds = [self.kb.indicators[t[4:]] for t in topics if t.startswith("ind:")]
        if inds:
            return self._group([r.Owner(i, tuple(self.kb.deadlines_for(i.code))) for i in inds])
        return self._topic_responsible(topics)

    def _topic_responsible(self, topics: list[str]) -> r.Result:
        deadlines = []
        facts = []
        duties = []
        for topic in topics:
            kind, _, key = topic.partition(":")
            if kind == "dl":
                deadlines.append(self.kb.deadline_by_id[key])
            elif kind == "fact":
                facts.append(self.kb.fact_by_id[key])
            elif kind == "duty":
                unit, _, idx = key.partition(":")
                duties.append(r.DutyRef(unit, self.kb.unit(unit).duties[int(idx)]))
        if not (deadlines or facts or duties):
            return r.OutOfScope()
        return r.TopicOwner(tuple(deadlines), tuple(facts), tuple(duties))


# what joins units listed side by side ("phòng y tế với phòng tư pháp", "và", "and")
_JOINING = frozenset({"va", "voi", "and", "cung", "hoac", "or"})

# the figure cue's words that count things ("có mấy chỉ tiêu"), not a rate or an amount
_COUNTING = frozenset({("may",), ("bao", "nhieu"), ("how", "many")})


def _english_office_names(name_en: str) -> list[str]:
    """ "Department of Agriculture and Rural Development" as people say it: "the agriculture
    office", "agriculture department", "agriculture and rural development dept", "Finance-Planning
    office"."""
    found = re.fullmatch(r"Department of (.+)", name_en)
    if found is None:
        return []
    whole = found[1]
    parts = re.split(r",\s*|\s+and\s+", whole)
    joined = " ".join(parts)  # "Finance-Planning office", "finance planning dept"
    return [f"{subject} {kind}" for subject in {parts[0], whole, joined} for kind in _OFFICE_WORDS]


_OFFICE_WORDS = ("department", "office", "dept")


def _holds(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    return find_phrase(list(longer), shorter) is not None


def _criterion_of(topic: str) -> str:
    """ "ind:xa:9.1" → "xa:9": the criterion a topic belongs to (other topics: themselves)."""
    kind, _, code = topic.partition(":")
    return code.split(".")[0] if kind == "ind" else topic


def _starts(tokens: list[str]) -> dict[str, list[int]]:
    """Where each word stands (to find phrases by their first word, not by scanning)."""
    where: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        where.setdefault(token, []).append(i)
    return where


def _ids(documents: Iterable[Document]) -> set[str]:
    """The documents' ids (documents themselves do not hash)."""
    return {d.id for d in documents}


def _run_from(match: TopicMatch, start: int) -> list[int]:
    """The topic's words that follow one another from ``start``."""
    run: list[int] = []
    while start + len(run) in match.positions:
        run.append(start + len(run))
    return run


def _positions_from(match: TopicMatch, start: int) -> list[int]:
    """The topic's words from ``start`` on, in order (whether they follow one another or not)."""
    return sorted(i for i in match.positions if i >= start)


def _phrase_positions(tokens: list[str], phrases: Iterable[Phrase]) -> set[int]:
    """The positions of every word the phrases cover where they occur in the question."""
    covered: set[int] = set()
    for phrase in phrases:
        start = find_phrase(tokens, phrase)
        if start is not None:
            covered.update(range(start, start + len(phrase)))
    return covered


def _first(tokens: list[str], phrase: Phrase, starts: dict[str, list[int]]) -> int | None:
    """:func:`find_phrase` with the words' positions at hand."""
    n = len(phrase)
    for i in starts.get(phrase[0], ()):
        if tuple(tokens[i : i + n]) == phrase:
            return i
    return None


def _levels_joined(tokens: list[str]) -> bool:
    """Both levels asked together: "cấp xã và cấp huyện", "xã hoặc huyện"."""
    text = " ".join(tokens)
    return bool(re.search(r"\b(xa|huyen) (va|hoac|and|or|lan) (cap )?(xa|huyen)\b", text))


def _acronym_aliases(short: str | None) -> list[Phrase]:
    """ "Phòng NN&PTNT" is also "phòng NN", "phòng PTNT" and plain "PTNT": how people shorten
    a department's acronym. Plain pieces only when they have three letters or more."""
    match = re.fullmatch(r"Phòng (\S+)", short or "")
    if match is None:
        return []
    pieces = [words(piece) for piece in re.split(r"[&-]", match[1])]
    phrases: list[Phrase] = []
    for piece in pieces:
        if len(piece) != 1:
            continue
        phrases.append(("phong", piece[0]))
        if len(piece[0]) >= 3:
            phrases.append((piece[0],))
    return phrases
