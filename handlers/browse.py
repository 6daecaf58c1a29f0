"""Menus to browse the plan: criteria by level, units, and deadlines by month.

Actions (≤ 64 bytes): ``lvl`` / ``lvl:xa`` (levels, criteria of a level), ``crit:xa:17.4``
(a criterion or sub-indicator), ``dl:xa:17`` (its deadlines), ``units`` / ``unit:kt``,
``due:next`` (next 30 days and overdue) and ``due:2021-11`` (one month).
"""

from __future__ import annotations

import datetime as dt

from handlers.core import Context, Conversation
from handlers.i18n import N_
from handlers.menu_actions import (
    CRITERIA,
    DEADLINES,
    DUE,
    LEVELS,
    UNIT,
    UNITS,
    AllUnits,
    Criterion,
    Due,
    IndicatorDeadlines,
    Level,
    Unit,
)
from handlers.richtext import Doc, b
from handlers.types import Choice
from knowledge.temporal import DEFAULT_UPCOMING_DAYS, month_range, next_days

LABEL_MAX = 38


def setup(conv: Conversation) -> None:
    conv.command(
        "tieuchi", tieuchi, N_("Tra cứu tiêu chí theo cấp xã / cấp huyện"), aliases=("criteria",)
    )
    conv.command("donvi", donvi, N_("Các đơn vị và nhiệm vụ"), aliases=("units",))
    conv.command("hanchot", hanchot, N_("Việc sắp đến hạn và quá hạn"), aliases=("deadlines",))
    conv.action("lvl", level_action)
    conv.action("crit", criterion_action)
    conv.action("dl", deadlines_action)
    conv.action("units", units_action)
    conv.action("unit", unit_action)
    conv.action("due", due_action)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1].rstrip() + "…"


def _is_callback(ctx: Context) -> bool:
    return ctx.incoming.action is not None


async def tieuchi(ctx: Context, args: str) -> None:
    await show_levels(ctx)


async def show_levels(ctx: Context) -> None:
    _ = ctx.tr
    kb = ctx.deps.kb
    choices = [
        [
            Choice(
                _("Cấp xã ({count} tiêu chí)", count=len(kb.criteria.xa)),
                LEVELS.encode(Level("xa")),
            ),
            Choice(
                _("Cấp huyện ({count} tiêu chí)", count=len(kb.criteria.huyen)),
                LEVELS.encode(Level("huyen")),
            ),
        ]
    ]
    ctx.reply(_("Chọn cấp tiêu chí:"), choices, edit=_is_callback(ctx))


async def level_action(ctx: Context, action: str) -> None:
    chosen = LEVELS.decode(action)
    level = chosen.level if isinstance(chosen, Level) else ""
    if level not in ("xa", "huyen"):
        await show_levels(ctx)
        return
    _ = ctx.tr
    en = ctx.lang == "en"
    items = ctx.deps.kb.top_level(level)
    rows: list[list[Choice]] = []
    for i in range(0, len(items), 2):
        rows.append(
            [
                Choice(
                    _short(text := f"{ind.label}. {ind.name_en if en else ind.name}"),
                    CRITERIA.encode(Criterion(ind.code)),
                    full=text,
                )
                for ind in items[i : i + 2]
            ]
        )
    rows.append([Choice(_("◀ Quay lại"), LEVELS.prefix)])  # the list of levels
    title = _("Tiêu chí cấp xã") if level == "xa" else _("Tiêu chí cấp huyện")
    ctx.reply(
        Doc().add(b(title)).add(_("Chọn một tiêu chí để xem đơn vị phụ trách và thời hạn.")),
        rows,
        edit=_is_callback(ctx),
    )


async def criterion_action(ctx: Context, action: str) -> None:
    chosen = CRITERIA.decode(action)
    code = chosen.code if isinstance(chosen, Criterion) else ""
    kb = ctx.deps.kb
    ind = kb.indicator(code)
    _ = ctx.tr
    if ind is None:
        ctx.reply(_("Không tìm thấy tiêu chí này."))
        return
    answer = ctx.deps.qa.indicator(code, ctx.today, ctx.lang)
    rows: list[list[Choice]] = []
    subs = [kb.indicators[c] for c in ind.children]
    en = ctx.lang == "en"
    for i in range(0, len(subs), 2):
        rows.append(
            [
                Choice(
                    _short(text := f"{s.label} {s.name_en if en else s.name}"),
                    CRITERIA.encode(Criterion(s.code)),
                    full=text,
                )
                for s in subs[i : i + 2]
            ]
        )
    back = CRITERIA.encode(Criterion(ind.parent)) if ind.parent else LEVELS.encode(Level(ind.level))
    rows.append(
        [
            Choice(_("Thời hạn"), DEADLINES.encode(IndicatorDeadlines(code))),
            Choice(_("◀ Quay lại"), back),
        ]
    )
    ctx.reply(answer.doc, rows, edit=_is_callback(ctx))


async def deadlines_action(ctx: Context, action: str) -> None:
    chosen = DEADLINES.decode(action)
    code = chosen.code if isinstance(chosen, IndicatorDeadlines) else ""
    _ = ctx.tr
    if ctx.deps.kb.indicator(code) is None:
        ctx.reply(_("Không tìm thấy tiêu chí này."))
        return
    answer = ctx.deps.qa.indicator(code, ctx.today, ctx.lang, deadlines_only=True)
    ctx.reply(
        answer.doc,
        [[Choice(_("◀ Quay lại"), CRITERIA.encode(Criterion(code)))]],
        edit=_is_callback(ctx),
    )


async def donvi(ctx: Context, args: str) -> None:
    await units_action(ctx, UNITS.encode(AllUnits()))


async def units_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    units = [u for u in ctx.deps.kb.units if u.kind != "communes"]
    rows = [
        [Choice(_short(u.short or u.name), UNIT.encode(Unit(u.key))) for u in units[i : i + 2]]
        for i in range(0, len(units), 2)
    ]
    communes = next((u for u in ctx.deps.kb.units if u.kind == "communes"), None)
    if communes is not None:
        rows.append([Choice(_("Các xã"), UNIT.encode(Unit(communes.key)))])
    ctx.reply(_("Chọn đơn vị để xem nhiệm vụ và thời hạn:"), rows, edit=_is_callback(ctx))


async def unit_action(ctx: Context, action: str) -> None:
    chosen = UNIT.decode(action)
    key = chosen.key if isinstance(chosen, Unit) else ""
    _ = ctx.tr
    if key not in ctx.deps.kb.unit_by_key:
        ctx.reply(_("Không tìm thấy đơn vị này."))
        return
    answer = ctx.deps.qa.unit_duties(key, ctx.today, ctx.lang)
    ctx.reply(
        answer.doc, [[Choice(_("◀ Quay lại"), UNITS.encode(AllUnits()))]], edit=_is_callback(ctx)
    )


async def hanchot(ctx: Context, args: str) -> None:
    await due_action(ctx, DUE.encode(Due("next")))


def _months_with_deadlines(ctx: Context) -> list[tuple[int, int]]:
    return sorted({(d.due.year, d.due.month) for d in ctx.deps.kb.deadlines})


async def due_action(ctx: Context, action: str) -> None:
    _ = ctx.tr
    chosen = DUE.decode(action)
    page = chosen.page if isinstance(chosen, Due) else "next"
    months = _months_with_deadlines(ctx)
    if page == "next":
        span = next_days(ctx.today, DEFAULT_UPCOMING_DAYS)
        answer = ctx.deps.qa.calendar(span, ctx.today, ctx.lang, overdue=True)
        rows = [
            [Choice(f"{m:02d}/{y}", DUE.encode(Due(f"{y}-{m:02d}"))) for y, m in months[i : i + 3]]
            for i in range(0, min(len(months), 6), 3)
        ]
        ctx.reply(answer.doc, rows, edit=_is_callback(ctx))
        return
    try:
        year, month = (int(x) for x in page.split("-"))
        span = month_range(year, month)
    except ValueError:
        ctx.reply(_("Tháng không hợp lệ."))
        return
    answer = ctx.deps.qa.calendar(span, ctx.today, ctx.lang, overdue=False)
    previous = dt.date(year, month, 1) - dt.timedelta(days=1)
    following = span.end + dt.timedelta(days=1)
    rows = [
        [
            Choice(
                f"◀ {previous.month:02d}/{previous.year}",
                DUE.encode(Due(f"{previous.year}-{previous.month:02d}")),
            ),
            Choice(
                f"{following.month:02d}/{following.year} ▶",
                DUE.encode(Due(f"{following.year}-{following.month:02d}")),
            ),
        ],
        [Choice(_("Sắp đến hạn"), DUE.encode(Due("next")))],
    ]
    ctx.reply(answer.doc, rows, edit=_is_callback(ctx))
