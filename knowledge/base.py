"""The loaded plan with the lookups the query engine and the office views need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.documents import Documents
from knowledge.evidence import Evidence
from knowledge.forms import Form
from knowledge.locate import Locator
from knowledge.models import (
    CommunesFile,
    CriteriaFile,
    Criterion,
    Deadline,
    Duty,
    Fact,
    PlanMeta,
    TaskEntry,
    Unit,
)
from knowledge.passages import Passage

LEVELS = ("xa", "huyen")
COMMUNES = "cac-xa"  # the unit that stands for every commune (units.yaml)


@dataclass(frozen=True)
class Indicator:
    """A criterion (``xa:17``) or a sub-indicator (``xa:17.4``) with its owners resolved."""

    code: str
    level: str
    number: int
    label: str
    name: str
    name_en: str
    description: str | None
    parent: str | None
    children: tuple[str, ...]
    owners: tuple[str, ...]
    cooperating: tuple[str, ...]
    keywords: tuple[str, ...]
    keywords_en: tuple[str, ...]
    source: str

    @property
    def is_sub(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True)
class DeadlineLink:
    """A deadline as it applies to something: which of its responsible units are concerned."""

    deadline: Deadline
    units: tuple[str, ...]


@dataclass
class KnowledgeBase:
    source_dir: Path
    meta: PlanMeta
    units: list[Unit]
    criteria: CriteriaFile
    deadlines: list[Deadline]
    facts: list[Fact]
    communes: CommunesFile
    forms: dict[str, Form] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)  # the plan's full text
    tasks: list[TaskEntry] = field(default_factory=list)  # who delivers what by when
    evidence: Evidence | None = None  # what shows each criterion's standing (evidence.yaml)
    documents: Documents = field(default_factory=lambda: Documents({}, ()))  # cited documents
    _locator: Locator | None = field(default=None, repr=False)
    unit_by_key: dict[str, Unit] = field(init=False)
    indicators: dict[str, Indicator] = field(init=False)
    deadline_by_id: dict[str, Deadline] = field(init=False)
    fact_by_id: dict[str, Fact] = field(init=False)

    def __post_init__(self) -> None:
        self.unit_by_key = {u.key: u for u in self.units}
        self.deadline_by_id = {d.id: d for d in self.deadlines}
        self.fact_by_id = {f.id: f for f in self.facts}
        self.indicators = {}
        for level in LEVELS:
            for crit in getattr(self.criteria, level):
                self._add_criterion(level, crit)
        self.deadlines = sorted(self.deadlines, key=lambda d: (d.due, d.id))

    def _add_criterion(self, level: str, crit: Criterion) -> None:
        code = f"{level}:{crit.number}"
        sub_codes = tuple(f"{level}:{s.code}" for s in crit.subs)
        sub_owners = [s.owner or crit.owner for s in crit.subs]
        owners = (crit.owner,) if crit.owner else tuple(dict.fromkeys(o for o in sub_owners if o))
        self.indicators[code] = Indicator(
            code=code,
            level=level,
            number=crit.number,
            label=str(crit.number),
            name=crit.name,
            name_en=crit.name_en,
            description=crit.description,
            parent=None,
            children=sub_codes,
            owners=owners,
            cooperating=tuple(crit.cooperating),
            keywords=tuple(crit.aliases) + tuple(crit.keywords),
            keywords_en=tuple(crit.keywords_en),
            source=crit.source,
        )
        for sub, owner in zip(crit.subs, sub_owners, strict=True):
            assert owner is not None  # checked by the loader
            self.indicators[f"{level}:{sub.code}"] = Indicator(
                code=f"{level}:{sub.code}",
                level=level,
                number=crit.number,
                label=sub.code,
                name=sub.name,
                name_en=sub.name_en,
                description=None,
                parent=code,
                children=(),
                owners=(owner,),
                cooperating=tuple(sub.cooperating),
                keywords=tuple(sub.keywords),
                keywords_en=tuple(sub.keywords_en),
                source=sub.source or crit.source,
            )

    # -- summaries ------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        subs = [i for i in self.indicators.values() if i.is_sub]
        return {
            "tiêu chí xã": len(self.criteria.xa),
            "tiêu chí huyện": len(self.criteria.huyen),
            "chỉ tiêu (nội dung)": len(subs),
            "đơn vị": len(self.units),
            "nhiệm vụ của đơn vị": sum(len(u.duties) for u in self.units),
            "thời hạn": len(self.deadlines),
            "mục tiêu, việc định kỳ": len(self.facts),
            "xã, thị trấn": len(self.communes.communes),
            "mẫu báo cáo": len(self.forms),
            "việc được giao": len(self.tasks),
            "quy tắc căn cứ": self.evidence.declared if self.evidence else 0,
            "đoạn văn bản Kế hoạch": len(self.passages),
        }

    # -- lookups --------------------------------------------------------------------------
    @property
    def locator(self) -> Locator:
        """Where a photo was taken (the communes' outlines), read when first needed."""
        if self._locator is None:
            self._locator = Locator.load(self.source_dir)
        return self._locator

    def commune_by_code(self, code: str) -> str | None:
        """A commune's name from its code (``tho-binh`` → "Thọ Bình")."""
        return next((c.name for c in self.communes.communes if c.code == code), None)

    def task(self, task_id: str) -> TaskEntry | None:
        return next((t for t in self.tasks if t.id == task_id), None)

    def tasks_of(self, owner: str) -> list[TaskEntry]:
        """A unit's tasks (``cac-xa``: the tasks every commune does), by due date."""
        return [t for t in self.tasks if t.owner == owner]

    def is_commune_task(self, task: TaskEntry) -> bool:
        return self.unit_by_key[task.owner].kind == "communes"

    def due(self, task: TaskEntry) -> dt.date:
        return self.deadline_by_id[task.deadline].due

    def has_unit(self, key: str) -> bool:
        return key in self.unit_by_key

    @property
    def staffed_units(self) -> list[Unit]:
        """Units whose staff may be invited as users: not the office (its staff are office
        staff) nor "every commune" (communes have officers)."""
        return [u for u in self.units if u.kind not in ("office", "communes")]

    def unit(self, key: str) -> Unit:
        return self.unit_by_key[key]

    def indicator(self, code: str) -> Indicator | None:
        return self.indicators.get(code)

    def top_level(self, level: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.level == level and not i.is_sub]

    def is_department(self, key: str) -> bool:
        """Real district units (not the communes collectively)."""
        return self.unit_by_key[key].kind != "communes"

    def owned_by(self, unit_key: str) -> list[Indicator]:
        """What a unit owns, as whole criteria where it owns every sub-indicator."""
        owned: list[Indicator] = []
        for crit in self.indicators.values():
            if crit.is_sub:
                continue
            if not crit.children:
                if unit_key in crit.owners:
                    owned.append(crit)
                continue
            subs = [self.indicators[c] for c in crit.children]
            mine = [s for s in subs if unit_key in s.owners]
            if mine and len(mine) == len(subs):
                owned.append(crit)
            else:
                owned.extend(mine)
        return owned

    def related_codes(self, code: str) -> set[str]:
        """The code, its parent and its children: what a deadline on any of them touches."""
        ind = self.indicators[code]
        related = {code, *ind.children}
        if ind.parent:
            related.add(ind.parent)
        return related

    def deadlines_for(self, code: str) -> list[DeadlineLink]:
        """Every deadline that applies to a criterion or sub-indicator, by date.

        Completion deadlines name the criterion (or its parent/children); appraisal deadlines
        (``applies_to_owned``) apply through the units that own it.
        """
        ind = self.indicators[code]
        related = self.related_codes(code)
        owners = set(ind.owners)
        if not ind.is_sub:
            for child in ind.children:
                owners.update(self.indicators[child].owners)
        links: list[DeadlineLink] = []
        for deadline in self.deadlines:
            if deadline.applies_to_owned:
                units = tuple(u for u in deadline.responsible if u in owners)
                if units:
                    links.append(DeadlineLink(deadline, units))
            elif related.intersection(deadline.criteria):
                links.append(DeadlineLink(deadline, tuple(deadline.responsible)))
        return links

    def duties(self, unit_key: str) -> list[Duty]:
        return list(self.unit_by_key[unit_key].duties)

    def cooperations(self, unit_key: str) -> list[Indicator]:
        """Criteria a unit supports without owning them."""
        return [i for i in self.indicators.values() if unit_key in i.cooperating]

    def deadlines_of_unit(self, unit_key: str) -> list[Deadline]:
        """Deadlines that name the unit, by date."""
        return [d for d in self.deadlines if unit_key in d.responsible]

    def deadlines_between(self, start: dt.date, end: dt.date) -> list[Deadline]:
        """Deadlines falling due in ``[start, end]``, by date."""
        return [d for d in self.deadlines if start <= d.due <= end]

    def facts_for(self, code: str) -> list[Fact]:
        related = self.related_codes(code)
        return [f for f in self.facts if related.intersection(f.criteria)]

    def facts_with_deadline(self, deadline_id: str) -> list[Fact]:
        return [f for f in self.facts if f.deadline == deadline_id]
