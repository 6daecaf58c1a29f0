"""Turning what an officer typed (or tapped) into the value a report stores.

One validator per field type (:data:`VALIDATORS`); each returns the value or raises
:class:`Invalid` with a polite Vietnamese explanation (and, for a criterion with
sub-indicators, the choices to offer next).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import format_decimal

from handlers.core import Context
from handlers.parsing import ParseError, parse_date, read_number
from handlers.report_view import capital, indicator_choices
from handlers.types import Choice
from knowledge.form_rules import Step
from knowledge.forms import Form, FormField
from knowledge.normalize import fold


class Invalid(Exception):
    """An answer that cannot be taken: what to tell the user (and choices to offer)."""

    def __init__(self, message: str, choices: list[list[Choice]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.choices = choices or []


@dataclass(frozen=True)
class Given:
    """One answer as it arrived: typed text, or the value of a tapped choice."""

    raw: str
    chosen: str | None = None
    whole: bool = False  # a criterion chosen as a whole although it has sub-indicators
    answers: dict[str, Any] = field(default_factory=dict)  # earlier answers (cross-field rules)


@dataclass(frozen=True)
class Accepted:
    """A valid answer; ``echo`` when it was written unusually ("12,5 nghìn", "mười hai
    nghìn", "khoảng 12000") and the dialog should say what it read."""

    value: Any
    echo: bool = False


Validator = Callable[[Context, Form, FormField, Given], Accepted]


def validate(ctx: Context, form: Form, step: Step, given: Given) -> Accepted:
    item = step.field
    if item.type not in ("choice", "indicator") and not given.raw:
        name = item.name_en if ctx.lang == "en" else item.name
        raise Invalid(ctx.tr("Xin nhập {name}.", name=name))
    return VALIDATORS[item.type](ctx, form, item, given)


def text_verbatim(ctx: Context) -> str:
    """Free text is stored exactly as typed (only the message itself, nothing trimmed)."""
    return ctx.incoming.text or ""


def _text(ctx: Context, form: Form, item: FormField, given: Given) -> Accepted:
    if len(given.raw) > item.max_length:
        raise Invalid(
            ctx.tr(
                "Nội dung dài {length} ký tự, quá giới hạn {limit} ký tự. Xin viết ngắn hơn.",
                length=len(given.raw),
                limit=item.max_length,
            )
        )
    return Accepted(text_verbatim(ctx))


def _date(ctx: Context, form: Form, item: FormField, given: Given) -> Accepted:
    _ = ctx.tr
    try:
        day = parse_date(given.raw, ctx.today)
    except ParseError:
        raise Invalid(
            _(
                "“{value}” không phải là ngày hợp lệ. Xin nhập theo dạng "
                "ngày/tháng/năm, ví dụ 30/10/2021.",
                value=given.raw[:40],
            )
        ) from None
    if not 2000 <= day.year <= 2100:
        raise Invalid(_("Năm {year} không hợp lệ.", year=day.year))
    return Accepted(day.isoformat())


def _number(ctx: Context, form: Form, item: FormField, given: Given) -> Accepted:
    _ = ctx.tr
    en = ctx.lang == "en"
    name = item.name_en if en else item.name
    integer = item.type == "integer"
    try:
        number, unusual = read_number(given.raw, integer=integer)
    except ParseError as problem:
        raise Invalid(_number_problem(ctx, item, name, given.raw, problem.code)) from None

    def num(value: float) -> str:
        return format_decimal(value, locale=ctx.lang)

    lowest, highest = item.min, item.max
    if item.type == "percent":
        lowest = 0 if lowest is None else lowest
        highest = 100 if highest is None else highest
    if lowest is not None and number < lowest:
        raise Invalid(
            _(
                "{name} ({value}) không được nhỏ hơn {limit}.",
                name=capital(name),
                value=num(number),
                limit=num(lowest),
            )
        )
    if highest is not None and number > highest:
        raise Invalid(
            _(
                "{name} ({value}) không được lớn hơn {limit}.",
                name=capital(name),
                value=num(number),
                limit=num(highest),
            )
        )
    for ref, larger in ((item.max_field, True), (item.min_field, False)):
        if ref is None or given.answers.get(ref) is None:
            continue
        other = form.field(ref)
        bound = float(given.answers[ref])
        values = {
            "name": capital(name),
            "value": num(number),
            "other": other.name_en if en else other.name,
            "bound": num(bound),
        }
        if larger and number > bound:
            raise Invalid(_("{name} ({value}) không được lớn hơn {other} ({bound}).", **values))
        if not larger and number < bound:
            raise Invalid(_("{name} ({value}) không được nhỏ hơn {other} ({bound}).", **values))
    return Accepted(int(number) if integer else number, echo=unusual)


def _number_problem(ctx: Context, item: FormField, name: str, raw: str, code: str) -> str:
    _ = ctx.tr
    example = item.example or "12.500"
    if code == "negative":
        return _("{name} không thể là số âm.", name=capital(name))
    if code == "not_an_integer":
        return _(
            "{name} phải là số nguyên (không có phần thập phân), ví dụ 12.500.",
            name=capital(name),
        )
    if code == "percent_for_count":
        return _(
            "{name} là một số đếm, không phải tỷ lệ phần trăm. Xin nhập {name_lower}, "
            "ví dụ {example}.",
            name=capital(name),
            name_lower=name,
            example=example,
        )
    return _(
        "“{value}” không phải là số. Xin nhập {name} bằng chữ số, ví dụ {example}.",
        value=raw[:40],
        name=name,
        example=example,
    )


def _choice(ctx: Context, form: Form, item: FormField, given: Given) -> Accepted:
    values = {o.value for o in item.options}
    if given.chosen is not None and given.chosen in values:
        return Accepted(given.chosen)
    folded = fold(given.raw).strip(" .")
    for option in item.options:
        names = {fold(option.label), fold(option.label_en), *(fold(w) for w in option.words)}
        if folded in names:
            return Accepted(option.value)
    # Words that only one option contains ("chờ xếp hạng" → "Đang chờ xếp hạng").
    if len(folded) >= 3:
        containing = {
            o.value
            for o in item.options
            for name in (o.label, o.label_en, *o.words)
            if folded in fold(name)
        }
        if len(containing) == 1:
            return Accepted(containing.pop())
    en = ctx.lang == "en"
    labels = ", ".join(o.label_en if en else o.label for o in item.options)
    raise Invalid(ctx.tr("Xin chọn một trong các lựa chọn: {labels}.", labels=labels))


def _indicator(ctx: Context, form: Form, item: FormField, given: Given) -> Accepted:
    _ = ctx.tr
    kb = ctx.deps.kb
    code = None
    if given.chosen is not None and given.chosen in kb.indicators:
        code = given.chosen
        if not given.whole and not kb.indicators[code].is_sub and kb.indicators[code].children:
            # A criterion with sub-indicators: ask which one (or the whole criterion).
            raise Invalid(
                _(
                    "Tiêu chí {label} có các chỉ tiêu; chọn cả tiêu chí hoặc một chỉ tiêu:",
                    label=kb.indicators[code].label,
                ),
                indicator_choices(ctx, item.level, parent=code),
            )
    else:
        digits = fold(given.raw).replace(",", ".").strip(" .")
        for prefix in ("tieu chi so", "tieu chi", "chi tieu", "noi dung", "tc"):
            digits = digits.removeprefix(prefix).strip()
        candidate = f"{item.level}:{digits}"
        if candidate in kb.indicators:
            code = candidate
        else:
            answer = ctx.deps.qa.engine.analyze(given.raw, ctx.today)
            codes = [t.topic[4:] for t in answer.topics if t.topic.startswith(f"ind:{item.level}:")]
            if codes:
                code = codes[0]
    if code is None:
        raise Invalid(
            _(
                "Không nhận ra tiêu chí “{value}”. Gõ số tiêu chí (ví dụ 17 hoặc "
                "17.4) hoặc chọn trong danh sách.",
                value=given.raw[:40],
            )
        )
    return Accepted(code)


VALIDATORS: dict[str, Validator] = {
    "text": _text,
    "date": _date,
    "integer": _number,
    "number": _number,
    "percent": _number,
    "choice": _choice,
    "indicator": _indicator,
}
