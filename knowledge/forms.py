"""Report forms as data (``knowledge/data/forms/*.yaml``), validated at load.

A form is a list of fields asked one at a time, optional computed values (safe arithmetic on
earlier fields), the plan's targets they are compared with, and the period a report covers.
A new form is a new YAML file: the dialog engine needs no code for it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from knowledge.errors import KnowledgeError
from knowledge.yamlfile import describe, read_yaml

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Ref = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]  # ids in other files
FieldType = Literal["integer", "number", "percent", "text", "choice", "date", "indicator", "photo"]


# The report dialog's buttons carry a form's id, field keys and option values (and a
# repetition number after a key): each is kept to NAME_BYTES so that every action the dialog
# makes of them fits a button (Telegram's callback_data holds 64 bytes; handlers/form_actions.py
# is tested against these limits). A form with a longer name is refused when it loads.
NAME_BYTES = 40
LONGEST_REPETITION = ".9999"


def _short_enough(name: str, where: str) -> None:
    size = len(name.encode("utf-8"))
    if size > NAME_BYTES:
        raise ValueError(
            f"{where}: quá dài cho nút bấm ({size} byte, tối đa {NAME_BYTES} byte cho “{name}”); "
            "hãy đặt tên ngắn hơn"
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: Key
    label: Text
    label_en: Text
    words: list[Text] = Field(default_factory=list)  # other ways people type it


class Condition(_Strict):
    """Ask the field only when another field's value is (not) one of these."""

    field: Key
    is_in: list[str] | None = Field(None, alias="in")
    not_in: list[str] | None = None


class FormField(_Strict):
    key: Key
    label: Text
    label_en: Text
    name: Text  # short name used inside sentences ("số dân")
    name_en: Text
    type: FieldType
    unit: str | None = None
    unit_en: str | None = None
    example: str | None = None
    example_en: str | None = None
    help: str | None = None
    help_en: str | None = None
    required: bool = True
    min: float | None = None
    max: float | None = None
    max_field: Key | None = None  # not larger than that earlier field
    min_field: Key | None = None
    max_length: int = Field(500, ge=1, le=4000)
    options: list[Option] = Field(default_factory=list)
    level: Literal["xa", "huyen"] = "xa"  # for ``indicator`` fields
    when: Condition | None = None
    # Ask once more when the value differs from the commune's previous report by more than
    # this share (0.2: ±20%): "12.500 → 9.000 — đúng chưa?". Numbers only.
    change_alert: float | None = Field(None, gt=0, le=10)
    repeat_of: Key | None = None  # asked once per unit of that earlier integer field
    group: Key | None = None  # fields repeated together share a group name
    # ``photo`` fields: how many photos (or PDF documents) an answer needs and may hold.
    min_count: int = Field(1, ge=1, le=20)
    max_count: int = Field(10, ge=1, le=30)
    # ``photo`` fields: the criteria (``xa:17``) the photos are evidence of; by default those
    # the form's reports are evidence of (evidence.yaml), or the indicator a status form is on.
    criteria: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        if self.type == "choice" and len(self.options) < 2:
            raise ValueError("a choice field needs at least two options")
        if self.type != "choice" and self.options:
            raise ValueError("only choice fields have options")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        if (self.repeat_of is None) != (self.group is None):
            raise ValueError("repeat_of and group go together")
        if self.change_alert is not None and self.type not in ("integer", "number", "percent"):
            raise ValueError("change_alert is for number fields")
        if self.min_count > self.max_count:
            raise ValueError("min_count is larger than max_count")
        counts = {"min_count", "max_count", "criteria"} & self.model_fields_set
        if counts and self.type != "photo":
            raise ValueError(f"{', '.join(sorted(counts))}: only photo fields have counts")
        return self


class Computed(_Strict):
    key: Key
    label: Text
    label_en: Text
    expr: Text
    unit: str | None = None
    decimals: int = Field(1, ge=0, le=4)


class Target(_Strict):
    """A value the plan asks for, e.g. ``rate > 85`` ("trên 85%")."""

    field: Key
    op: Literal[">", ">=", "<", "<=", "==", "in"]
    value: float | None = None
    values: list[str] = Field(default_factory=list)
    label: Text
    label_en: Text
    deadline: Ref | None = None
    fact: Ref | None = None

    @model_validator(mode="after")
    def _has_value(self) -> Target:
        if self.op == "in" and not self.values:
            raise ValueError("op 'in' needs values")
        if self.op != "in" and self.value is None:
            raise ValueError(f"op '{self.op}' needs value")
        return self


class StandingMap(_Strict):
    """For a form whose ``role`` is ``indicator-status``: the answer that says where the
    indicator stands (its option values sorted into met / in progress / not met) and the date
    field that says when it is expected to be met."""

    field: Key
    met: list[str] = Field(min_length=1)
    in_progress: list[str] = Field(default_factory=list)
    not_met: list[str] = Field(default_factory=list)
    expected: Key | None = None


# What a form's reports are evidence of (knowledge/evidence.py, evidence.yaml):
# ``measure``           figures compared with the form's ``targets``;
# ``indicator-status``  the standing of the indicator chosen in ``subject_field``.
Role = Literal["measure", "indicator-status"]


class Form(_Strict):
    id: Ref
    title: Text
    title_en: Text
    intro: Text
    intro_en: Text
    period: Literal["none", "week", "month", "quarter", "year"]
    subject_field: Key | None = None  # reports are kept per value of this field (a criterion)
    role: Role = "measure"
    standing: StandingMap | None = None  # ``indicator-status`` forms only
    # The figure the weekly digest lists and charts per commune against its target (a field
    # or computed value with a numeric target), e.g. BHYT coverage.
    chart: Key | None = None
    fields: list[FormField] = Field(min_length=1)
    computed: list[Computed] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    # The figures the office compares across communes ("Mới nhất" sheet of the export): field
    # or computed keys; by default the fields the targets look at.
    key_figures: list[Key] = Field(default_factory=list)
    # How officers name the form when they ask for it ("báo cáo BHYT"): words or phrases.
    words: list[Text] = Field(default_factory=list)
    # Short names for the export's sheets (Excel allows 31 characters); default: the title.
    sheet: Annotated[str, StringConstraints(max_length=31)] | None = None
    sheet_en: Annotated[str, StringConstraints(max_length=31)] | None = None
    source: Text

    @property
    def figures(self) -> list[str]:
        return self.key_figures or list(dict.fromkeys(t.field for t in self.targets))

    @model_validator(mode="after")
    def _key_figures_exist(self) -> Form:
        known = {f.key for f in self.fields} | {c.key for c in self.computed}
        for key in self.key_figures:
            if key not in known:
                raise ValueError(f"key_figures: unknown field '{key}'")
        return self

    @model_validator(mode="after")
    def _names_fit_buttons(self) -> Form:
        _short_enough(self.id, "id")
        for item in self.fields:
            key = item.key + (LONGEST_REPETITION if item.repeat_of else "")
            _short_enough(key, f"fields.{item.key}.key")
            for option in item.options:
                _short_enough(option.value, f"fields.{item.key}.options.{option.value}")
        return self

    @model_validator(mode="after")
    def _references(self) -> Form:
        seen: dict[str, FormField] = {}
        for item in self.fields:
            if item.key in seen:
                raise ValueError(f"field '{item.key}' appears twice")
            for ref, what in ((item.max_field, "max_field"), (item.min_field, "min_field")):
                if ref is not None and (
                    ref not in seen or seen[ref].type not in ("integer", "number", "percent")
                ):
                    raise ValueError(
                        f"fields.{item.key}.{what}: '{ref}' is not an earlier number field"
                    )
            if item.when is not None and item.when.field not in seen:
                raise ValueError(
                    f"fields.{item.key}.when: '{item.when.field}' is not an earlier field"
                )
            if item.repeat_of is not None:
                counter = seen.get(item.repeat_of)
                if counter is None or counter.type != "integer":
                    raise ValueError(
                        f"fields.{item.key}.repeat_of: '{item.repeat_of}' "
                        "is not an earlier integer field"
                    )
            seen[item.key] = item
        names = set(seen)
        for computed in self.computed:
            for name in _expr_names(computed.expr, f"computed.{computed.key}.expr"):
                if name not in names:
                    raise ValueError(f"computed.{computed.key}.expr: unknown field '{name}'")
                if seen[name].type not in ("integer", "number", "percent"):
                    raise ValueError(f"computed.{computed.key}.expr: '{name}' is not a number")
            names.add(computed.key)
        for target in self.targets:
            if target.field not in names:
                raise ValueError(f"targets: unknown field '{target.field}'")
            if target.field in seen and seen[target.field].type == "photo":
                raise ValueError(f"targets: '{target.field}' is a photo field")
        if self.subject_field is not None and self.subject_field not in seen:
            raise ValueError(f"subject_field: unknown field '{self.subject_field}'")
        if self.chart is not None and self.chart_target is None:
            raise ValueError(f"chart: '{self.chart}' chưa có mục tiêu bằng số trong targets")
        self._check_role(seen)
        return self

    def _check_role(self, seen: dict[str, FormField]) -> None:
        if self.role == "measure":
            if self.standing is not None:
                raise ValueError("standing: chỉ dùng cho role indicator-status")
            return
        subject = seen.get(self.subject_field or "")
        if subject is None or subject.type != "indicator":
            raise ValueError("subject_field: role indicator-status cần một trường kiểu indicator")
        if self.standing is None:
            raise ValueError("standing: role indicator-status cần khai standing")
        status = seen.get(self.standing.field)
        if status is None or status.type != "choice":
            raise ValueError(
                f"standing.field: '{self.standing.field}' không phải trường kiểu choice"
            )
        values = [o.value for o in status.options]
        sorted_out = self.standing.met + self.standing.in_progress + self.standing.not_met
        for value in sorted_out:
            if value not in values:
                raise ValueError(f"standing: '{value}' không phải một lựa chọn của '{status.key}'")
        for value in values:
            if sorted_out.count(value) != 1:
                raise ValueError(
                    f"standing: lựa chọn '{value}' phải nằm ở đúng một trong met, in_progress,"
                    " not_met"
                )
        expected = self.standing.expected
        if expected is not None and (expected not in seen or seen[expected].type != "date"):
            raise ValueError(f"standing.expected: '{expected}' không phải trường kiểu date")

    @property
    def chart_target(self) -> Target | None:
        """The numeric target the ``chart`` figure is compared with."""
        return next(
            (t for t in self.targets if t.field == self.chart and t.value is not None), None
        )

    def targets_on(self, key: str) -> list[Target]:
        return [t for t in self.targets if t.field == key]

    def field(self, key: str) -> FormField:
        return next(f for f in self.fields if f.key == key)


_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
)


def _expr_names(expr: str, where: str) -> set[str]:
    """Names used by a computed expression, which may only do arithmetic on them."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{where}: not an arithmetic expression ({exc.msg})") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"{where}: only + - * / on fields and numbers are allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"{where}: only numbers may be constants")
        if isinstance(node, ast.Name):
            names.add(node.id)
    return names


def evaluate(expr: str, values: dict[str, float]) -> float | None:
    """Evaluate a validated expression; ``None`` when a value is missing or it divides by 0."""

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.UnaryOp):
            inner = walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left / right
        raise ValueError("unsupported expression")

    try:
        return walk(ast.parse(expr, mode="eval"))
    except (KeyError, ZeroDivisionError, TypeError):
        return None


def load_forms(directory: Path) -> dict[str, Form]:
    forms: dict[str, Form] = {}
    if not directory.is_dir():
        return forms
    for path in sorted(directory.glob("*.yaml")):
        try:
            form = Form.model_validate(read_yaml(path))
        except ValidationError as exc:
            raise KnowledgeError(describe(path, exc)) from None
        if form.id in forms:
            raise KnowledgeError(f"{path}: id: mẫu báo cáo '{form.id}' trùng với một tệp khác")
        forms[form.id] = form
    return forms
