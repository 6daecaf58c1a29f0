"""Evidence rules (``evidence.yaml``): what shows where each criterion stands.

For every indicator (a criterion or a sub-indicator) at each level the plan data declares what
counts as evidence, so that one read model (:mod:`handlers.readmodel.criteria`) can compute
every standing the office sees and no code names a form, a field or a status value:

- ``commune``: for each commune indicator, the reports that show it (a form's target on one of
  its fields: BHYT ``rate`` > 85 shows 15.1 met) and the communes' own tasks it needs (each
  commune's share, marked in ``/viec``). Any indicator may also be reported directly with a form
  whose role is ``indicator-status``. A district unit's task never counts here: its dossier on
  a commune criterion is the unit's own work, not evidence that any commune meets it.
- ``district``: for each district indicator, the district units' tasks that establish it.
- ``due`` (either level): the deadline after which an indicator not met is late; by default the
  earliest due date of its tasks.
- ``completions``: a report meeting every target of a form completes the commune's share of a
  task (recorded as a mark whose source is the report).
- ``goals``: a goal deadline the communes reach together, followed by counting the communes
  that meet every criterion.

A rule on a criterion applies to its sub-indicators too; a criterion with sub-indicators is met
when all of them are. ``ntm-bot kb check`` refuses a rule that names a form, a field, a target,
a task or a deadline that does not exist, a task at the wrong level, or an indicator left
without evidence, with the file and the line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from knowledge.errors import KnowledgeError
from knowledge.models import CODE_RE, Key, TaskId
from knowledge.yamlfile import Loc, describe, problem, read_yaml

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase
    from knowledge.forms import Form

EVIDENCE_FILE = "evidence.yaml"
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportSource(_Strict):
    """A form's target on one field: a report meeting it shows the indicator met."""

    form: Key
    field: FieldKey


class IndicatorRule(_Strict):
    indicator: str
    reports: list[ReportSource] = Field(default_factory=list)
    tasks: list[TaskId] = Field(default_factory=list)
    due: Key | None = None


class Completion(_Strict):
    """A report of ``form`` meeting all its targets completes the commune's share of ``task``."""

    task: TaskId
    form: Key


class Goal(_Strict):
    """A goal deadline reached by counting the communes (of ``communes`` kind) that meet every
    commune criterion."""

    deadline: Key
    communes: Literal["xa", "thi_tran", "all"] = "xa"


class EvidenceFile(_Strict):
    commune: list[IndicatorRule] = Field(default_factory=list)
    district: list[IndicatorRule] = Field(default_factory=list)
    completions: list[Completion] = Field(default_factory=list)
    goals: list[Goal] = Field(default_factory=list)


# -- resolved ---------------------------------------------------------------------------------

Place = Literal["commune", "district"]
SECTION_LEVEL: dict[Place, str] = {"commune": "xa", "district": "huyen"}


@dataclass(frozen=True)
class MeasureSource:
    """A form's target on a field, resolved."""

    form: str
    field: str


@dataclass(frozen=True)
class Rule:
    """What shows one indicator's standing, with its criterion's rule merged in."""

    code: str
    place: Place
    reports: tuple[MeasureSource, ...]
    tasks: tuple[str, ...]
    task_dues: tuple[dt.date, ...]  # each task's due date, in the order of ``tasks``
    due: dt.date | None  # a date declared for the indicator itself (``due:``), if any

    def first_due(self) -> dt.date | None:
        """The earliest date it is due: its own, or its tasks'."""
        dates = [*self.task_dues, *([self.due] if self.due else [])]
        return min(dates) if dates else None


@dataclass(frozen=True)
class Evidence:
    """Every indicator's rule, the forms that state standings, completions and goals."""

    rules: dict[str, Rule]
    declared: int  # rules written in evidence.yaml (a criterion's covers its sub-indicators)
    status_forms: tuple[str, ...]  # forms whose role is indicator-status
    completions: dict[str, tuple[str, ...]]  # form id → task ids its reports complete
    goals: tuple[Goal, ...]

    def rule(self, code: str) -> Rule:
        return self.rules[code]

    def serving(self, task_id: str) -> list[Rule]:
        """The rules of the indicators (without sub-indicators) a task serves."""
        return [r for r in self.rules.values() if task_id in r.tasks]


def load_evidence(base: Path, kb: KnowledgeBase) -> Evidence:
    """Read ``evidence.yaml`` and check every reference against the loaded plan."""
    path = base / EVIDENCE_FILE
    raw = read_yaml(path)
    try:
        data = EvidenceFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(describe(path, exc)) from None
    return _Checker(path, kb).check(data)


class _Checker:
    def __init__(self, path: Path, kb: KnowledgeBase) -> None:
        self.path = path
        self.kb = kb
        self.tasks = {t.id: t for t in kb.tasks}

    def fail(self, loc: Loc, message: str) -> KnowledgeError:
        return problem(self.path, loc, message)

    def check(self, data: EvidenceFile) -> Evidence:
        own: dict[str, tuple[IndicatorRule, Place, Loc]] = {}
        for place in ("commune", "district"):
            for i, rule in enumerate(getattr(data, place)):
                loc: Loc = (place, i)
                self._indicator(rule, place, loc)
                if rule.indicator in own:
                    raise self.fail(
                        (*loc, "indicator"), f"tiêu chí '{rule.indicator}' đã có quy tắc ở trên"
                    )
                for j, source in enumerate(rule.reports):
                    self._report(source, (*loc, "reports", j))
                for j, task_id in enumerate(rule.tasks):
                    self._task(task_id, place, (*loc, "tasks", j))
                if rule.due is not None and rule.due not in self.kb.deadline_by_id:
                    raise self.fail((*loc, "due"), f"không có thời hạn '{rule.due}'")
                own[rule.indicator] = (rule, place, loc)
        rules = self._resolve(own)
        self._tasks_name_their_criteria(own)
        completions: dict[str, list[str]] = {}
        for i, completion in enumerate(data.completions):
            loc = ("completions", i)
            self._task(completion.task, "commune", (*loc, "task"))
            form = self._form(completion.form, (*loc, "form"))
            if not form.targets:
                raise self.fail((*loc, "form"), f"mẫu '{form.id}' không có mục tiêu (targets)")
            for rule in rules.values():
                measured = any(source.form == form.id for source in rule.reports)
                leaf = not self.kb.indicators[rule.code].children
                if leaf and completion.task in rule.tasks and not measured:
                    raise self.fail(
                        (*loc, "task"),
                        f"việc '{completion.task}' còn phục vụ '{rule.code}', mà báo cáo "
                        f"'{form.id}' không đo: báo cáo đạt mục tiêu chưa đủ để coi việc là xong",
                    )
            completions.setdefault(form.id, []).append(completion.task)
        goal_ids = set()
        for i, goal in enumerate(data.goals):
            deadline = self.kb.deadline_by_id.get(goal.deadline)
            if deadline is None or not deadline.goal:
                raise self.fail(
                    ("goals", i, "deadline"),
                    f"'{goal.deadline}' không phải thời hạn có goal: true trong deadlines.yaml",
                )
            goal_ids.add(goal.deadline)
        for deadline in self.kb.deadlines:
            if deadline.goal and deadline.id not in goal_ids:
                raise self.fail(
                    ("goals",), f"mục tiêu '{deadline.id}' (deadlines.yaml) chưa có cách đếm"
                )
        status_forms = tuple(f.id for f in self.kb.forms.values() if f.role == "indicator-status")
        return Evidence(
            rules=rules,
            declared=len(own),
            status_forms=status_forms,
            completions={k: tuple(v) for k, v in completions.items()},
            goals=tuple(data.goals),
        )

    def _indicator(self, rule: IndicatorRule, place: Place, loc: Loc) -> None:
        code = rule.indicator
        if not CODE_RE.match(code) or code not in self.kb.indicators:
            raise self.fail((*loc, "indicator"), f"không có tiêu chí '{code}' trong criteria.yaml")
        level = SECTION_LEVEL[place]
        if not code.startswith(level + ":"):
            raise self.fail(
                (*loc, "indicator"),
                f"'{code}' không phải tiêu chí {'xã' if level == 'xa' else 'huyện'}",
            )
        if place == "district" and rule.reports:
            raise self.fail((*loc, "reports"), "báo cáo của xã không làm căn cứ cho tiêu chí huyện")

    def _form(self, form_id: str, loc: Loc) -> Form:
        form = self.kb.forms.get(form_id)
        if form is None:
            raise self.fail(loc, f"không có mẫu báo cáo '{form_id}' (forms/)")
        return form

    def _report(self, source: ReportSource, loc: Loc) -> None:
        form = self._form(source.form, (*loc, "form"))
        if form.role != "measure":
            raise self.fail(
                (*loc, "form"),
                f"mẫu '{form.id}' có role {form.role}: nó nêu tình trạng mọi chỉ tiêu, không cần"
                " khai ở đây",
            )
        known = {f.key for f in form.fields} | {c.key for c in form.computed}
        if source.field not in known:
            raise self.fail((*loc, "field"), f"mẫu '{form.id}' không có trường '{source.field}'")
        if not form.targets_on(source.field):
            raise self.fail(
                (*loc, "field"), f"mẫu '{form.id}' không có mục tiêu (targets) cho '{source.field}'"
            )

    def _task(self, task_id: str, place: Place, loc: Loc) -> None:
        task = self.tasks.get(task_id)
        if task is None:
            raise self.fail(loc, f"không có việc '{task_id}' trong tasks.yaml")
        communal = self.kb.is_commune_task(task)
        if place == "commune" and not communal:
            raise self.fail(
                loc,
                f"việc '{task_id}' là việc của {self.kb.unit(task.owner).name}, không phải phần"
                " việc của mỗi xã: nó không làm thay đổi tình trạng tiêu chí của xã nào",
            )
        if place == "district" and communal:
            raise self.fail(loc, f"việc '{task_id}' là phần việc của các xã, không của huyện")

    def _tasks_name_their_criteria(self, own: dict[str, tuple[IndicatorRule, Place, Loc]]) -> None:
        """A task a rule names lists that indicator (or its criterion, or a sub-indicator)
        among its ``criteria`` in tasks.yaml, and a communes' task's criteria all have a rule
        naming it: the tasks sheet and the answers say what the read model counts."""
        related = self.kb.related_codes
        for code, (rule, _place, loc) in own.items():
            for j, task_id in enumerate(rule.tasks):
                if not related(code) & set(self.tasks[task_id].criteria):
                    raise self.fail(
                        (*loc, "tasks", j),
                        f"việc '{task_id}' không ghi tiêu chí '{code}' trong tasks.yaml"
                        " (criteria): hai tệp phải nói cùng một điều",
                    )
        for task in self.tasks.values():
            if not self.kb.is_commune_task(task):
                continue
            named = {c for c, (r, _p, _l) in own.items() if task.id in r.tasks}
            for code in task.criteria:
                if not any(related(code) & related(c) for c in named):
                    raise KnowledgeError(
                        f"tasks.yaml: {task.id}.criteria: '{code}' không có quy tắc nào trong"
                        f" {EVIDENCE_FILE} gắn với việc này"
                    )

    def _resolve(self, own: dict[str, tuple[IndicatorRule, Place, Loc]]) -> dict[str, Rule]:
        rules: dict[str, Rule] = {}
        for code, ind in self.kb.indicators.items():
            place: Place = "commune" if ind.level == "xa" else "district"
            mine = own.get(code)
            parent = own.get(ind.parent) if ind.parent else None
            parts = [p[0] for p in (mine, parent) if p is not None]
            reports = tuple(
                dict.fromkeys(MeasureSource(s.form, s.field) for p in parts for s in p.reports)
            )
            tasks = tuple(dict.fromkeys(t for p in parts for t in p.tasks))
            due_id = next((p.due for p in parts if p.due is not None), None)
            if not ind.children and not (reports or tasks):
                where = mine[2] if mine else parent[2] if parent else (place,)
                raise self.fail(
                    where,
                    f"tiêu chí '{code}' chưa có căn cứ nào (reports hoặc tasks): không bao giờ"
                    " biết được nó đạt hay chậm",
                )
            due = self.kb.deadline_by_id[due_id].due if due_id else None
            dues = tuple(self.kb.due(self.tasks[t]) for t in tasks)
            rules[code] = Rule(code, place, reports, tasks, dues, due)
        return rules
