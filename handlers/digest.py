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
from handlers.criteria_status import CriteriaBoard, derive_board
from handlers.criteria_view import district_criteria, unit_criteria
from handlers.i18n import N_, Tr
from handlers.qa import PlanWriter
from handlers.report_view import period_label
from handlers.richtext import Doc, b, it
from handlers.task_board import tasks_board
from handlers.task_view import Progress, load_progress, state_phrase, task_title, unit_name
from knowledge.base import COMMUNES, KnowledgeBase
from knowledge.results import Calendar
from knowledge.temporal import DateRange
from storage.communes import Commune
from storage.reports import Report, ReportRepo

SOON_DAYS = 14
MAX_ITEMS = 10
MAX_NAMES = 60  # communes named in one list; the rest are counted
BHYT_FORM = "bhyt"
CRITERION_FORM = "tieu-chi"


@dataclass
class DigestData:
    """Everything one week's digests show, read once and indexed by commune."""

    today: dt.date
    first: dt.date
    last: dt.date
    communes: list[Commune]
    bhyt: dict[int, Report]  # each commune's current BHYT report
    statuses: dict[int, Counter[str]]  # each commune's criteria by current reported status
    previous: dict[tuple[int, str, str], Report]  # before this week, for the recent series
    reported: set[int]
    recent: list[Report]
    target: float = 85.0
    problems: list[str] = field(default_factory=list)
    in_progress: list[Report] = field(default_factory=list)  # current "đang thực hiện" reports
    commune_criteria: int = 19  # how many criteria a commune must meet (from the plan)
    progress: Progress | None = None  # the tasks' marks: a finished deadline is not overdue

    def rate_change(self, commune_id: int) -> float | None:
        """Coverage now minus a week ago, when both are known and differ."""
        now = self.bhyt.get(commune_id)
        if now is None:
            return None
        # a report older than the week is what stood a week ago too: no change to show
        recent = {r.id for r in self.recent_by_commune.get(commune_id, [])}
        before = self.previous.get((commune_id, now.form_id, now.subject))
        if before is None or before.id == now.id or now.id not in recent:
            return None
        new, old = now.computed.get("rate"), before.computed.get("rate")
        if new is None or old is None or abs(new - old) < 0.05:
            return None
        return float(new) - float(old)

    recent_by_commune: dict[int, list[Report]] = field(init=False)

    def __post_init__(self) -> None:
        self.recent_by_commune = {}
        for report in self.recent:
            self.recent_by_commune.setdefault(report.commune_id, []).append(report)


async def load_digest_data(deps: Deps, today: dt.date) -> DigestData:
    """Reads only what the digest shows, so it grows with the communes, not the history."""
    repo = ReportRepo(deps.db)
    first = today - dt.timedelta(days=today.weekday())
    last = first + dt.timedelta(days=6)
    since = today - dt.timedelta(days=7)  # "what changed": the last 7 days against before them
    recent = await repo.submitted_since(since)
    target = 85.0
    form = deps.kb.forms.get(BHYT_FORM)
    if form is not None:
        for rule in form.targets:
            if rule.field == "rate" and rule.value is not None:
                target = rule.value
    statuses, in_progress = await repo.answer_counts_keeping(CRITERION_FORM, "status", "dang")
    return DigestData(
        today=today,
        first=first,
        last=last,
        communes=await deps.communes.all(),
        bhyt={r.commune_id: r for r in await repo.latest(form_id=BHYT_FORM)},
        statuses=statuses,
        previous=await repo.latest_of(
            ((r.commune_id, r.form_id, r.subject) for r in recent), before=since
        ),
        reported=await repo.communes_reporting_between(first, last),
        recent=recent,
        target=target,
        in_progress=in_progress,
        commune_criteria=len(deps.kb.criteria.xa),
        progress=await load_progress(deps.db, deps.clock.now().tzinfo),
    )


def _date(tr: Tr, day: dt.date) -> str:
    return format_date(day, "dd/MM/yyyy", locale=tr.lang)


def _signed(tr: Tr, value: float) -> str:
    """+2,1 điểm / −3 điểm: a change of coverage, in percentage points."""
    sign = "+" if value > 0 else "−"
    return tr(
        "{sign}{value} điểm", sign=sign, value=format_decimal(round(abs(value), 1), locale=tr.lang)
    )


def _rate(tr: Tr, value: float | None) -> str:
    return "—" if value is None else format_decimal(value, locale=tr.lang) + "%"


def _deadlines(
    kb: KnowledgeBase, tr: Tr, doc: Doc, data: DigestData, owner: str | None = None
) -> None:
    """What falls due in the next ``SOON_DAYS`` days and what is overdue, as the Q&A lists it
    (only ``owner``'s own tasks when given: a commune's digest lists what the communes do)."""
    today = data.today
    # Two weeks ahead, to the end of that week: a Friday's 14 days must not stop the day
    # before the month's big deadline.
    horizon = today + dt.timedelta(days=SOON_DAYS)
    end = horizon + dt.timedelta(days=6 - horizon.weekday())
    days = (end - today).days
    span = DateRange(today, end, "days", days=days)
    relevant = [d for d in kb.deadlines if owner is None or owner in d.responsible]
    due = tuple(d for d in relevant if span.contains(d.due))
    overdue = tuple(d for d in relevant if d.due < today)
    writer = PlanWriter(kb, tr, today, data.progress)
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
        if _changed(report, before := data.previous.get(key))
    ]
    for report, before in changes[:MAX_NAMES]:
        doc.bullet(_change_line(tr, report, before, names))
    if len(changes) > MAX_NAMES:
        doc.add(it(tr("… và {count} thay đổi khác.", count=len(changes) - MAX_NAMES)))
    return doc


def _changed(report: Report, before: Report | None) -> bool:
    """Whether a recent report is worth a line: a new or changed BHYT rate, a criterion met."""
    if report.form_id == BHYT_FORM:
        return before is None or report.computed.get("rate") != before.computed.get("rate")
    return (
        report.form_id == CRITERION_FORM
        and report.answers.get("status") == "dat"
        and (before is None or before.answers.get("status") != "dat")
    )


def _change_line(tr: Tr, report: Report, before: Report | None, names: dict[int, str]) -> str:
    where = names.get(report.commune_id, "?")
    if report.form_id == BHYT_FORM:
        old_rate = before.computed.get("rate") if before else None
        now_rate = _rate(tr, report.computed.get("rate"))
        if old_rate is None:
            return tr("{commune}: BHYT {rate}", commune=where, rate=now_rate)
        return tr(
            "{commune}: BHYT {old} → {new}", commune=where, old=_rate(tr, old_rate), new=now_rate
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


def bhyt_by_commune(data: DigestData, tr: Tr) -> Doc:
    """Each commune's current BHYT coverage, lowest first, those under the target marked."""
    names = {c.id: c.name for c in data.communes}
    doc = Doc().add(
        b(
            tr(
                "Tỷ lệ tham gia BHYT theo xã (mục tiêu trên {target}%)",
                target=format_decimal(data.target, locale=tr.lang),
            )
        )
    )
    rows = sorted(
        (r for r in data.bhyt.values() if r.commune_id in names),
        key=lambda r: r.computed.get("rate") or 0.0,
    )
    for report in rows[: MAX_ITEMS * 4]:
        rate = report.computed.get("rate")
        below = rate is None or rate <= data.target
        change = data.rate_change(report.commune_id)
        moved = f" ({_signed(tr, change)} " + tr("so với tuần trước") + ")" if change else ""
        doc.bullet(
            f"{names[report.commune_id]}: ",
            b(_rate(tr, rate)),
            moved,
            " ⚠️ " + tr("dưới mục tiêu") if below else " ✅",
            f" ({report.number}, {period_label(report.period, tr)})",
        )
    if len(rows) > MAX_ITEMS * 4:
        doc.add(it(tr("… và {count} xã khác.", count=len(rows) - MAX_ITEMS * 4)))
    if not rows:
        doc.add(tr("Chưa có xã nào báo cáo BHYT."))
    elif len(data.communes) > len(rows):
        doc.add(it(tr("{count} xã chưa có báo cáo BHYT.", count=len(data.communes) - len(rows))))
    return doc


def _status_counts(tr: Tr, statuses: Counter[str], text: str) -> str:
    return tr(
        text,
        dat=statuses.get("dat", 0),
        dang=statuses.get("dang", 0),
        chua=statuses.get("chua", 0),
    )


def criteria_overview(data: DigestData, tr: Tr) -> Doc:
    """How many criteria the communes' current reports give as met, in progress, not met."""
    statuses: Counter[str] = Counter()
    for counts in data.statuses.values():
        statuses.update(counts)
    doc = Doc().add(b(tr("Tình trạng tiêu chí (theo báo cáo mới nhất)")))
    doc.add(
        _status_counts(tr, statuses, N_("Đạt: {dat} · Đang thực hiện: {dang} · Chưa đạt: {chua}"))
    )
    doc.extend(in_progress_lines(data, tr, data.in_progress))
    return doc.extend(status_by_commune(data, tr))


def status_by_commune(data: DigestData, tr: Tr) -> Doc:
    """Per commune: criteria met / in progress / not met / not reported — where to push
    before the appraisal (most to do first)."""
    doc = Doc()
    rows = []
    for commune in data.communes:
        counts = data.statuses.get(commune.id)
        if not counts:
            continue
        met, doing, not_met = counts.get("dat", 0), counts.get("dang", 0), counts.get("chua", 0)
        silent = max(0, data.commune_criteria - met - doing - not_met)
        rows.append((not_met + doing + silent, commune.name, met, doing, not_met, silent))
    if not rows:
        return doc
    doc.add(b(tr("Theo xã (✅ đạt · ⏳ đang thực hiện · ❌ chưa đạt · ❔ chưa báo cáo):")))
    for _todo, name, met, doing, not_met, silent in sorted(rows, key=lambda r: (-r[0], r[1]))[
        : MAX_ITEMS * 2
    ]:
        doc.bullet(f"{name}: ✅ {met} · ⏳ {doing} · ❌ {not_met} · ❔ {silent}")
    if len(rows) > MAX_ITEMS * 2:
        doc.add(it(tr("… và {count} xã khác.", count=len(rows) - MAX_ITEMS * 2)))
    return doc


def in_progress_lines(data: DigestData, tr: Tr, reports: list[Report]) -> Doc:
    """Which commune works on which criterion, expected when (nearest first)."""
    doc = Doc()
    names = {c.id: c.name for c in data.communes}
    ordered = sorted(reports, key=lambda r: (str(r.answers.get("expected") or "9999"), r.id))
    for report in ordered[:MAX_ITEMS]:
        expected = report.answers.get("expected")
        when = (
            tr("dự kiến đạt {date}", date=_date(tr, dt.date.fromisoformat(str(expected))))
            if expected
            else tr("chưa có ngày dự kiến")
        )
        code = str(report.answers.get("indicator", "")).split(":")[-1]
        doc.bullet(
            tr(
                "Đang thực hiện: {commune} — tiêu chí {code}, {when}",
                commune=names.get(report.commune_id, "?"),
                code=code,
                when=when,
            )
        )
    if len(ordered) > MAX_ITEMS:
        doc.add(it(tr("… và {count} tiêu chí khác.", count=len(ordered) - MAX_ITEMS)))
    return doc


def tasks_section(kb: KnowledgeBase, data: DigestData, tr: Tr) -> Doc:
    """The tasks board and the district criteria that follow from it."""
    progress = data.progress or Progress({}, 0, None)
    since = dt.datetime.combine(data.today - dt.timedelta(days=7), dt.time(), tzinfo=progress.tz)
    doc = tasks_board(kb, tr, progress, data.today, data.communes, since)
    board = derive_board(kb, progress, [], [], data.today)
    return doc.blank().extend(district_criteria(tr, kb, board))


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
    doc.blank().extend(bhyt_by_commune(data, tr))
    doc.blank().extend(criteria_overview(data, tr))
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
    report = data.bhyt.get(commune.id)
    if report is not None:
        rate = report.computed.get("rate")
        mark = "✅" if report.meets_target else "⚠️"
        doc.add(
            tr("Tỷ lệ tham gia BHYT: "),
            b(_rate(tr, rate)),
            f" {mark} ",
            tr(
                "(mục tiêu trên {target}%, {period})",
                target=format_decimal(data.target, locale=tr.lang),
                period=period_label(report.period, tr),
            ),
        )
    else:
        doc.add(tr("Chưa có báo cáo BHYT."))
    statuses = data.statuses.get(commune.id)
    if statuses:
        doc.add(
            _status_counts(
                tr,
                statuses,
                N_("Tiêu chí đã báo cáo — Đạt: {dat} · Đang thực hiện: {dang} · Chưa đạt: {chua}"),
            )
        )
        mine = [r for r in data.in_progress if r.commune_id == commune.id]
        doc.extend(in_progress_lines(data, tr, mine))
    recent = data.recent_by_commune.get(commune.id, [])
    doc.blank()
    doc.extend(_changes(kb, data, tr, recent, {commune.id: commune.name}))
    _deadlines(kb, tr, doc, data, COMMUNES)
    return doc


def unit_digest(
    kb: KnowledgeBase, data: DigestData, unit: str, tr: Tr, board: CriteriaBoard
) -> Doc:
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
    criteria = unit_criteria(tr, kb, board, unit)
    if criteria.lines:
        doc.blank().extend(criteria)
    return doc.add(it(tr("Gõ /viec để cập nhật tình trạng khi đã xong hoặc có vướng mắc.")))


def digest_chart(data: DigestData, tr: Tr, highlight: str | None = None) -> bytes | None:
    """The coverage chart, or ``None`` while no commune has reported BHYT."""
    names = {c.id: c.name for c in data.communes}
    rates = [
        (names[cid], float(r.computed["rate"]))
        for cid, r in data.bhyt.items()
        if cid in names and r.computed.get("rate") is not None
    ]
    if not rates:
        return None
    reported = {name for name, _ in rates}
    changes = {
        names[cid]: change
        for cid in data.bhyt
        if cid in names and (change := data.rate_change(cid)) is not None
    }
    return coverage_chart(
        rates,
        data.target,
        missing=[c.name for c in data.communes if c.name not in reported],
        missing_label=tr("chưa báo cáo"),
        changes=changes,
        title=tr(
            "Tỷ lệ tham gia BHYT theo xã — tuần {first} – {last}",
            first=_date(tr, data.first),
            last=_date(tr, data.last),
        ),
        target_label=tr("Mục tiêu {target}%", target=format_decimal(data.target, locale=tr.lang)),
        highlight=highlight,
    )
