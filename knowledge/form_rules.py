"""What a form means, apart from any conversation: which questions apply given the answers so
far, which period a report covers, the computed values and whether a target is met.

Pure functions over :mod:`knowledge.forms` models, used by the report dialog, the office views,
the exports and the digest alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from knowledge.forms import Form, FormField, Target, evaluate


@dataclass(frozen=True)
class Step:
    """One question: a field, and which repetition of it (``ocop_name.1``)."""

    field: FormField
    index: int | None = None

    @property
    def key(self) -> str:
        return self.field.key if self.index is None else f"{self.field.key}.{self.index}"


def steps_of(form: Form, answers: dict[str, Any]) -> list[Step]:
    """The questions to ask given the answers so far (conditions and repetitions applied)."""
    steps: list[Step] = []
    fields = list(form.fields)
    done_groups: set[str] = set()
    for item in fields:
        if not _applies(item, answers):
            continue
        if item.group is None:
            steps.append(Step(item))
            continue
        if item.group in done_groups:
            continue
        done_groups.add(item.group)
        members = [f for f in fields if f.group == item.group and _applies(f, answers)]
        count = answers.get(item.repeat_of or "")
        repeat = int(count) if isinstance(count, int | float) else 0
        for index in range(repeat):
            steps.extend(Step(member, index) for member in members)
    return steps


def _applies(item: FormField, answers: dict[str, Any]) -> bool:
    condition = item.when
    if condition is None:
        return True
    value = answers.get(condition.field)
    if condition.is_in is not None and value not in condition.is_in:
        return False
    return not (condition.not_in is not None and value in condition.not_in)


def current_period(form: Form, today: dt.date) -> str:
    if form.period == "month":
        return f"{today.year}-{today.month:02d}"
    if form.period == "quarter":
        return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    if form.period == "week":
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    if form.period == "year":
        return str(today.year)
    return ""


def compute(form: Form, answers: dict[str, Any]) -> dict[str, float | None]:
    numbers = {
        k: float(v) for k, v in answers.items() if isinstance(v, int | float) and "." not in k
    }
    values: dict[str, float | None] = {}
    for item in form.computed:
        result = evaluate(item.expr, numbers)
        values[item.key] = None if result is None else round(result, item.decimals)
        if result is not None:
            numbers[item.key] = result
    return values


def compute_all(form: Form, answers: dict[str, Any]) -> dict[str, Any]:
    return {**answers, **compute(form, answers)}


def target_met(target: Target, values: dict[str, Any]) -> bool | None:
    value = values.get(target.field)
    if value is None:
        return None
    if target.op == "in":
        return str(value) in target.values
    assert target.value is not None
    number = float(value)
    return {
        ">": number > target.value,
        ">=": number >= target.value,
        "<": number < target.value,
        "<=": number <= target.value,
        "==": number == target.value,
    }[target.op]
