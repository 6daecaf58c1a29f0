"""How reports read: values with their units, periods, target verdicts, changes, names.

The report dialog's summary and receipt, the office views (/xa), the exports and the digest
all write a report's values the same way, through these helpers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from handlers.core import Context
from handlers.form_actions import PickIndicator, encode
from handlers.i18n import N_, Tr
from handlers.reader import Reader
from handlers.richtext import b
from handlers.types import Choice
from knowledge.base import KnowledgeBase
from knowledge.form_rules import target_met
from knowledge.forms import Form, FormField, Target


def period_label(period: str, tr: Tr) -> str:
    if not period:
        return ""
    if "-Q" in period:
        year, quarter = period.split("-Q")
        return tr(
            "quý {quarter}/{year}", quarter=["I", "II", "III", "IV"][int(quarter) - 1], year=year
        )
    if "-W" in period:
        year, week = period.split("-W")
        return tr("tuần {week}/{year}", week=int(week), year=year)
    if "-" in period:
        year, month = period.split("-")
        return tr("tháng {month}/{year}", month=month, year=year)
    return tr("năm {year}", year=period)


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def display_value(ctx: Reader, item: FormField, value: Any) -> str:
    return value_text(ctx.tr, ctx.deps.kb, item, value)


def value_text(tr: Tr, kb: KnowledgeBase, item: FormField, value: Any) -> str:
    """One answer as people read it: the option's label, the indicator's name, a date
    dd/mm/yyyy, a number with its unit."""
    en = tr.en
    if value is None:
        return tr("(bỏ qua)")
    if item.type == "choice":
        option = next((o for o in item.options if o.value == value), None)
        return (option.label_en if en else option.label) if option else str(value)
    if item.type == "indicator":
        ind = kb.indicator(str(value))
        if ind is None:
            return str(value)
        return f"{ind.label}. {ind.name_en if en else ind.name}"
    if item.type == "photo":
        count = len(value) if isinstance(value, list) else 0
        return tr.n("{count} ảnh", "{count} ảnh", count, count=count)
    if item.type == "date":
        return format_date(dt.date.fromisoformat(str(value)), "dd/MM/yyyy", locale=tr.lang)
    if item.type in ("integer", "number", "percent"):
        unit = item.unit_en if en else item.unit
        shown = format_decimal(value, locale=tr.lang)
        return f"{shown}{'%' if item.type == 'percent' else ''}" + (f" {unit}" if unit else "")
    return str(value)


def figure_label(ctx: Reader, form: Form, key: str) -> str:
    return figure_name(ctx.tr, form, key)


def figure_name(tr: Tr, form: Form, key: str) -> str:
    computed = next((c for c in form.computed if c.key == key), None)
    if computed is not None:
        return computed.label_en if tr.en else computed.label
    item = form.field(key)
    return item.label_en if tr.en else item.label


def figure_value(ctx: Reader, form: Form, key: str, values: dict[str, Any]) -> str:
    return figure_text(ctx.tr, ctx.deps.kb, form, key, values)


def figure_text(tr: Tr, kb: KnowledgeBase, form: Form, key: str, values: dict[str, Any]) -> str:
    """A field's or computed value's value with its unit ("84,8%", "12.500 người")."""
    computed = next((c for c in form.computed if c.key == key), None)
    if computed is not None:
        number = format_decimal(round(float(values[key]), computed.decimals), locale=tr.lang)
        return (
            f"{number}{computed.unit or ''}"
            if computed.unit == "%"
            else (f"{number} {computed.unit}" if computed.unit else number)
        )
    return value_text(tr, kb, form.field(key), values[key])


_TARGET_WORDS = {
    ">": N_("trên {value}"),
    ">=": N_("từ {value} trở lên"),
    "<": N_("dưới {value}"),
    "<=": N_("không quá {value}"),
    "==": N_("bằng {value}"),
}


def target_phrase(tr: Tr, form: Form, target: Target) -> str:
    """A target in a few words: "trên 85%", "từ 4 lần trở lên", "Đã được phê duyệt"."""
    if target.op == "in":
        item = next((f for f in form.fields if f.key == target.field), None)
        labels = [
            (o.label_en if tr.en else o.label)
            for o in (item.options if item is not None else [])
            if o.value in target.values
        ]
        return " / ".join(labels or target.values)
    assert target.value is not None
    number = format_decimal(target.value, locale=tr.lang)
    computed = next((c for c in form.computed if c.key == target.field), None)
    if computed is not None:
        unit = computed.unit
    else:
        item = form.field(target.field)
        unit = "%" if item.type == "percent" else (item.unit_en if tr.en else item.unit)
    shown = f"{number}%" if unit == "%" else (f"{number} {unit}" if unit else number)
    return tr(_TARGET_WORDS[target.op], value=shown)


def changed_values(ctx: Reader, form: Form, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """ "Số dân: 12.500 → 12.000" for every field whose value changed."""
    changes = []
    for key in dict.fromkeys([*old, *new]):
        if old.get(key) == new.get(key):
            continue
        name = key.split(".")[0]
        item = next((f for f in form.fields if f.key == name), None)
        if item is None:
            continue
        label = item.label_en if ctx.lang == "en" else item.label
        before = display_value(ctx, item, old.get(key))
        after = display_value(ctx, item, new.get(key))
        changes.append(f"{label}: {before} → {after}")
    return changes


def target_lines(ctx: Reader, form: Form, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    _ = ctx.tr
    lines: list[tuple[Any, ...]] = []
    en = ctx.lang == "en"
    for target in form.targets:
        met = target_met(target, values)
        if met is None:
            continue
        label = target.label_en if en else target.label
        if met:
            lines.append(("✅ ", b(_("Đạt mục tiêu")), f": {label}"))
        else:
            lines.append(("⚠️ ", b(_("Chưa đạt mục tiêu")), f": {label}"))
    return lines


async def submitter_name(ctx: Reader, user_id: int) -> str:
    user = await ctx.deps.users.by_id(user_id)
    return str(user_id) if user is None else user.name


def local_time(ctx: Reader, moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(ctx.now.tzinfo), "HH:mm dd/MM/yyyy", locale=ctx.lang)


def indicator_choices(ctx: Context, level: str, parent: str | None = None) -> list[list[Choice]]:
    """Buttons for the criteria of ``level`` (two per row), or for ``parent``'s sub-indicators
    with "the whole criterion" first."""
    kb = ctx.deps.kb
    en = ctx.lang == "en"
    if parent is None:
        labels = [
            (f"{i.label}. {i.name_en if en else i.name}", PickIndicator(i.code))
            for i in kb.top_level(level)
        ]
    else:
        ind = kb.indicators[parent]
        whole = ctx.tr("Cả tiêu chí {label}", label=ind.label)
        labels = [(whole, PickIndicator(ind.code, whole=True))] + [
            (f"{c.label} {c.name_en if en else c.name}", PickIndicator(c.code))
            for c in (kb.indicators[code] for code in ind.children)
        ]
    return [
        [Choice(label[:38], encode(action), full=label) for label, action in labels[i : i + 2]]
        for i in range(0, len(labels), 2)
    ]
