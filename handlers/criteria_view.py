"""How the criteria board (:mod:`handlers.readmodel.criteria`) reads: the words and the marks
of each standing, why a cell stands where it does, and the chat's sections — one commune's
criteria, a unit's criteria across the communes, the district's criteria and goals, the
communes' tallies. Every view (chat, digest, export, web) takes its words and marks from here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from babel.dates import format_date

from handlers.i18n import N_, Tr
from handlers.readmodel.criteria import (
    ORDER,
    Basis,
    Cell,
    CriteriaBoard,
    GoalProgress,
    Standing,
)
from handlers.report_view import figure_name, figure_text, target_phrase
from handlers.richtext import Doc, b, it
from handlers.task_view import state_phrase, task_title
from knowledge.base import Indicator, KnowledgeBase
from storage.communes import Commune

# Marks that differ without colour (a printed page, a colour-blind reader, a plain-text chat).
MARKS = {
    Standing.MET: "✅",
    Standing.IN_PROGRESS: "⏳",
    Standing.LATE: "⏰",
    Standing.NO_DATA: "❔",
}
_WORDS = {
    Standing.MET: N_("Đạt"),
    Standing.IN_PROGRESS: N_("Đang thực hiện"),
    Standing.LATE: N_("Chậm"),
    Standing.NO_DATA: N_("Chưa có số liệu"),
}
MAX_DETAILS = 8  # criteria explained one by one in a chat message; the rest are counted
MAX_NAMES = 40  # communes named on one line of the tally


def standing_word(tr: Tr, standing: Standing) -> str:
    return tr(_WORDS[standing])


def legend(tr: Tr) -> str:
    return " · ".join(f"{MARKS[s]} {standing_word(tr, s).lower()}" for s in ORDER)


def tally_text(tr: Tr, counts: dict[Standing, int]) -> str:
    """ "✅ 3 · ⏳ 1 · ⏰ 2 · ❔ 13": a place's criteria by standing (every standing shown)."""
    return " · ".join(f"{MARKS[s]} {counts.get(s, 0)}" for s in (Standing.MET, *ORDER[:3]))


def _name(tr: Tr, ind: Indicator) -> str:
    return ind.name_en if tr.en else ind.name


def _date(tr: Tr, day: dt.date) -> str:
    return format_date(day, "dd/MM/yyyy", locale=tr.lang)


def reason(tr: Tr, kb: KnowledgeBase, cell: Cell, today: dt.date, tz: dt.tzinfo | None) -> str:
    """Why a cell stands where it does, with its source: the report (number, figure or status)
    or the task mark, the date that makes it late."""
    due = cell.due
    if cell.basis is Basis.PARTS:
        met, total = cell.parts or (0, 0)
        return tr("{met}/{total} chỉ tiêu đạt", met=met, total=total)
    if cell.basis in (Basis.DUE, Basis.NOTHING, Basis.TASKS) and cell.task is not None:
        task = kb.task(cell.task)
        title = task_title(task, tr) if task else cell.task
        state = state_phrase(tr, cell.mark, kb.due(task) if task else (due or today), today, tz)
        return tr("việc “{task}”: {state}", task=title, state=state)
    if cell.basis is Basis.DUE:
        assert due is not None
        return tr("chưa có báo cáo, hạn {date} đã qua", date=_date(tr, due))
    if cell.basis is not Basis.REPORT:
        if due is None:
            return tr("chưa có báo cáo")
        return tr("chưa có báo cáo, hạn {date}", date=_date(tr, due))
    report = cell.report
    assert report is not None
    form = kb.forms.get(report.form_id)
    said = ""
    if form is not None and cell.figure is not None:
        values = {**report.answers, **report.computed}
        if values.get(cell.figure) is not None:
            value = figure_text(tr, kb, form, cell.figure, values)
            said = f"{figure_name(tr, form, cell.figure)} {value}"
        if cell.standing is not Standing.MET:
            goals = [target_phrase(tr, form, t) for t in form.targets_on(cell.figure)]
            said += " — " + tr("mục tiêu {target}", target="; ".join(goals))
    elif form is not None and form.standing is not None:
        status = form.field(form.standing.field)
        answer = report.answers.get(form.standing.field)
        option = next((o for o in status.options if o.value == answer), None)
        said = (option.label_en if tr.en else option.label) if option else str(answer)
        if cell.expected is not None and cell.standing is not Standing.MET:
            said += ", " + tr("dự kiến đạt {date}", date=_date(tr, cell.expected))
    text = f"{report.number}: {said}" if said else report.number
    if cell.standing is Standing.LATE:
        if due is not None and due < today:
            text += " (" + tr("hạn {date} đã qua", date=_date(tr, due)) + ")"
        elif cell.expected is not None:
            text += " (" + tr("đã qua ngày dự kiến") + ")"
    return text


def commune_criteria(
    tr: Tr, kb: KnowledgeBase, board: CriteriaBoard, commune_id: int, today: dt.date,
    tz: dt.tzinfo | None,
) -> Doc:  # fmt: skip
    """One commune's criteria grouped by where they stand (late first), then why for those
    where something is known and not yet met."""
    cells = board.communes[commune_id]
    doc = Doc().add(b(tr("Tình trạng {count} tiêu chí xã", count=len(board.criteria))))
    groups: dict[Standing, list[str]] = defaultdict(list)
    for code in board.criteria:
        groups[cells[code].standing].append(kb.indicators[code].label)
    for standing in ORDER:
        labels = groups.get(standing)
        if labels:
            word = standing_word(tr, standing)
            doc.bullet(f"{MARKS[standing]} ", b(f"{word} ({len(labels)}): "), ", ".join(labels))
    known = (Basis.REPORT, Basis.TASKS)
    lines: list[tuple[str, Cell, Indicator]] = []  # (indent, cell, indicator) explained
    silent_late = False
    for code in board.criteria:
        cell = cells[code]
        ind = kb.indicators[code]
        if cell.standing is Standing.MET:
            continue
        parts = [cells[k] for k in ind.children if cells[k].basis in known]
        if parts:
            lines.append(("", cell, ind))
            lines += [
                ("   ", cells[k], kb.indicators[k]) for k in ind.children if cells[k].basis in known
            ]
        elif cell.basis in known:
            lines.append(("", cell, ind))
        elif cell.standing is Standing.LATE:
            silent_late = True
    if lines:
        doc.add(b(tr("Vì sao:")))
    for indent, cell, ind in lines[:MAX_DETAILS]:
        doc.add(
            indent + ("• " if not indent else "") + f"{MARKS[cell.standing]} ",
            b(ind.label), f" {_name(tr, ind)}: ", reason(tr, kb, cell, today, tz),
        )  # fmt: skip
    if len(lines) > MAX_DETAILS:
        doc.add(it(tr("… và {count} chỉ tiêu khác.", count=len(lines) - MAX_DETAILS)))
    if silent_late:
        doc.add(it(tr("Tiêu chí chậm không nêu ở trên: chưa có báo cáo mà hạn đã qua.")))
    doc.add(it(tr("Căn cứ: báo cáo của xã và phần việc của xã theo Kế hoạch.")))
    return doc


def unit_criteria(tr: Tr, kb: KnowledgeBase, board: CriteriaBoard, unit: str) -> Doc:
    """The criteria a unit answers for: at how many communes each stands where, and the
    district criteria's state."""
    doc = Doc()
    owned = kb.owned_by(unit)
    if not owned:
        return doc
    total = len(board.communes)
    doc.add(b(tr("Tiêu chí đơn vị phụ trách")))
    for ind in owned:
        if ind.level == "xa":
            counts = board.count(ind.code)
            spread = " · ".join(
                f"{MARKS[s]} {counts[s]}" for s in ORDER if counts[s] and s is not Standing.MET
            )
            doc.bullet(
                b(tr("Tiêu chí xã {label}", label=ind.label)),
                f" — {_name(tr, ind)}: ",
                tr("{met}/{total} xã đạt", met=counts[Standing.MET], total=total),
                f" ({spread})" if spread else "",
            )
        else:
            standing = board.district[ind.code].standing
            doc.bullet(
                b(tr("Tiêu chí huyện {label}", label=ind.label)),
                f" — {_name(tr, ind)}: ",
                f"{MARKS[standing]} {standing_word(tr, standing)}",
            )
    doc.add(it(legend(tr)))
    return doc


def district_criteria(tr: Tr, kb: KnowledgeBase, board: CriteriaBoard) -> Doc:
    """The district criteria, from their owners' tasks, and the goals counted over the
    communes."""
    doc = Doc().add(b(tr("Tiêu chí huyện (theo việc của các đơn vị phụ trách)")))
    groups: dict[Standing, list[str]] = defaultdict(list)
    for code in board.district_criteria:
        groups[board.district[code].standing].append(kb.indicators[code].label)
    for standing in ORDER:
        labels = groups.get(standing)
        if labels:
            word = standing_word(tr, standing)
            doc.bullet(f"{MARKS[standing]} ", b(f"{word} ({len(labels)}): "), ", ".join(labels))
    for goal in board.goals:
        doc.extend(goal_line(tr, kb, goal, len(board.criteria)))
    return doc


def goal_line(tr: Tr, kb: KnowledgeBase, goal: GoalProgress, criteria: int) -> Doc:
    deadline = kb.deadline_by_id[goal.deadline]
    what = deadline.what_en if tr.en else deadline.what
    return Doc().bullet(
        "🎯 ",
        b(tr("Mục tiêu: {what} (hạn {date})", what=what, date=_date(tr, deadline.due))),
        ": ",
        tr(
            "hiện {met}/{total} xã đạt đủ {criteria} tiêu chí",
            met=goal.met,
            total=goal.total,
            criteria=criteria,
        ),
    )


def communes_tally(tr: Tr, board: CriteriaBoard, communes: list[Commune], limit: int) -> Doc:
    """Per commune: its criteria by standing, most to chase first (most late, then most not
    met). Communes that stand alike share a line ("✅ 0 · ⏰ 1 · ⏳ 0 · ❔ 18 — 30 xã: …")."""
    doc = Doc().add(b(tr("Theo xã ({legend}):", legend=legend(tr))))
    groups: dict[tuple[int, ...], list[Commune]] = {}
    tallies: dict[tuple[int, ...], Counter[Standing]] = {}
    for commune in communes:
        if commune.id not in board.communes:
            continue
        counts = board.tally(commune.id)
        key = tuple(counts[s] for s in (Standing.MET, *ORDER[:3]))
        groups.setdefault(key, []).append(commune)  # communes keep their (Vietnamese) order
        tallies[key] = counts
    total = len(board.criteria)
    ordered = sorted(
        groups, key=lambda k: (-tallies[k][Standing.LATE], -(total - tallies[k][Standing.MET]))
    )
    for key in ordered[:limit]:
        members = groups[key]
        text = tally_text(tr, tallies[key])
        if len(members) == 1:
            doc.bullet(f"{members[0].name}: {text}")
            continue
        names = ", ".join(c.name for c in members[:MAX_NAMES])
        more = (
            tr(" và {count} xã khác", count=len(members) - MAX_NAMES)
            if len(members) > MAX_NAMES
            else ""
        )
        doc.bullet(text, " — ", tr("{count} xã: ", count=len(members)), names + more)
    if len(ordered) > limit:
        rest = sum(len(groups[k]) for k in ordered[limit:])
        doc.add(it(tr("… và {count} xã khác.", count=rest)))
    return doc
