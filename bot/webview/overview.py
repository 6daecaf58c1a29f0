"""The district overview's data, read as a page needs it and kept per state of the data.

A page shows 100 communes sorted by one column. It needs that column for every commune (one
form's current reports, or every commune's criteria when sorting by them) and everything else
only for the communes it shows: their reports, their criteria (from the read model). A
province's 10,000 communes are therefore never all read for a page sorted by name or by a
figure, and what was read is kept until the data changes. When only reports were added since,
their communes are read again, nothing else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.webview import tables
from handlers.core import Deps
from handlers.digest import chart_form
from handlers.readmodel.criteria import (
    Cell as Standing,
)
from handlers.readmodel.criteria import (
    CriteriaBoard,
    derive_board,
    evidence_forms,
    with_communes,
)
from handlers.task_view import Progress, load_progress
from knowledge.forms import Form
from storage.communes import Commune
from storage.overview import OverviewQueries
from storage.reports import Report, ReportRepo


@dataclass(frozen=True)
class DataState:
    """What the overview was read from: the newest report and how many there are (a report
    committed late with a lower id changes the count), communes and people, the tasks' marks,
    the day."""

    newest: int
    reports: int
    communes_people: str
    progress: int
    today: dt.date

    def same_but_reports(self, other: DataState, *, marks_too: bool = False) -> bool:
        """Only reports were added since (none can be removed: they are the office's record);
        ``marks_too``: and the task marks those reports made (evidence.yaml's completions)."""
        progress = marks_too or self.progress == other.progress
        return (
            progress
            and (self.communes_people, self.today) == (other.communes_people, other.today)
            and other.newest >= self.newest
            and other.reports >= self.reports
        )


class Overview:
    """The overview's data for one state of the database, filled in as pages ask for it."""

    def __init__(self, deps: Deps, state: DataState, communes: list[Commune], progress: Progress):
        self.deps = deps
        self.state = state
        self.communes = communes  # active, in Vietnamese order
        self.progress = progress
        self.forms: list[Form] = list(deps.kb.forms.values())
        self._by_form: dict[str, dict[int, tables.Row]] = {}  # a form's cells, every commune
        self._rows: dict[int, tables.Row] = {}  # whole rows of the communes shown so far
        self._cells: dict[int, Mapping[str, Standing]] = {}  # their criteria
        self._board: CriteriaBoard | None = None  # every commune's, once sorted by criteria
        self._names: dict[int, str] = {}
        self.never = 0
        self.has_chart = False

    @classmethod
    async def read(cls, deps: Deps, today: dt.date, tz: dt.tzinfo | None) -> Overview:
        overview = cls(deps, await state_of(deps, today, tz), await deps.communes.all(),
                       await load_progress(deps.db, tz))  # fmt: skip
        await overview._counts()
        return overview

    async def _counts(self) -> None:
        """How many communes never reported; whether the chart has anything to draw."""
        queries = OverviewQueries(self.deps.db)
        self.never = await queries.communes_never_reported()
        form = chart_form(self.deps.kb)
        self.has_chart = form is not None and bool(await queries.current_reports_of(form.id))

    # -- a new state ------------------------------------------------------------------------
    async def after(self, state: DataState, tz: dt.tzinfo | None) -> Overview:
        """This overview as of ``state``: only the communes of the reports added since are
        read again when nothing else changed; otherwise everything is read afresh."""
        if state == self.state:
            return self
        repo = ReportRepo(self.deps.db)
        if self.state.same_but_reports(state, marks_too=True):
            added = [r for r in await repo.added_since(self.state.newest) if r.id <= state.newest]
            # Every report counted is among them, unless one stored earlier (a lower id) was
            # committed late, on PostgreSQL: then from scratch. Task marks made since must be
            # those the added reports made (a report meeting its target completes a task).
            ids = {r.id for r in added}
            if self.state.reports + len(added) == state.reports and await self._marks_by(
                ids, state
            ):
                progress = await load_progress(self.deps.db, tz)
                return await self._with_added(state, added, progress)
        return await Overview.read(self.deps, state.today, tz)

    async def _marks_by(self, reports: set[int], state: DataState) -> bool:
        """The task marks made since this overview was read were all made by ``reports``."""
        if state.progress == self.state.progress:
            return True
        made_by = await OverviewQueries(self.deps.db).reports_marking_tasks(
            self.state.progress, state.progress
        )
        return made_by <= set(reports)

    async def _with_added(
        self, state: DataState, added: list[Report], progress: Progress
    ) -> Overview:
        fresh = Overview(self.deps, state, self.communes, progress)
        known = {c.id: c for c in self.communes}
        touched = [known[c] for c in dict.fromkeys(r.commune_id for r in added) if c in known]
        ids = {c.id for c in touched}
        repo = ReportRepo(self.deps.db)
        forms = {r.form_id for r in added}
        fresh._rows = {k: v for k, v in self._rows.items() if k not in ids}
        fresh._cells = {k: v for k, v in self._cells.items() if k not in ids}
        fresh._names = dict(self._names)
        for form_id, rows in self._by_form.items():
            if form_id not in forms:
                fresh._by_form[form_id] = rows
                continue
            reports = await repo.current_for(ids, forms=[form_id])
            fresh._by_form[form_id] = {k: v for k, v in rows.items() if k not in ids}
            fresh._by_form[form_id] |= await fresh._form_rows(form_id, touched, reports)
        if self._board is not None:
            evidence = await repo.current_for(ids, forms=evidence_forms(self.deps.kb))
            partial = derive_board(self.deps.kb, progress, evidence, touched, state.today)
            fresh._board = with_communes(self.deps.kb, self._board, partial, self.communes)
        await fresh._counts()
        return fresh

    # -- what a page asks for ------------------------------------------------------------------
    async def ordered(self, key: str, descending: bool) -> list[Commune]:
        """Every commune sorted by the column ``key`` (those without a value last)."""
        if key == "xa":
            return list(reversed(self.communes)) if descending else list(self.communes)
        if key.startswith("criteria."):
            board = await self.board()
            tallies = {c.id: board.tally(c.id) for c in self.communes}
            rows = [
                tables.Row(c, tables.criteria_cells(tallies[c.id], board)) for c in self.communes
            ]
        else:
            form_id = key.split(".", 1)[0]
            by_commune = await self._form(form_id)
            rows = [by_commune.get(c.id) or tables.Row(c) for c in self.communes]
        return [row.commune for row in tables.sort_rows(rows, key, descending)]

    async def rows(self, communes: Sequence[Commune]) -> list[tables.Row]:
        """The whole rows (every form's figures, the criteria counts) of these communes."""
        missing = [c for c in communes if c.id not in self._rows]
        if missing:
            reports = await ReportRepo(self.deps.db).current_for(c.id for c in missing)
            await self._know_names(reports)
            board = await self._board_for(missing, reports)
            current = tables.current_by_commune(reports)
            built = tables.rows(self.forms, missing, current, self._names, board)
            self._rows |= {row.commune.id: row for row in built}
            self._cells |= {c.id: board.communes[c.id] for c in missing}
        return [self._rows[c.id] for c in communes]

    def criteria(self, commune: Commune) -> Mapping[str, Standing]:
        """The criteria of a commune whose row was asked for."""
        return self._cells[commune.id]

    async def board(self) -> CriteriaBoard:
        """Every commune's criteria (sorting by them needs them all)."""
        if self._board is None:
            reports = await ReportRepo(self.deps.db).latest(forms=evidence_forms(self.deps.kb))
            self._board = await asyncio.to_thread(  # seconds for a province: off the loop
                derive_board, self.deps.kb, self.progress, reports, self.communes,
                self.state.today,
            )  # fmt: skip
        return self._board

    async def _board_for(self, communes: list[Commune], reports: list[Report]) -> CriteriaBoard:
        if self._board is not None:
            return self._board
        return derive_board(self.deps.kb, self.progress, reports, communes, self.state.today)

    async def _form(self, form_id: str) -> dict[int, tables.Row]:
        """One form's cells for every commune that has reported it."""
        if form_id not in self._by_form:
            reports = await ReportRepo(self.deps.db).latest(form_id=form_id)
            self._by_form[form_id] = await self._form_rows(form_id, self.communes, reports)
        return self._by_form[form_id]

    async def _form_rows(
        self, form_id: str, communes: Sequence[Commune], reports: list[Report]
    ) -> dict[int, tables.Row]:
        form = self.deps.kb.forms.get(form_id)
        if form is None:
            return {}
        await self._know_names(reports)
        current = tables.current_by_commune(reports)
        out: dict[int, tables.Row] = {}
        for commune in communes:
            held = current.get((commune.id, form_id))
            if held:
                row = tables.Row(commune)
                tables.form_cells(form, held, self._names, row)
                out[commune.id] = row
        return out

    async def _know_names(self, reports: list[Report]) -> None:
        unknown = {r.submitted_by for r in reports} - set(self._names)
        if unknown:
            self._names |= await self.deps.users.names_of(unknown)


async def state_of(deps: Deps, today: dt.date, tz: dt.tzinfo | None) -> DataState:
    progress = await load_progress(deps.db, tz)
    marks = await OverviewQueries(deps.db).marks()
    return DataState(
        marks.newest_report,
        marks.reports,
        f"{marks.communes}/{marks.people}",
        progress.version,
        today,
    )
