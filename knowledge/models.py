"""Schemas of the plan data files (``knowledge/data/*.yaml``), validated at load.

Every fact carries ``source``: the section of the plan it was read from. Texts come in
Vietnamese (``*``) and English (``*_en``) because the bot answers in both.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Level = Literal["xa", "huyen"]
CODE_RE = re.compile(r"^(xa|huyen):(\d{1,2})(?:\.(\d{1,2}))?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Recipient(Strict):
    """One line of the plan's "Nơi nhận": who receives the plan, and why ("b/c": to be
    informed; "t/h": to carry it out)."""

    name: Text
    name_en: Text
    purpose: Text | None = None
    purpose_en: Text | None = None


class PlanMeta(Strict):
    """``plan.yaml``: which plan this directory encodes."""

    title: Text
    title_en: Text
    district: Text
    province: Text
    year: int = Field(ge=2000, le=2100)
    document: Text
    issuer: Text = "UBND huyện"
    issuer_en: Text = "the district People's Committee"
    number: Text | None = None  # left blank in the text ("Số: /KH-UBND"): the plan gives none
    date: dt.date | None = None
    signed_by: Text | None = None
    recipients: tuple[Recipient, ...] = ()
    source_file: Text


# --- units ---------------------------------------------------------------------------------


class Duty(Strict):
    """One task the plan gives a unit, beyond guiding the criteria it owns."""

    kind: Literal["task", "appraisal"] = "task"
    text: Text | None = None
    text_en: Text | None = None
    # For ``appraisal`` duties: whom the unit invites to appraise, and what the dossier proves
    # (default: the criteria the unit owns).
    provincial_body: Text | None = None
    provincial_body_en: Text | None = None
    subject: Text | None = None
    subject_en: Text | None = None
    deadline: Key | None = None
    criteria: list[str] = Field(default_factory=list)
    with_units: list[Key] = Field(default_factory=list, alias="with")
    keywords: list[Text] = Field(default_factory=list)
    source: Text

    @model_validator(mode="after")
    def _complete(self) -> Duty:
        if self.kind == "task" and not (self.text and self.text_en):
            raise ValueError("task duties need text and text_en")
        if self.kind == "appraisal" and not (self.provincial_body and self.provincial_body_en):
            raise ValueError("appraisal duties need provincial_body and provincial_body_en")
        if (self.subject is None) != (self.subject_en is None):
            raise ValueError("subject and subject_en go together")
        return self


class Unit(Strict):
    key: Key
    name: Text
    name_en: Text
    short: Text | None = None
    kind: Literal[
        "department", "office", "agency", "committee", "center", "board", "authority", "communes"
    ]
    aliases: list[Text] = Field(default_factory=list)
    duties: list[Duty] = Field(default_factory=list)
    source: Text


class UnitsFile(Strict):
    units: list[Unit]


# --- criteria ------------------------------------------------------------------------------


class SubIndicator(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.\d{1,2}$")]
    name: Text
    name_en: Text
    owner: Key | None = None
    cooperating: list[Key] = Field(default_factory=list)
    keywords: list[Text] = Field(default_factory=list)
    keywords_en: list[Text] = Field(default_factory=list)
    source: Text | None = None


class Criterion(Strict):
    number: int = Field(ge=1, le=99)
    name: Text
    name_en: Text
    description: Text | None = None
    owner: Key | None = None
    cooperating: list[Key] = Field(default_factory=list)
    aliases: list[Text] = Field(default_factory=list)
    keywords: list[Text] = Field(default_factory=list)
    keywords_en: list[Text] = Field(default_factory=list)
    subs: list[SubIndicator] = Field(default_factory=list)
    source: Text


class CriteriaFile(Strict):
    commune_standard: Text
    district_standard: Text
    xa: list[Criterion]
    huyen: list[Criterion]


# --- deadlines and facts -------------------------------------------------------------------


class Deadline(Strict):
    id: Key
    due: dt.date
    period: Literal["day", "month", "quarter", "year"] = "day"
    level: Level
    responsible: list[Key] = Field(min_length=1)
    criteria: list[str] = Field(default_factory=list)
    applies_to_owned: bool = False
    # A goal of the district that the communes reach together ("32/32 xã đạt chuẩn"): followed
    # by counting the communes that meet it (evidence.yaml, goals), never a task of each commune.
    goal: bool = False
    what: Text
    what_en: Text
    quote: Text
    keywords: list[Text] = Field(default_factory=list)
    keywords_en: list[Text] = Field(default_factory=list)
    source: Text


class Recurrence(Strict):
    times: int = Field(ge=1)
    per: Literal["week", "month", "year"]


class Fact(Strict):
    id: Key
    kind: Literal["target", "recurring", "requirement", "framing"]
    subject: Text
    subject_en: Text
    value: Text
    value_en: Text
    who: list[Key] = Field(default_factory=list)  # empty only for the plan's framing
    deadline: Key | None = None
    criteria: list[str] = Field(default_factory=list)
    recurrence: Recurrence | None = None

    @model_validator(mode="after")
    def _someone_is_bound(self) -> Fact:
        if not self.who and self.kind != "framing":
            raise ValueError("who: a target, duty or requirement names the units it binds")
        return self

    quote: Text
    keywords: list[Text] = Field(default_factory=list)
    keywords_en: list[Text] = Field(default_factory=list)
    source: Text


class DeadlinesFile(Strict):
    deadlines: list[Deadline]


class FactsFile(Strict):
    facts: list[Fact]


# --- communes ------------------------------------------------------------------------------


class CommuneEntry(Strict):
    code: Key
    name: Text
    kind: Literal["xa", "thi_tran"] = "xa"
    aliases: list[Text] = Field(default_factory=list)


class CommunesFile(Strict):
    source: Text
    as_of: dt.date
    communes: list[CommuneEntry] = Field(min_length=1)


# --- tasks ---------------------------------------------------------------------------------

TaskId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)?$", max_length=40)
]  # fits a button


class TaskEntry(Strict):
    """One piece of work the plan assigns with a date: ``tasks.yaml``, generated from the
    deadlines and the units' duties (``ntm-bot kb tasks --write``) and editable by hand.

    ``owner`` is a unit key; the communes' collective key (``cac-xa``) means every commune
    does it, each on its own. The due date is the deadline's."""

    id: TaskId
    owner: Key
    deadline: Key
    what: Text
    what_en: Text
    criteria: list[str] = Field(default_factory=list)
    with_units: list[Key] = Field(default_factory=list, alias="with")
    source: Text


class TasksFile(Strict):
    tasks: list[TaskEntry]
