"""What the engine found, as data; handlers render it into words (Vietnamese or English)."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.base import DeadlineLink, Indicator
from knowledge.documents import Document
from knowledge.models import Deadline, Duty, Fact
from knowledge.passages import Passage
from knowledge.temporal import DateRange


@dataclass(frozen=True)
class Help:
    intent: str = "help"


@dataclass(frozen=True)
class OutOfScope:
    """Nothing in the plan answers this; ``hint`` says what was half-recognised."""

    hint: str | None = None
    intent: str = "out_of_scope"
    # a person's own matter (a price, a lost card): nothing of the plan to offer instead
    personal: bool = False


@dataclass(frozen=True)
class NotThisPlan:
    """About another place, time or criteria set than the plan's: the plan says nothing."""

    subject: str  # "huyện Nông Cống", "năm 2023", "NTM nâng cao"
    subject_en: str
    intent: str = "not_this_plan"


@dataclass(frozen=True)
class Documents:
    """Documents the plan cites (``this_plan``: the plan itself, as a document;
    ``recipients``: whom the plan is sent to, shown instead of the plan's particulars)."""

    documents: tuple[Document, ...]
    this_plan: bool = False
    recipients: bool = False
    intent: str = "document"


@dataclass(frozen=True)
class NoFigure:
    """A number was asked that the plan does not give: said so, then what it does say
    (``money``: the number asked was an amount of money)."""

    then: Result
    money: bool = False
    intent: str = "no_figure"


@dataclass(frozen=True)
class UnknownCriterion:
    label: str
    level: str | None
    intent: str = "unknown_criterion"


@dataclass(frozen=True)
class Clarify:
    """A question word without a subject ("ai phụ trách?")."""

    asked: str
    intent: str = "clarify"


@dataclass(frozen=True)
class DutyRef:
    unit: str
    duty: Duty


@dataclass(frozen=True)
class Owner:
    """Who owns an indicator; ``asked_unit`` when the question named a unit to check."""

    indicator: Indicator
    deadlines: tuple[DeadlineLink, ...]
    asked_unit: str | None = None
    intent: str = "owner"


@dataclass(frozen=True)
class TopicOwner:
    """Who is responsible for a deadline, a target or a duty (not a criterion)."""

    deadlines: tuple[Deadline, ...] = ()
    facts: tuple[Fact, ...] = ()
    duties: tuple[DutyRef, ...] = ()
    intent: str = "owner"


@dataclass(frozen=True)
class Deadlines:
    """Deadlines of an indicator, a unit or a topic."""

    links: tuple[DeadlineLink, ...]
    indicator: Indicator | None = None
    unit: str | None = None
    intent: str = "deadline"


@dataclass(frozen=True)
class Calendar:
    range: DateRange
    due: tuple[Deadline, ...]
    overdue: tuple[Deadline, ...] = ()
    include_overdue: bool = False
    overdue_first: bool = False  # "việc đã quá hạn": what is late is the answer
    intent: str = "calendar"


@dataclass(frozen=True)
class Facts:
    facts: tuple[Fact, ...]
    deadlines: tuple[Deadline, ...] = ()
    intent: str = "fact"


@dataclass(frozen=True)
class Duties:
    unit: str
    owned: tuple[Indicator, ...]
    cooperating: tuple[Indicator, ...]
    duties: tuple[Duty, ...]
    deadlines: tuple[Deadline, ...]
    intent: str = "duties"


@dataclass(frozen=True)
class ListCriteria:
    levels: tuple[str, ...]
    intent: str = "list_criteria"


@dataclass(frozen=True)
class ListUnits:
    intent: str = "list_units"


@dataclass(frozen=True)
class ListCommunes:
    intent: str = "list_communes"


@dataclass(frozen=True)
class Ambiguous:
    """A criterion number or topic that exists at both levels: one result per level."""

    label: str
    options: tuple[tuple[str, Result], ...]
    intent: str = "ambiguous"


@dataclass(frozen=True)
class Several:
    """Several criteria asked at once ("tiêu chí 3 và 13")."""

    parts: tuple[Result, ...] = field(default_factory=tuple)
    intent: str = "owner"


@dataclass(frozen=True)
class CommuneActions:
    """What the plan asks the communes to do about a topic, with dates, and who guides them."""

    links: tuple[DeadlineLink, ...]
    indicators: tuple[Indicator, ...] = ()
    facts: tuple[Fact, ...] = ()  # targets and recurring duties of the communes
    passages: tuple[Passage, ...] = ()  # the plan's own words to the communes on the topic
    intent: str = "duties"


@dataclass(frozen=True)
class Passages:
    """The plan's own words where no curated fact answers: quoted with their section."""

    passages: tuple[Passage, ...]
    units: tuple[str, ...] = ()  # the units the passages are about (their bullet's lead-in)
    intent: str = "passage"


@dataclass(frozen=True)
class Suggest:
    """Not sure: what was understood, and the closest topics to choose from."""

    understood: tuple[str, ...]
    options: tuple[str, ...]  # topic ids ("ind:xa:17", "unit:tp", "dl:bhyt", "fact:…")
    intent: str = "suggest"


Result = (
    Help
    | OutOfScope
    | NotThisPlan
    | Documents
    | NoFigure
    | UnknownCriterion
    | Clarify
    | Owner
    | TopicOwner
    | Deadlines
    | Calendar
    | Facts
    | Duties
    | ListCriteria
    | ListUnits
    | ListCommunes
    | Ambiguous
    | Several
    | Passages
    | Suggest
    | CommuneActions
)
