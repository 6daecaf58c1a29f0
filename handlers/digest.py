"""The weekly digest: the district view for the office, one view per commune for its officers.

:func:`load_digest_data` reads what the digest needs once; :func:`district_digest`,
:func:`commune_digest` and :func:`digest_chart` render it in any language, so one run serves
every recipient.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from babel.dates import format_date
from babel.numbers import format_decimal

from handlers.chart import coverage_chart
from handlers.core import Deps
from handlers.criteria_view import (
    communes_tally,
    district_criteria,
    legend,
    tally_text,
    unit_criteria,
)
from handlers.i18n import Tr
from handlers.qa import PlanWriter
from handlers.readmodel.criteria import Basis, CriteriaBoard, Standing, load_board
from handlers.report_view import figure_name, figure_text, period_label, target_phrase
from handlers.richtext import Doc, b, it
from handlers.task_board import tasks_board
from handlers.task_view import Progress, load_progress, state_phrase, task_title, unit_name
from knowledge.base import COMMUNES, KnowledgeBase
from knowledge.form_rules import target_met
from knowledge.forms import Form, Target
from knowledge.results import Calendar
from knowledge.temporal import DateRange
from storage.communes import Commune
from storage.reports import Report, ReportRepo

SOON_DAYS = 14
MAX_ITEMS = 10
MAX_NAMES = 60  # communes named in one list; the rest are counted


@dataclass
class DigestData:
    """Everything one week's digests show, read once and indexed by commune."""

    today: dt.date
    first: dt.date
    last: dt.date
    communes: list[Commune]
    board: CriteriaBoard  # every criterion's standing (the one read model)
    chart_form: Form | None  # the form whose figure is listed and charted per commune (BHYT)
    charted: dict[int, Report]  # each commune's current report of that form
    previous: dict[tuple[int, str, str], Report]  # before this week, for the recent series
    reported: set[int]
    recent: list[Report]
    problems: list[str] = field(default_factory=list)
    progress: Progress | None = None  # the tasks' marks: a finished deadline is not overdue

    @property
    def figure(self) -> str | None:
        return self.chart_form.chart if self.chart_form is not None else None

    @property
    def target(self) -> Target | None:
        return self.chart_form.chart_target if self.chart_form is not None else None

    def value(self, report: Report | None) -> float | None:
        """The charted figure of a report (``None`` without one)."""
        if report is None or self.figure is None:
            return None
        raw = {**report.answers, **report.computed}.get(self.figure)
        return float(raw) if isinstance(raw, int | float) else None

    def rate_change(self, commune_id: int) -> float | None:
        """The charted figure now minus a week ago, when both are known and differ."""
        now = self.charted.get(commune_id)
        if now is None:
            return None
        # a report older than the week is what stood a week ago too: no change to show
        recent = {r.id for r in self.recent_by_commune.get(commune_id, [])}
        before = self.previous.get((commune_id, now.form_id, now.subject))
        if before is None or before.id == now.id or now.id not in recent:
            return None
        new, old = self.value(now), self.value(before)
        if new is None or old is None or abs(new - old) < 0.05:
            return None
        return new - old

    recent_by_commune: dict[int, list[Report]] = field(init=False)

    def __post_init__(self) -> None:
        self.recent_by_commune = {}
        for report in self.recent:
            self.recent_by_commune.setdefault(report.commune_id, []).append(report)


def chart_form(kb: KnowledgeBase) -> Form | None:
    """The form whose ``chart`` figure the digest lists and charts (the first one declaring
    it)."""
    return next((f for f in kb.forms.values() if f.chart is not None), None)


async def load_digest_data(deps: Deps, today: dt.date, *, criteria: bool = True) -> DigestData:
    """Reads only what the digest shows, so it grows with the communes, not the history
    (``criteria=False``: without the criteria board, for the chart alone)."""
    repo = ReportRepo(deps.db)
    first = today - dt.timedelta(days=today.weekday())
    last = first + dt.timedelta(days=6)
    since = today - dt.timedelta(days=7)  # "what changed": the last 7 days against before them
    recent = await repo.submitted_since(since)
    communes = await deps.communes.all()
    tz = deps.clock.now().tzinfo
    form = chart_form(deps.kb)
    charted = (
        {r.commune_id: r for r in await repo.latest(form_id=form.id)} if form is not None else {}
    )
    return DigestData(
        today=today,
        first=first,
        last=last,
        communes=communes,
        board=await load_board(deps.kb, deps.db, today, tz, communes if criteria else []),
        chart_form=form,
        charted=charted,
        previous=await repo.latest_of(
            ((r.commune_id, r.form_id, r.subject) for r in recent), before=since
        ),
        reported=await repo.communes_reporting_between(first, last),
        recent=recent,
        progress=await load_progress(deps.db, tz),
    )


def _date(tr: Tr, day: dt.date) -> str:
    return format_date(day, "dd/MM/yyyy", locale=tr.lang)


def _signed(tr: Tr, value: float) -> str:
    """+2,1 điểm / −3 điểm: a change of coverage, in percentage points."""
    sign = "+" if value > 0 else "−"
    return tr(
        "{sign}{value} điểm", sign=sign, value=format_decimal(round(abs(value), 1), locale=tr.lang)
    )


def _figure(tr: Tr, kb: KnowledgeBase, data: DigestData, report: Report | None) -> str:
    """The charted figure of a report as people read it ("84,8%"), "—" without one."""
    form, key = data.chart_form, data.figure
    if report is None or form is None or key is None or data.value(report) is None:
        return "—"
    return figure_text(tr, kb, form, key, {**report.answers, **report.computed})


def _deadlines(
    kb: KnowledgeBase,
    tr: Tr,
    doc: Doc,
    data: DigestData,
    owner: str | None = None,
    commune_id: int | None = None,
) -> None:
    """What falls due in the next ``SOON_DAYS`` days and what is overdue, as the Q&A lists it
    (only ``owner``'s own tasks when given: a commune's digest lists what the communes do, in
    the state of ``commune_id``'s own share; the district's goals are not a commune's task)."""
    today = data.today
    # Two weeks ahead, to the end of that week: a Friday's 14 days must not stop the day
    # before the month's big deadline.
    horizon = today + dt.timedelta(days=SOON_DAYS)
    end = horizon + dt.timedelta(days=6 - horizon.weekday())
    days = (end - today).days
    span = DateRange(today, end, "days", days=days)
    relevant = [
        d
        for d in kb.deadlines
        if owner is None or (owner in d.responsible and not (d.goal and owner == COMMUNES))
    ]
    due = tuple(d for d in relevant if span.contains(d.due))
    overdue = tuple(d for d in relevant if d.due < today)
    writer = PlanWriter(kb, tr, today, data.progress, commune_id=commune_id)
    writer.r_calendar(Calendar(span, due, overdue, include_overdue=True))
    doc.blank()
    doc.extend(writer.doc)


def _changes(
    kb: KnowledgeBase, data: DigestData, tr: Tr, reports: list[Report], names: dict[int, str]
) -> Doc:
    doc = Doc()
    doc.add(b(tr("Thay đổi trong 7 ngày qua")))
    if not reports:
        doc.add(tr("Không có báo cáo mới."))
        return doc
    by_form = Counter(r.form_id for r in reports)
    titles = {f.id: (f.title_en if tr.en else f.title) for f in kb.forms.values()}
    doc.add(
        tr.n("{count} báo cáo mới", "{count} báo cáo mới", len(reports), count=len(reports))
        + ": "
        + "; ".join(f"{titles.get(form, form)} ({n})" for form, n in sorted(by_form.items()))
    )
    newest = {(r.commune_id, r.form_id, r.subject): r for r in reports}  # reports are in order
    changes = [
        (report, before)
        for key, report in newest.items()
        if _changed(kb, data, report, before := data.previous.get(key))
    ]
    for report, before in changes[:MAX_NAMES]:
        doc.bullet(_change_line(kb, data, tr, report, before, names))
    if len(changes) > MAX_NAMES:
        doc.add(it(tr("… và {count} thay đổi khác.", count=len(changes) - MAX_NAMES)))
    return doc


def _met_status(kb: KnowledgeBase, report: Report | None) -> bool:
    """Whether an indicator-status report says its indicator is met."""
    form = kb.forms.get(report.form_id) if report is not None else None
    if report is None or form is None or form.standing is None:
        return False
    return report.answers.get(form.standing.field) in form.standing.met


def _changed(kb: KnowledgeBase, data: DigestData, report: Report, before: Report | None) -> bool:
    """Whether a recent report is worth a line: a new or changed charted figure, an indicator
    reported met."""
    if data.chart_form is not None and report.form_id == data.chart_form.id:
        return before is None or data.value(report) != data.value(before)
    return _met_status(kb, report) and not _met_status(kb, before)


def _change_line(
    kb: KnowledgeBase,
    data: DigestData,
    tr: Tr,
    report: Report,
    before: Report | None,
    names: dict[int, str],
) -> str:
    where = names.get(report.commune_id, "?")
    form, key = data.chart_form, data.figure
    if form is not None and key is not None and report.form_id == form.id:
        figure = figure_name(tr, form, key)
        now = _figure(tr, kb, data, report)
        if before is None or data.value(before) is None:
            return tr("{commune}: {figure} {value}", commune=where, figure=figure, value=now)
        return tr(
            "{commune}: {figure} {old} → {new}",
            commune=where,
            figure=figure,
            old=_figure(tr, kb, data, before),
            new=now,
        )
    code = report.subject.split(":")[-1]
    return tr("{commune}: tiêu chí {code} báo cáo đạt", commune=where, code=code)


def not_reported(data: DigestData, tr: Tr) -> Doc:
    """The communes that sent no report this week (the first ``MAX_NAMES`` by name)."""
    missing = [c.name for c in data.communes if c.id not in data.reported]
    doc = Doc()
    if missing:
        doc.add(tr("Chưa báo cáo: {names}", names=", ".join(missing[:MAX_NAMES])))
        if len(missing) > MAX_NAMES:
            doc.add(it(tr("… và {count} xã khác.", count=len(missing) - MAX_NAMES)))
    return doc


def chart_by_commune(kb: KnowledgeBase, data: DigestData, tr: Tr) -> Doc:
    """Each commune's current charted figure (BHYT coverage), lowest first, those under the
    target marked."""
    form, key, target = data.chart_form, data.figure, data.target
    doc = Doc()
    if form is None or key is None or target is None:
        return doc
    names = {c.id: c.name for c in data.communes}
    figure = figure_name(tr, form, key)
    doc.add(
        b(
            tr(
                "{figure} theo xã (mục tiêu {target})",
                figure=figure,
                target=target_phrase(tr, form, target),
            )
        )
    )
    rows = sorted(
        (r for r in data.charted.values() if r.commune_id in names),
        key=lambda r: data.value(r) or 0.0,
    )
    for report in rows[: MAX_ITEMS * 4]:
        met = target_met(target, {**report.answers, **report.computed})
        change = data.rate_change(report.commune_id)
        moved = f" ({_signed(tr, change)} " + tr("so với tuần trước") + ")" if change else ""
        doc.bullet(
            f"{names[report.commune_id]}: ",
            b(_figure(tr, kb, data, report)),
            moved,
            " ⚠️ " + tr("dưới mục tiêu") if not met else " ✅",
            f" ({report.number}, {period_label(report.period, tr)})",
        )
    if len(rows) > MAX_ITEMS * 4:
        doc.add(it(tr("… và {count} xã khác.", count=len(rows) - MAX_ITEMS * 4)))
    title = form.title_en if tr.en else form.title
    if not rows:
        doc.add(tr("Chưa có xã nào gửi báo cáo “{form}”.", form=title))
    elif len(data.communes) > len(rows):
        doc.add(
            it(
                tr(
                    "{count} xã chưa có báo cáo “{form}”.",
                    count=len(data.communes) - len(rows),
                    form=title,
                )
            )
        )
    return doc


def criteria_overview(kb: KnowledgeBase, data: DigestData, tr: Tr) -> Doc:
    """How the communes' criteria stand (the board), the goal, which commune works on which
    criterion expecting it when, and each commune's tally."""
    board = data.board
    totals: Counter[Standing] = Counter()
    for commune in data.communes:
        totals.update(board.tally(commune.id))
    doc = Doc().add(b(tr("Tình trạng tiêu chí của các xã")))
    doc.add(
        tr(
            "Cả huyện ({communes} xã × {criteria} tiêu chí): ",
            communes=len(data.communes),
            criteria=len(board.criteria),
        ),
        tally_text(tr, totals),
    )
    doc.extend(in_progress_lines(kb, data, tr, data.communes))
    return doc.extend(communes_tally(tr, board, data.communes, MAX_ITEMS * 2))


def in_progress_lines(kb: KnowledgeBase, data: DigestData, tr: Tr, communes: list[Commune]) -> Doc:
    """Which commune works on which indicator and expects it met when (nearest first): the
    board's cells a report put in progress."""
    doc = Doc()
    found: list[tuple[dt.date, str, str, str]] = []
    for commune in communes:
        seen: set[int] = set()  # a criterion's report stands for each of its sub-indicators
        for cell in data.board.communes.get(commune.id, {}).values():
            report = cell.report
            if (
                cell.standing is Standing.IN_PROGRESS
                and cell.basis is Basis.REPORT
                and report is not None
                and report.id not in seen
                and report.subject in kb.indicators
            ):
                seen.add(report.id)
                label = kb.indicators[report.subject].label
                when = dt.date.max if cell.expected is None else cell.expected
                found.append((when, commune.name, label, report.subject))
    found.sort(key=lambda f: f[0])
    for when, name, label, _code in found[:MAX_ITEMS]:
        expected = (
            tr("dự kiến đạt {date}", date=_date(tr, when))
            if when != dt.date.max
            else tr("chưa có ngày dự kiến")
        )
        doc.bullet(
            tr(
                "Đang thực hiện: {commune} — tiêu chí {code}, {when}",
                commune=name,
                code=label,
                when=expected,
            )
        )
    if len(found) > MAX_ITEMS:
        doc.add(it(tr("… và {count} tiêu chí khác.", count=len(found) - MAX_ITEMS)))
    return doc


def tasks_section(kb: KnowledgeBase, data: DigestData, tr: Tr) -> Doc:
    """The tasks board and the district criteria that follow from it."""
    progress = data.progress or Progress({}, 0, None)
    since = dt.datetime.combine(data.today - dt.timedelta(days=7), dt.time(), tzinfo=progress.tz)
    doc = tasks_board(kb, tr, progress, data.today, data.communes, since)
    return doc.blank().extend(district_criteria(tr, kb, data.board))


def district_digest(kb: KnowledgeBase, data: DigestData, tr: Tr, district: str) -> Doc:
    doc = Doc().add(
        b(
            tr(
                "Bản tin tuần {first} – {last}: huyện {district}",
                first=_date(tr, data.first),
                last=_date(tr, data.last),
                district=district,
            )
        )
    )
    names = {c.id: c.name for c in data.communes}
    missing = [c.name for c in data.communes if c.id not in data.reported]
    doc.blank()
    doc.add(
        b(
            tr(
                "Báo cáo trong tuần: {done}/{total} xã, thị trấn",
                done=len(data.communes) - len(missing),
                total=len(data.communes),
            )
        )
    )
    doc.extend(not_reported(data, tr))
    chart = chart_by_commune(kb, data, tr)
    if chart:
        doc.blank().extend(chart)
    doc.blank().extend(criteria_overview(kb, data, tr))
    doc.blank()
    doc.extend(_changes(kb, data, tr, data.recent, names))
    doc.blank().extend(tasks_section(kb, data, tr))
    _deadlines(kb, tr, doc, data)
    if data.problems:
        doc.blank()
        doc.add(b(tr("Lần gửi trước chưa đến được:")))
        for problem in data.problems[:MAX_ITEMS]:
            doc.bullet(problem)
    return doc


def commune_digest(kb: KnowledgeBase, data: DigestData, commune: Commune, tr: Tr) -> Doc:
    doc = Doc().add(
        b(
            tr(
                "Bản tin tuần {first} – {last}: xã {commune}",
                first=_date(tr, data.first),
                last=_date(tr, data.last),
                commune=commune.name,
            )
        )
    )
    doc.blank()
    if commune.id in data.reported:
        doc.add("✅ ", tr("Xã đã gửi báo cáo trong tuần này."))
    else:
        doc.add("⚠️ ", tr("Xã chưa gửi báo cáo nào trong tuần này — gõ /baocao."))
    form, key, target = data.chart_form, data.figure, data.target
    if form is not None and key is not None and target is not None:
        report = data.charted.get(commune.id)
        figure = figure_name(tr, form, key)
        if report is not None:
            met = target_met(target, {**report.answers, **report.computed})
            doc.add(
                f"{figure}: ",
                b(_figure(tr, kb, data, report)),
                f" {'✅' if met else '⚠️'} ",
                tr(
                    "(mục tiêu {target}, {period})",
                    target=target_phrase(tr, form, target),
                    period=period_label(report.period, tr),
                ),
            )
        else:
            title = form.title_en if tr.en else form.title
            doc.add(tr("Chưa có báo cáo “{form}”.", form=title))
    if commune.id in data.board.communes:
        counts = data.board.tally(commune.id)
        doc.add(tr("Tiêu chí của xã ({legend}): ", legend=legend(tr)), b(tally_text(tr, counts)))
        doc.extend(in_progress_lines(kb, data, tr, [commune]))
        for goal in data.board.goals:
            deadline = kb.deadline_by_id[goal.deadline]
            what = deadline.what_en if tr.en else deadline.what
            doc.add(
                "🎯 ",
                tr(
                    "Mục tiêu của huyện: {what} (hạn {date}); xã đã đạt {met}/{total} tiêu chí.",
                    what=what,
                    date=_date(tr, deadline.due),
                    met=counts[Standing.MET],
                    total=len(data.board.criteria),
                ),
            )
    recent = data.recent_by_commune.get(commune.id, [])
    doc.blank()
    doc.extend(_changes(kb, data, tr, recent, {commune.id: commune.name}))
    _deadlines(kb, tr, doc, data, COMMUNES, commune.id)
    return doc


def unit_digest(kb: KnowledgeBase, data: DigestData, unit: str, tr: Tr) -> Doc:
    """A district unit's week: its tasks with their state, the criteria it answers for."""
    doc = Doc().add(
        b(
            tr(
                "Bản tin tuần {first} – {last}: {unit}",
                first=_date(tr, data.first),
                last=_date(tr, data.last),
                unit=unit_name(kb, unit, tr),
            )
        )
    )
    progress = data.progress or Progress({}, 0, None)
    tasks = kb.tasks_of(unit)
    doc.blank().add(b(tr("Việc của đơn vị theo Kế hoạch")))
    for task in tasks:
        due = kb.due(task)
        state = state_phrase(tr, progress.of(task.id), due, data.today, progress.tz)
        doc.bullet(
            task_title(task, tr), " — ", tr("hạn {date}", date=_date(tr, due)), ": ", b(state)
        )
    if not tasks:
        doc.add(it(tr("Kế hoạch không giao việc có thời hạn nào cho đơn vị này.")))
    criteria = unit_criteria(tr, kb, data.board, unit)
    if criteria.lines:
        doc.blank().extend(criteria)
    return doc.add(it(tr("Gõ /viec để cập nhật tình trạng khi đã xong hoặc có vướng mắc.")))


def digest_chart(
    kb: KnowledgeBase, data: DigestData, tr: Tr, highlight: str | None = None
) -> bytes | None:
    """The chart of the charted figure per commune (BHYT coverage), or ``None`` while no
    commune has reported it."""
    form, key, target = data.chart_form, data.figure, data.target
    if form is None or key is None or target is None or target.value is None:
        return None
    names = {c.id: c.name for c in data.communes}
    rates = [
        (names[cid], value)
        for cid, r in data.charted.items()
        if cid in names and (value := data.value(r)) is not None
    ]
    if not rates:
        return None
    reported = {name for name, _ in rates}
    changes = {
        names[cid]: change
        for cid in data.charted
        if cid in names and (change := data.rate_change(cid)) is not None
    }
    return coverage_chart(
        rates,
        target.value,
        missing=[c.name for c in data.communes if c.name not in reported],
        missing_label=tr("chưa báo cáo"),
        changes=changes,
        title=tr(
            "{figure} theo xã — tuần {first} – {last}",
            figure=figure_name(tr, form, key),
            first=_date(tr, data.first),
            last=_date(tr, data.last),
        ),
        target_label=tr("Mục tiêu {target}", target=target_phrase(tr, form, target)),
        highlight=highlight,
    )
