"""Load and cross-check a plan data directory into a :class:`KnowledgeBase`.

Schema errors come from pydantic; references between files (unit keys, criterion codes,
deadline ids) are checked here. Either way the error names the file and the field.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge.base import KnowledgeBase
from knowledge.documents import load_documents
from knowledge.errors import KnowledgeError
from knowledge.evidence import load_evidence
from knowledge.forms import Form, load_forms
from knowledge.locate import AREAS_FILE, Locator
from knowledge.models import (
    CODE_RE,
    CommunesFile,
    CriteriaFile,
    DeadlinesFile,
    FactsFile,
    PlanMeta,
    TaskEntry,
    TasksFile,
    UnitsFile,
)
from knowledge.passages import read_passages
from knowledge.tasks import generate_tasks
from knowledge.yamlfile import describe, read_yaml

M = TypeVar("M", bound=BaseModel)


def default_data_dir() -> Path:
    return Path(str(resources.files("knowledge").joinpath("data")))


def load_knowledge(directory: Path | str | None = None) -> KnowledgeBase:
    """Load the plan from ``directory`` (default: the data shipped with the package)."""
    base = Path(directory) if directory is not None else default_data_dir()
    if not base.is_dir():
        raise KnowledgeError(f"{base}: thư mục dữ liệu không tồn tại")
    meta = _load(base, "plan.yaml", PlanMeta)
    units = _load(base, "units.yaml", UnitsFile)
    criteria = _load(base, "criteria.yaml", CriteriaFile)
    deadlines = _load(base, "deadlines.yaml", DeadlinesFile)
    facts = _load(base, "facts.yaml", FactsFile)
    communes = _load(base, "communes.yaml", CommunesFile)
    _check_references(units, criteria, deadlines, facts, communes)
    forms = load_forms(base / "forms")
    _check_forms(forms, {d.id for d in deadlines.deadlines}, {f.id for f in facts.facts})
    text = base / meta.source_file
    if not text.is_file():
        raise KnowledgeError(f"{text}: không tìm thấy văn bản Kế hoạch (plan.yaml: source_file)")
    kb = KnowledgeBase(
        source_dir=base,
        meta=meta,
        units=units.units,
        criteria=criteria,
        deadlines=deadlines.deadlines,
        facts=facts.facts,
        communes=communes,
        forms=forms,
        passages=read_passages(text),
    )
    # tasks.yaml once written (and perhaps edited); generated from the deadlines until then
    tasks = (
        _load(base, TASKS_FILE, TasksFile).tasks
        if (base / TASKS_FILE).is_file()
        else generate_tasks(kb)
    )
    _check_tasks(kb, tasks)
    kb.tasks = sorted(tasks, key=lambda t: (kb.due(t), t.id))
    kb.evidence = load_evidence(base, kb)
    _check_photo_criteria(kb)
    kb.documents = load_documents(base, text.read_text("utf-8"))
    unknown = set(Locator.codes(base)) - {c.code for c in kb.communes.communes}
    if unknown:
        raise KnowledgeError(
            f"{base / AREAS_FILE}: không có xã {sorted(unknown)} trong communes.yaml"
        )
    return kb


TASKS_FILE = "tasks.yaml"


def _check_tasks(kb: KnowledgeBase, tasks: list[TaskEntry]) -> None:
    """References resolve, ids are unique, and every deadline's units have their task."""
    _unique(TASKS_FILE, "id", [t.id for t in tasks])
    for i, task in enumerate(tasks):
        where = f"tasks[{i}] ({task.id})"
        _known_units(TASKS_FILE, f"{where}.owner", [task.owner], set(kb.unit_by_key))
        _known_units(TASKS_FILE, f"{where}.with", task.with_units, set(kb.unit_by_key))
        if task.deadline not in kb.deadline_by_id:
            raise KnowledgeError(
                f"{TASKS_FILE}: {where}.deadline: không có thời hạn '{task.deadline}' trong "
                "deadlines.yaml"
            )
        _known_codes(TASKS_FILE, f"{where}.criteria", task.criteria, set(kb.indicators))
    covered = {(t.deadline, t.owner) for t in tasks}
    for deadline in kb.deadlines:
        for owner in deadline.responsible:
            bound = (not deadline.applies_to_owned or kb.owned_by(owner)) and not (
                deadline.goal and not kb.is_department(owner)
            )
            if bound and (deadline.id, owner) not in covered:
                raise KnowledgeError(
                    f"{TASKS_FILE}: thời hạn '{deadline.id}' giao cho '{owner}' nhưng không có "
                    "việc nào tương ứng (ntm-bot kb tasks in danh sách đề xuất)"
                )


def _load(base: Path, name: str, model: type[M]) -> M:
    path = base / name
    data = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeError(describe(path, exc)) from None


def _check_references(
    units: UnitsFile,
    criteria: CriteriaFile,
    deadlines: DeadlinesFile,
    facts: FactsFile,
    communes: CommunesFile,
) -> None:
    unit_keys = _unique("units.yaml", "units", [u.key for u in units.units])
    deadline_ids = _unique("deadlines.yaml", "deadlines", [d.id for d in deadlines.deadlines])
    _unique("facts.yaml", "facts", [f.id for f in facts.facts])
    _unique("communes.yaml", "communes", [c.code for c in communes.communes])

    codes: set[str] = set()
    for level in ("xa", "huyen"):
        items = getattr(criteria, level)
        numbers = _unique("criteria.yaml", level, [c.number for c in items])
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            raise KnowledgeError(f"criteria.yaml: {level}: tiêu chí phải đánh số liên tục từ 1")
        for i, crit in enumerate(items):
            where = f"{level}[{i}]"
            codes.add(f"{level}:{crit.number}")
            _known_units(
                "criteria.yaml", f"{where}.owner", [crit.owner] if crit.owner else [], unit_keys
            )
            _known_units("criteria.yaml", f"{where}.cooperating", crit.cooperating, unit_keys)
            if not crit.subs and crit.owner is None:
                raise KnowledgeError(f"criteria.yaml: {where}.owner: thiếu đơn vị chủ trì")
            _unique("criteria.yaml", f"{where}.subs", [s.code for s in crit.subs])
            for j, sub in enumerate(crit.subs):
                sub_where = f"{where}.subs[{j}]"
                if sub.code.split(".")[0] != str(crit.number):
                    raise KnowledgeError(
                        f"criteria.yaml: {sub_where}.code: {sub.code} "
                        f"không thuộc tiêu chí {crit.number}"
                    )
                if sub.owner is None and crit.owner is None:
                    raise KnowledgeError(f"criteria.yaml: {sub_where}.owner: thiếu đơn vị chủ trì")
                _known_units(
                    "criteria.yaml",
                    f"{sub_where}.owner",
                    [sub.owner] if sub.owner else [],
                    unit_keys,
                )
                _known_units(
                    "criteria.yaml", f"{sub_where}.cooperating", sub.cooperating, unit_keys
                )
                codes.add(f"{level}:{sub.code}")

    for i, unit in enumerate(units.units):
        for j, duty in enumerate(unit.duties):
            where = f"units[{i}].duties[{j}]"
            if duty.deadline is not None and duty.deadline not in deadline_ids:
                raise KnowledgeError(
                    f"units.yaml: {where}.deadline: không có thời hạn '{duty.deadline}'"
                )
            _known_codes("units.yaml", f"{where}.criteria", duty.criteria, codes)
            _known_units("units.yaml", f"{where}.with", duty.with_units, unit_keys)

    for i, deadline in enumerate(deadlines.deadlines):
        where = f"deadlines[{i}]"
        _known_units("deadlines.yaml", f"{where}.responsible", deadline.responsible, unit_keys)
        _known_codes("deadlines.yaml", f"{where}.criteria", deadline.criteria, codes)

    for i, fact in enumerate(facts.facts):
        where = f"facts[{i}]"
        _known_units("facts.yaml", f"{where}.who", fact.who, unit_keys)
        _known_codes("facts.yaml", f"{where}.criteria", fact.criteria, codes)
        if fact.deadline is not None and fact.deadline not in deadline_ids:
            raise KnowledgeError(
                f"facts.yaml: {where}.deadline: không có thời hạn '{fact.deadline}'"
            )


def _unique(file: str, field: str, values: list[Any]) -> set[Any]:
    seen: set[Any] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise KnowledgeError(f"{file}: {field}[{i}]: giá trị trùng lặp '{value}'")
        seen.add(value)
    return seen


def _known_units(file: str, field: str, keys: list[str], known: set[str]) -> None:
    for key in keys:
        if key not in known:
            raise KnowledgeError(f"{file}: {field}: không có đơn vị '{key}' trong units.yaml")


def _known_codes(file: str, field: str, refs: list[str], known: set[str]) -> None:
    for ref in refs:
        if not CODE_RE.match(ref):
            raise KnowledgeError(
                f"{file}: {field}: mã tiêu chí '{ref}' phải có dạng xa:17.4 hoặc huyen:5"
            )
        if ref not in known:
            raise KnowledgeError(f"{file}: {field}: không có tiêu chí '{ref}' trong criteria.yaml")


def _check_photo_criteria(kb: KnowledgeBase) -> None:
    for form in kb.forms.values():
        for item in form.fields:
            for code in item.criteria:
                if code not in kb.indicators:
                    raise KnowledgeError(
                        f"forms/{form.id}: fields.{item.key}.criteria: không có tiêu chí '{code}'"
                    )


def _check_forms(forms: dict[str, Form], deadlines: set[str], facts: set[str]) -> None:
    for form in forms.values():
        where = f"forms/{form.id}"
        for i, target in enumerate(form.targets):
            if target.deadline is not None and target.deadline not in deadlines:
                raise KnowledgeError(
                    f"{where}: targets[{i}].deadline: không có thời hạn '{target.deadline}'"
                )
            if target.fact is not None and target.fact not in facts:
                raise KnowledgeError(
                    f"{where}: targets[{i}].fact: không có mục tiêu '{target.fact}'"
                )
