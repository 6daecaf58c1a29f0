"""The pages of the web view: what each shows and to whom. Every page asks ``Auth`` for the
viewer first (their role as it is now) and shows an officer only their commune, a unit's
staff only their unit, the office everything — the same rules as the chat."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from bot.webview import tables
from bot.webview.auth import LANG_COOKIE, Auth, Stop, Viewer
from bot.webview.overview import Overview, state_of
from handlers.criteria_view import MARKS, reason, standing_word
from handlers.digest import chart_form, digest_chart, load_digest_data
from handlers.i18n import Tr
from handlers.office import build_export, export_name
from handlers.photo_view import map_link, photo_caption, photo_source
from handlers.reader import Reader
from handlers.readmodel.criteria import ORDER, Standing, load_board
from handlers.readmodel.photos import OTHER, load_photos
from handlers.report_view import changed_values, display_value, figure_name, period_label
from handlers.task_board import completed_since, unit_tallies
from handlers.task_view import is_done, load_progress, state_phrase, task_title, unit_name
from knowledge.base import COMMUNES
from knowledge.form_rules import compute_all
from knowledge.models import TaskEntry
from storage.deadletters import DeadLetters
from storage.media import MediaRepo
from storage.overview import OverviewQueries
from storage.reports import Report, ReportRepo, report_number
from storage.sending import SendingRepo
from storage.tasks import TaskMark, TaskStatus
from storage.web import LinkProblem

CSS_CLASS = {
    Standing.MET: "met",
    Standing.IN_PROGRESS: "doing",
    Standing.LATE: "late",
    Standing.NO_DATA: "none",
}
MAX_NAMES = 60  # communes named as not reported this week; the rest are counted
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class TaskLine:
    title: str
    owner: str
    due: str
    state: str
    css: str


class Pages:
    def __init__(self, auth: Auth) -> None:
        self.auth = auth
        self.deps = auth.deps
        self._charts: dict[tuple[str, str, dt.date], bytes | None] = {}
        self._overview: Overview | None = None
        self.media = MediaRepo(self.deps.db)

    # -- plumbing ---------------------------------------------------------------------------
    def render(
        self, name: str, request: web.Request, viewer: Viewer | None, status: int = 200, **ctx: Any
    ) -> web.Response:
        lang = viewer.reader.lang if viewer else self.deps.default_lang
        tr = viewer.reader.tr if viewer else _tr(self, lang)
        context = {"_": tr, "viewer": viewer, "lang": lang, **ctx}
        return aiohttp_jinja2.render_template(name, request, context, status=status)

    def message(
        self, request: web.Request, viewer: Viewer | None, title: str, text: str, status: int
    ) -> web.Response:
        return self.render("message.html", request, viewer, status, title=title, text=text)

    async def viewer_or_login(self, request: web.Request) -> Viewer:
        viewer = await self.auth.viewer(request)
        if viewer is None:
            tr = _tr(self, request.cookies.get(LANG_COOKIE) or self.deps.default_lang)
            raise Stop(
                self.message(
                    request,
                    None,
                    tr("Chưa đăng nhập"),
                    tr(
                        "Xin gõ /web trong cuộc trò chuyện với Trợ lý NTM để nhận đường dẫn "
                        "đăng nhập mới."
                    ),
                    401,
                )
            )
        return viewer

    def denied(self, request: web.Request, viewer: Viewer) -> Stop:
        _ = viewer.reader.tr
        return Stop(
            self.message(
                request,
                viewer,
                _("Không có quyền xem"),
                _("Trang này không dành cho tài khoản của bạn."),
                403,
            )
        )

    # -- signing in and out ------------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """The link from the chat opens a page whose button signs in: opening the link spends
        nothing, so a chat app fetching it to draw a preview cannot use it up."""
        token = request.query.get("t", "")[:100]
        tr = _tr(self, request.cookies.get(LANG_COOKIE) or self.deps.default_lang)
        if not token:
            text = tr("Đường dẫn đăng nhập không đúng.") + " "
            text += tr("Gõ /web trong chat để nhận đường dẫn mới.")
            return self.message(request, None, tr("Không đăng nhập được"), text, 400)
        return self.render("login.html", request, None, token=token)

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        outcome = await self.auth.sign_in(request, str(form.get("t", "")))
        if isinstance(outcome, web.HTTPSeeOther):
            raise outcome
        tr = _tr(self, request.cookies.get(LANG_COOKIE) or self.deps.default_lang)
        texts = {
            LinkProblem.USED: tr("Đường dẫn này đã được dùng. Mỗi đường dẫn chỉ dùng một lần."),
            LinkProblem.EXPIRED: tr("Đường dẫn này đã hết hạn."),
            LinkProblem.UNKNOWN: tr("Đường dẫn đăng nhập không đúng."),
            "locked": tr("Có quá nhiều lần đăng nhập không thành công. Xin thử lại sau 15 phút."),
        }
        text = texts[outcome] + " " + tr("Gõ /web trong chat để nhận đường dẫn mới.")
        status = 429 if outcome == "locked" else 400
        return self.message(request, None, tr("Không đăng nhập được"), text, status)

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        if not await self.auth.sign_out(request, viewer):
            raise self.denied(request, viewer)
        _ = viewer.reader.tr
        response = self.message(
            request, None, _("Đã đăng xuất"), _("Gõ /web trong chat để đăng nhập lại."), 200
        )
        response.del_cookie("ntm_session", path="/web")
        return response

    async def switch_lang(self, request: web.Request) -> web.StreamResponse:
        lang = request.match_info["lang"]
        response = web.HTTPSeeOther("/web/")
        if lang in ("vi", "en"):
            response.set_cookie(LANG_COOKIE, lang, path="/web", httponly=True, samesite="Strict")
        raise response

    # -- the district ------------------------------------------------------------------------
    async def overview(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        if viewer.is_officer:
            raise web.HTTPSeeOther(f"/web/xa/{viewer.user.commune_id}")
        if viewer.is_unit:
            raise web.HTTPSeeOther("/web/viec")
        ctx = viewer.reader
        deps = self.deps
        forms = list(deps.kb.forms.values())
        overview = await self._overview_of(ctx)
        progress = overview.progress
        columns = tables.columns(ctx, forms)
        keys = {c.key for c in columns}
        sort = request.query.get("sort", "xa")
        sort = sort if sort in keys else "xa"
        descending = request.query.get("dir") == "desc"
        ordered = await overview.ordered(sort, descending)
        shown = tables.page_of(ordered, int_from(request.query.get("page"), 1))
        page = tables.Page(await overview.rows(shown.rows), shown.number, shown.pages, shown.total)
        tables.write_text(ctx, forms, page.rows)
        codes = [i.code for i in deps.kb.top_level("xa")]
        matrix = [
            (
                row.commune,
                [
                    (deps.kb.indicators[c].label, s.value, CSS_CLASS[s], MARKS[s],
                     standing_word(ctx.tr, s))
                    for c in codes
                    for s in [overview.criteria(row.commune)[c].standing]
                ],
            )
            for row in page.rows
        ]  # fmt: skip
        first = ctx.today - dt.timedelta(days=ctx.today.weekday())
        last = first + dt.timedelta(days=6)
        reporting = await ReportRepo(deps.db).communes_reporting_between(first, last)
        silent = [c.name for c in overview.communes if c.id not in reporting]
        set_aside = await DeadLetters(deps.db).count_since(ctx.now - dt.timedelta(days=7))
        return self.render(
            "overview.html",
            request,
            viewer,
            week=(
                format_date(first, "dd/MM/yyyy", locale=ctx.lang),
                format_date(last, "dd/MM/yyyy", locale=ctx.lang),
            ),
            reported_week=len(overview.communes) - len(silent),
            set_aside=set_aside,
            silent=silent[:MAX_NAMES],
            silent_more=max(0, len(silent) - MAX_NAMES),
            columns=columns,
            groups=_groups(columns),
            page=page,
            sort=sort,
            descending=descending,
            matrix=matrix,
            criteria=[deps.kb.indicators[c].label for c in codes],
            legend=[(CSS_CLASS[s], MARKS[s], standing_word(ctx.tr, s)) for s in ORDER],
            late=self._late(viewer, progress),
            never=overview.never,
            has_chart=overview.has_chart,
            chart_title=_chart_title(ctx, deps.kb),
            today=format_date(ctx.today, "dd/MM/yyyy", locale=ctx.lang),
        )

    async def _overview_of(self, ctx: Reader) -> Overview:
        """The overview's data as of now: kept while nothing changed, brought up to date when
        only reports were added (their communes read again), read afresh otherwise."""
        tz = ctx.now.tzinfo
        state = await state_of(self.deps, ctx.today, tz)
        cached = self._overview
        if cached is None:
            self._overview = await Overview.read(self.deps, ctx.today, tz)
        else:
            self._overview = await cached.after(state, tz)
        return self._overview

    def _late(self, viewer: Viewer, progress: Any) -> list[TaskLine]:
        ctx = viewer.reader
        kb = self.deps.kb
        lines = []
        for tally in unit_tallies(kb, progress, ctx.today):
            for task, mark in tally.overdue:
                lines.append(self._task_line(viewer, task, mark, unit_name(kb, task.owner, ctx.tr)))
        return lines

    def _task_line(
        self, viewer: Viewer, task: TaskEntry, mark: TaskMark | None, owner: str
    ) -> TaskLine:
        ctx = viewer.reader
        due = self.deps.kb.due(task)
        state = state_phrase(ctx.tr, mark, due, ctx.today, ctx.now.tzinfo)
        if is_done(mark):
            css = "met"
        elif mark is not None and mark.status is TaskStatus.BLOCKED:
            css = "blocked"
        elif due < ctx.today:
            css = "late"
        else:
            css = "doing" if mark is not None and mark.status is not TaskStatus.OPEN else "none"
        return TaskLine(
            task_title(task, ctx.tr),
            owner,
            format_date(due, "dd/MM/yyyy", locale=ctx.lang),
            state,
            css,
        )

    async def chart(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        if not viewer.is_office:
            raise self.denied(request, viewer)
        ctx = viewer.reader
        marks = await OverviewQueries(self.deps.db).marks()
        # a report committed late with a lower id changes the count
        key = (f"{marks.newest_report}:{marks.reports}", ctx.lang, ctx.today)
        if key not in self._charts:
            data = await load_digest_data(self.deps, ctx.today, criteria=False)
            self._charts = {key: await asyncio.to_thread(digest_chart, self.deps.kb, data, ctx.tr)}
        png = self._charts[key]
        if png is None:
            raise web.HTTPNotFound()
        return web.Response(body=png, content_type="image/png")

    # -- one commune ---------------------------------------------------------------------------
    async def commune(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        commune_id = int_from(request.match_info.get("id"), 0)
        if not (viewer.is_office or (viewer.is_officer and viewer.user.commune_id == commune_id)):
            raise self.denied(request, viewer)
        commune = await self.deps.communes.get(commune_id)
        if commune is None:
            raise web.HTTPNotFound()
        ctx = viewer.reader
        repo = ReportRepo(self.deps.db)
        history = await repo.history(commune.id, limit=500)
        names = await self.deps.users.names_of(r.submitted_by for r in history)
        progress = await load_progress(self.deps.db, ctx.now.tzinfo)
        board = await load_board(self.deps.kb, self.deps.db, ctx.today, ctx.now.tzinfo, [commune])
        cells = board.communes[commune.id]
        photos = await load_photos(self.deps.kb, self.deps.db, [commune.id])
        standings = [
            {
                "indicator": self.deps.kb.indicators[code],
                "standing": cells[code].standing.value,
                "css": CSS_CLASS[cells[code].standing],
                "mark": MARKS[cells[code].standing],
                "word": standing_word(ctx.tr, cells[code].standing),
                "why": reason(ctx.tr, self.deps.kb, cells[code], ctx.today, ctx.now.tzinfo),
                "photos": photos.count(commune.id, code),
            }
            for code in board.criteria
            for code in (code, *self.deps.kb.indicators[code].children)
        ]
        series = self._series(viewer, history, names)
        tasks = [
            self._task_line(viewer, t, progress.of(t.id, commune.id), commune.name)
            for t in self.deps.kb.tasks_of(COMMUNES)
        ]
        officers = await self.deps.users.officers_of(commune.id)
        names |= await self.deps.users.names_of(
            e.submitted_by for items in photos.communes.get(commune.id, {}).values() for e in items
        )
        evidence = [
            {
                "title": _evidence_title(ctx, self.deps.kb, code),
                "anchor": self.deps.kb.indicators[code].label if code != OTHER else "khac",
                "photos": [
                    {
                        "id": item.media.id,
                        "picture": item.media.is_picture,
                        "caption": photo_caption(ctx.tr, self.deps.kb, item.media),
                        "map": map_link(item.media),
                        "report": photo_source(ctx.tr, self.deps.kb, item),
                        "who": names.get(item.submitted_by, ""),
                    }
                    for item in photos.of(commune.id, code)
                ],
            }
            for code in (*board.criteria, OTHER)
            if photos.count(commune.id, code)
        ]
        return self.render(
            "commune.html",
            request,
            viewer,
            commune=commune,
            evidence=evidence,
            series=series,
            standings=standings,
            tasks=tasks,
            officers=[o.name_and_position for o in officers],
        )

    def _series(
        self, viewer: Viewer, history: list[Report], names: dict[int, str]
    ) -> list[dict[str, Any]]:
        """Each report series (form, subject, period) with its versions, newest first, and
        what each correction changed."""
        ctx = viewer.reader
        kb = self.deps.kb
        by_id = {r.id: r for r in history}
        grouped: dict[tuple[str, str, str], list[Report]] = {}
        for report in sorted(history, key=lambda r: (r.submitted_at, r.id), reverse=True):
            grouped.setdefault((report.form_id, report.subject, report.period), []).append(report)
        out = []
        for (form_id, subject, period), versions in grouped.items():
            form = kb.forms.get(form_id)
            if form is None:
                continue
            title = form.title_en if ctx.tr.en else form.title
            if subject:
                ind = kb.indicator(subject)
                title += f" {ind.label}" if ind else f" {subject}"
            rows = []
            for report in versions:
                values = compute_all(form, report.answers)
                shown = [
                    (item.label_en if ctx.tr.en else item.label, display_value(ctx, item, value))
                    for item in form.fields
                    if (value := report.answers.get(item.key)) is not None
                ]
                shown += [
                    (c.label_en if ctx.tr.en else c.label, _number(ctx, values[c.key], c.unit))
                    for c in form.computed
                    if values.get(c.key) is not None
                ]
                previous = by_id.get(report.supersedes) if report.supersedes else None
                changes = (
                    changed_values(ctx, form, previous.answers, report.answers) if previous else []
                )
                rows.append(
                    {
                        "number": report.number,
                        "version": report.version,
                        "replaces": report_number(report.supersedes) if report.supersedes else "",
                        "current": report is versions[0],
                        "when": format_datetime(
                            report.submitted_at.astimezone(ctx.now.tzinfo),
                            "dd/MM/yyyy HH:mm",
                            locale=ctx.lang,
                        ),
                        "who": names.get(report.submitted_by, ""),
                        "channel": report.channel,
                        "fields": shown,
                        "changes": changes,
                        "met": report.meets_target,
                    }
                )
            out.append({"title": title, "period": period_label(period, ctx.tr), "versions": rows})
        return out

    # -- photos --------------------------------------------------------------------------------
    async def photo(self, request: web.Request) -> web.StreamResponse:
        """A photo (``/web/anh/<id>``) or its thumbnail (``…/nho``), to those who may see a
        commune whose report holds it; metadata-free, as it was kept."""
        viewer = await self.viewer_or_login(request)
        media = await self.media.get(int_from(request.match_info.get("id"), 0))
        if media is None:
            raise web.HTTPNotFound()
        mine = viewer.is_officer and viewer.user.commune_id in await self.media.communes_of(
            media.id
        )
        if not (viewer.is_office or mine):  # the office sees every photo (a unit's too)
            raise self.denied(request, viewer)
        small = request.match_info.get("size") == "nho" and media.thumb_sha256 is not None
        data = await self.media.content(media, thumbnail=small)
        if data is None:
            raise web.HTTPNotFound()
        headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
        if media.is_picture:
            headers["Content-Disposition"] = "inline"
        else:  # a PDF is whatever its sender made it: downloaded, never run on this site
            headers["Content-Disposition"] = f'attachment; filename="minh-chung-{media.id}.pdf"'
            headers["Content-Security-Policy"] = "sandbox"
        return web.Response(
            body=data, content_type="image/jpeg" if small else media.mime, headers=headers
        )

    # -- tasks ---------------------------------------------------------------------------------
    async def tasks(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        ctx = viewer.reader
        kb = self.deps.kb
        progress = await load_progress(self.deps.db, ctx.now.tzinfo)
        groups: list[tuple[str, list[TaskLine]]] = []
        if viewer.is_officer:
            commune = await self.deps.communes.get(viewer.user.commune_id or 0)
            assert commune is not None
            groups.append(
                (
                    ctx.tr("Việc của xã {commune} theo Kế hoạch", commune=commune.name),
                    [
                        self._task_line(viewer, t, progress.of(t.id, commune.id), commune.name)
                        for t in kb.tasks_of(COMMUNES)
                    ],
                )
            )
        else:
            units = (
                [viewer.user.unit_key]
                if viewer.is_unit and viewer.user.unit_key
                else [u.key for u in kb.units if u.key != COMMUNES and kb.tasks_of(u.key)]
            )
            for key in units:
                name = unit_name(kb, key, ctx.tr)
                lines = [
                    self._task_line(viewer, t, progress.of(t.id), name) for t in kb.tasks_of(key)
                ]
                groups.append((name, lines))
        shares: list[tuple[str, str, int, int, int]] = []
        if viewer.is_office:
            communes = await self.deps.communes.all()
            for task in kb.tasks_of(COMMUNES):
                marks = [progress.of(task.id, c.id) for c in communes]
                done = sum(1 for m in marks if is_done(m))
                blocked = sum(1 for m in marks if m and m.status is TaskStatus.BLOCKED)
                due = format_date(kb.due(task), "dd/MM/yyyy", locale=ctx.lang)
                shares.append((task_title(task, ctx.tr), due, done, blocked, len(communes)))
        criteria: list[tuple[str, str, str]] = []
        if viewer.is_unit and viewer.user.unit_key:
            communes = await self.deps.communes.all()
            owned = kb.owned_by(viewer.user.unit_key)
            board = await load_board(kb, self.deps.db, ctx.today, ctx.now.tzinfo, communes)
            for ind in owned:
                if ind.level == "xa":
                    counts = board.count(ind.code)
                    spread = ", ".join(
                        f"{MARKS[s]} {standing_word(ctx.tr, s)}: {counts[s]}"
                        for s in ORDER
                        if counts[s]
                    )
                    criteria.append((ind.label, ind.name_en if ctx.tr.en else ind.name, spread))
                else:
                    standing = board.district[ind.code].standing
                    label = ctx.tr("huyện {label}", label=ind.label)
                    name = ind.name_en if ctx.tr.en else ind.name
                    word = f"{MARKS[standing]} {standing_word(ctx.tr, standing)}"
                    criteria.append((label, name, word))
        done_week = []
        if viewer.is_office:
            since = ctx.now - dt.timedelta(days=7)
            for mark in completed_since(kb, progress, since):
                finished = kb.task(mark.task_id)
                if finished is not None:
                    done_week.append(task_title(finished, ctx.tr))
        return self.render(
            "tasks.html",
            request,
            viewer,
            groups=groups,
            shares=shares,
            criteria=criteria,
            done_week=done_week,
        )

    # -- downloads and send-outs -----------------------------------------------------------------
    async def download(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        if not viewer.is_office:
            raise self.denied(request, viewer)
        kind = request.match_info["kind"]
        if kind not in ("xlsx", "csv"):
            raise web.HTTPNotFound()
        xlsx, csv_bytes, _count = await build_export(viewer.reader)
        body, mime = (xlsx, XLSX) if kind == "xlsx" else (csv_bytes, "text/csv")
        name = export_name(viewer.reader, kind)
        return web.Response(
            body=body,
            content_type=mime,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def sending(self, request: web.Request) -> web.StreamResponse:
        viewer = await self.viewer_or_login(request)
        if not viewer.is_office:
            raise self.denied(request, viewer)
        ctx = viewer.reader
        repo = SendingRepo(self.deps.db)
        jobs = []
        for job in await repo.recent_jobs(5):
            outcome = await repo.outcome(job.id)
            missed = [
                (r["display_name"] or r["chat_id"], r["channel"], r["last_error"] or r["status"])
                for r in await repo.not_reached(job.id)
            ]
            when = format_datetime(
                job.created_at.astimezone(ctx.now.tzinfo), "dd/MM/yyyy HH:mm", locale=ctx.lang
            )
            jobs.append({"title": job.title, "when": when, "outcome": outcome, "missed": missed})
        return self.render("sending.html", request, viewer, jobs=jobs)


def _evidence_title(ctx: Reader, kb: Any, code: str) -> str:
    if code == OTHER:
        return ctx.tr("Ảnh kèm các việc khác")
    indicator = kb.indicators[code]
    name = indicator.name_en if ctx.tr.en else indicator.name
    return ctx.tr("Tiêu chí {label}. {name}", label=indicator.label, name=name)


def _chart_title(ctx: Reader, kb: Any) -> str:
    """The chart's heading: the charted figure of its form ("Tỷ lệ tham gia BHYT theo xã")."""
    form = chart_form(kb)
    if form is None or form.chart is None:
        return ""
    return ctx.tr("{figure} theo xã", figure=figure_name(ctx.tr, form, form.chart))


def _groups(columns: list[tables.Column]) -> list[tuple[str, int]]:
    """The header row above the columns: each form's title spanning its columns."""
    groups: list[tuple[str, int]] = []
    for column in columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return groups


MAX_ID = 2**63 - 1  # what a database integer holds: beyond it, nothing can be found


def int_from(value: str | None, default: int) -> int:
    """A number from an address (a page, an id); ``default`` when it is none or out of range."""
    try:
        number = int(value) if value is not None else default
    except ValueError:
        return default
    return number if -MAX_ID <= number <= MAX_ID else default


def _number(ctx: Reader, value: Any, unit: str | None) -> str:
    shown = format_decimal(round(float(value), 1), locale=ctx.lang)
    if unit == "%":
        return shown + "%"
    return f"{shown} {unit}" if unit else shown


def _tr(pages: Pages, lang: str) -> Tr:
    return Tr(pages.deps.translator, lang if lang in ("vi", "en") else pages.deps.default_lang)
