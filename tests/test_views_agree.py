"""Every view states the same standing for the same cell.

Random reports (criteria statuses, BHYT figures, the commune plan) and random task marks (the
communes' shares and the units' tasks), on a random day of the plan; then every view the office
and the units read — /xa, /tonghop, /viec of a unit, the district and commune digests, the .xlsx
criteria sheets, the web overview's matrix and a commune's page — is read back and compared with
the one read model, cell by cell."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.webview import setup_web_view
from handlers.criteria_view import MARKS, standing_word
from handlers.digest import commune_digest, district_digest, load_digest_data
from handlers.i18n import Catalogs, Tr
from handlers.readmodel.criteria import CriteriaBoard, Standing, load_board
from handlers.report_evidence import record_report_evidence
from knowledge.form_rules import compute, compute_all, current_period, target_met
from knowledge.loader import load_knowledge
from storage.communes import Commune
from storage.reports import ReportRepo
from storage.tasks import TaskProgressRepo, TaskStatus
from storage.web import WebLinkRepo
from tests.harness import Harness, harness

KB = load_knowledge()
TR = Tr(Catalogs(), "vi")
WORDS = {standing_word(TR, s): s for s in Standing}
BY_MARK = {mark: s for s, mark in MARKS.items()}
PLACES = ["An Nông", "Dân Lực", "Dân Lý", "Đồng Lợi", "Thọ Bình", "Thọ Tân", "Xuân Thọ"]
COMMUNE_CODES = [c for c, i in KB.indicators.items() if i.level == "xa"]
COMMUNE_TASKS = [t.id for t in KB.tasks if KB.is_commune_task(t)]
UNIT_TASKS = [t.id for t in KB.tasks if not KB.is_commune_task(t)]
DAYS = [dt.date(2021, 9, 20), dt.date(2021, 10, 20), dt.date(2021, 11, 20), dt.date(2022, 1, 10)]
UNITS = {"bhxh": "bảo hiểm xã hội", "tp": "tư pháp", "kt": "kinh tế và hạ tầng"}

day_offset = st.integers(min_value=0, max_value=100)
status_report = st.tuples(
    st.just("status"),
    st.sampled_from(PLACES),
    st.sampled_from(COMMUNE_CODES),
    st.sampled_from(["dat", "dang", "chua"]),
    st.one_of(st.none(), st.integers(min_value=-30, max_value=60)),
    day_offset,
)
bhyt_report = st.tuples(
    st.just("bhyt"), st.sampled_from(PLACES), st.integers(min_value=700, max_value=990), day_offset
)
plan_report = st.tuples(
    st.just("quy-hoach"),
    st.sampled_from(PLACES),
    st.sampled_from(["phe_duyet", "trinh", "dang_lap", "chua"]),
    day_offset,
)
share_mark = st.tuples(
    st.just("share"),
    st.sampled_from(PLACES),
    st.sampled_from(COMMUNE_TASKS),
    st.sampled_from(list(TaskStatus)),
    day_offset,
)
unit_mark = st.tuples(
    st.just("unit"), st.sampled_from(UNIT_TASKS), st.sampled_from(list(TaskStatus)), day_offset
)
scenarios = st.tuples(
    st.sampled_from(DAYS),
    st.lists(
        st.one_of(status_report, bhyt_report, plan_report, share_mark, unit_mark),
        min_size=3,
        max_size=40,
    ),
)


@settings(max_examples=20)
@given(scenarios)
def test_every_view_states_the_same_standing_for_the_same_cell(
    scenario: tuple[dt.date, list[tuple[Any, ...]]],
) -> None:
    today, events = scenario
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NTM_PUBLIC_URL"] = "http://ntm.example.vn"
        try:
            asyncio.run(_check(Path(tmp), today, events))
        finally:
            os.environ.pop("NTM_PUBLIC_URL", None)


async def _check(tmp: Path, today: dt.date, events: list[tuple[Any, ...]]) -> None:
    async with harness(tmp, today=today.isoformat()) as h:
        await _play(h, today, events)
        communes = await h.app.deps.communes.all()
        board = await load_board(h.app.deps.kb, h.app.db, today, h.clock.now().tzinfo, communes)
        names = {c.name: c.id for c in communes}
        shown = sorted({e[1] for e in events if e[0] != "unit"} | {"Hợp Lý"})
        for name in shown:
            await h.say("admin", f"/xa {name}")
            assert _xa(h.last("admin")) == _expected_xa(board, names[name]), name
        tallies = {n: dict(board.tally(names[n])) for n in names}
        summary = await h.say("admin", "/tonghop")
        _same_tallies(summary[0].text, tallies)
        data = await load_digest_data(h.app.deps, today)
        _same_tallies(district_digest(KB, data, TR, "Triệu Sơn").plain(), tallies)
        for name in shown:
            commune = next(c for c in communes if c.name == name)
            text = commune_digest(KB, data, commune, TR).plain()
            assert _tally_after(text, "Tiêu chí của xã") == tallies[name], name
        for unit, words in UNITS.items():
            await h.say("admin", f"/viec {words}")
            _same_unit_counts(h.last("admin"), board, unit)
        await _same_workbook(h, board, names)
        await _same_web(h, board, names, shown)


async def _play(h: Harness, today: dt.date, events: list[tuple[Any, ...]]) -> None:
    """Reports and marks as the dialogs would store them, on days up to ``today``."""
    communes = {c.name: c for c in await h.app.deps.communes.all()}
    person = await h.app.deps.users.ensure("test", "person", chat_id="person")
    repo, marks = ReportRepo(h.app.db), TaskProgressRepo(h.app.db)
    start = dt.datetime(2021, 8, 1, 8, tzinfo=dt.UTC)
    last = dt.datetime.combine(today, dt.time(7), tzinfo=dt.UTC)
    for n, event in enumerate(events):
        moment = min(start + dt.timedelta(days=event[-1], minutes=n), last)
        async with h.app.db.transaction():
            if event[0] in ("status", "bhyt", "quy-hoach"):
                await _report(h, repo, communes[event[1]], event, moment, person.id)
            elif event[0] == "share":
                await marks.mark((event[2], communes[event[1]].id), event[3], by_user=person.id,
                                 channel="test", now=moment, note="x")  # fmt: skip
            else:
                await marks.mark((event[1], None), event[2], by_user=person.id, channel="test",
                                 now=moment, note="x")  # fmt: skip


async def _report(
    h: Harness, repo: ReportRepo, commune: Commune, event: tuple[Any, ...], moment: dt.datetime,
    user: int,
) -> None:  # fmt: skip
    kind = event[0]
    if kind == "status":
        _k, _place, code, value, offset, _day = event
        form = KB.forms["tieu-chi"]
        answers: dict[str, Any] = {"indicator": code, "status": value}
        if value != "dat":
            expected = offset if offset is not None else 30
            answers["expected"] = (moment.date() + dt.timedelta(days=expected)).isoformat()
        subject = code
    elif kind == "bhyt":
        form = KB.forms["bhyt"]
        answers = {"population": 1000, "insured": event[2]}
        subject = ""
    else:
        form = KB.forms["quy-hoach"]
        answers = {"status": event[2]}
        if event[2] == "phe_duyet":
            answers["decision"] = "1/QĐ-UBND"
        else:
            answers["expected"] = "2021-12-01"
        subject = ""
    values = compute_all(form, answers)
    verdicts = [m for m in (target_met(t, values) for t in form.targets) if m is not None]
    report = await repo.add(
        commune_id=commune.id,
        form_id=form.id,
        subject=subject,
        period=current_period(form, moment.date()),
        answers=answers,
        computed=compute(form, answers),
        meets_target=all(verdicts) if verdicts else None,
        submitted_by=user,
        channel="test",
        now=moment,
        report_date=moment.date(),
    )
    await record_report_evidence(KB, h.app.db, TR, form, report, commune)


# -- reading the views back -----------------------------------------------------------------


def _xa(text: str) -> dict[str, Standing]:
    """/xa's group lines: criterion label → standing."""
    out: dict[str, Standing] = {}
    for word, standing in WORDS.items():
        found = re.search(rf"{re.escape(MARKS[standing])} {word} \(\d+\): ([\d, ]+)", text)
        if found:
            out |= {label.strip(): standing for label in found[1].split(",")}
    return out


def _expected_xa(board: CriteriaBoard, commune: int) -> dict[str, Standing]:
    return {KB.indicators[c].label: board.standing(commune, c) for c in board.criteria}


_TALLY = r"✅ (\d+) · ⏰ (\d+) · ⏳ (\d+) · ❔ (\d+)"


def _tally(found: re.Match[str], first: int = 1) -> dict[Standing, int]:
    counts = dict(zip((Standing.MET, Standing.LATE, Standing.IN_PROGRESS, Standing.NO_DATA),
                      (int(found[i]) for i in range(first, first + 4)), strict=True))  # fmt: skip
    return {s: n for s, n in counts.items() if n}


def _tally_after(text: str, label: str) -> dict[Standing, int]:
    found = re.search(re.escape(label) + r"[^\n]*?" + _TALLY, text)
    assert found, text
    return _tally(found)


def _same_tallies(text: str, tallies: dict[str, dict[Standing, int]]) -> None:
    """Every commune a tally line names ("Name: ✅ …" or "✅ … — n xã: A, B") has its own."""
    seen = 0
    for line in text.splitlines():
        single = re.match(r"• (.+?): " + _TALLY + "$", line)
        shared = re.match(r"• " + _TALLY + r" — \d+ xã: (.+)$", line)
        if single and single[1] in tallies:
            assert _tally(single, 2) == tallies[single[1]], line
            seen += 1
        elif shared:
            for name in shared[5].split(", "):
                assert _tally(shared) == tallies[name.strip()], line
                seen += 1
    assert seen, text


def _same_unit_counts(text: str, board: CriteriaBoard, unit: str) -> None:
    """/viec of a unit: "Tiêu chí xã 15.1 — …: 1/34 xã đạt (⏰ 33)" for what it owns."""
    for ind in KB.owned_by(unit):
        if ind.level == "xa":
            found = re.search(rf"Tiêu chí xã {re.escape(ind.label)} — [^\n]*?: (\d+)/\d+ xã đạt"
                              r"(?: \(([^)]*)\))?", text)  # fmt: skip
            assert found, (ind.code, text)
            counts = board.count(ind.code)
            assert int(found[1]) == counts[Standing.MET], (ind.code, found[0])
            spread = dict(re.findall(r"(\S) (\d+)", found[2] or ""))
            for mark, number in spread.items():
                assert counts[BY_MARK[mark]] == int(number), (ind.code, found[0])
        else:
            found = re.search(rf"Tiêu chí huyện {re.escape(ind.label)} — [^\n]*?: (\S) ", text)
            assert found and BY_MARK[found[1]] is board.district[ind.code].standing, ind.code


async def _same_workbook(h: Harness, board: CriteriaBoard, names: dict[str, int]) -> None:
    replies = await h.say("admin", "/xuat")
    files = [r.document for r in replies if r.document is not None]
    xlsx = next(f.data for f in files if f.filename.endswith(".xlsx"))
    book = load_workbook(io.BytesIO(xlsx))
    sheet = book["Tiêu chí xã"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        commune = names[row[0].value]
        for code in board.criteria:
            cell = row[header.index(f"TC {KB.indicators[code].label}")].value
            assert BY_MARK[cell.split()[0]] is board.standing(commune, code), (row[0].value, code)
    for row in book["Tiêu chí huyện"].iter_rows(min_row=2, values_only=True):
        if not row[1]:
            continue  # the goal, below the criteria
        code = "huyen:" + str(row[0]).split()[0].rstrip(".")
        assert BY_MARK[str(row[1]).split()[0]] is board.district[code].standing, row[0]


async def _same_web(
    h: Harness, board: CriteriaBoard, names: dict[str, int], shown: list[str]
) -> None:
    app = web.Application()
    setup_web_view(app, h.app.deps, h.app.conversation, h.app.settings)
    server = TestServer(app)
    await server.start_server()
    try:
        admin = await h.app.deps.users.get("test", "admin")
        assert admin is not None
        token = await WebLinkRepo(h.app.db).create(admin.id, h.clock.now(), h.app.deps.web_link_ttl)
        base = str(server.make_url("/"))
        async with ClientSession(base_url=base, cookie_jar=CookieJar(unsafe=True)) as browser:
            signed = await browser.post("/web/login", data={"t": token}, allow_redirects=False)
            assert signed.status == 303
            page = await (await browser.get("/web/")).text()
            matrix = page.split('id="matrix"')[1].split("</table>")[0]
            rows = re.findall(r'<th><a href="/web/xa/(\d+)">[^<]+</a></th>(.*?)</tr>', matrix)
            assert len(rows) == len(names)
            for commune, cells in rows:
                found = dict(re.findall(r'data-criterion="([\d.]+)" data-standing="(\w+)"', cells))
                for code in board.criteria:
                    label = KB.indicators[code].label
                    assert Standing(found[label]) is board.standing(int(commune), code)
            for name in shown:
                page = await (await browser.get(f"/web/xa/{names[name]}")).text()
                found = dict(re.findall(r'data-criterion="([\d.]+)" data-standing="(\w+)"', page))
                for code in (c for c in COMMUNE_CODES):
                    label = KB.indicators[code].label
                    assert Standing(found[label]) is board.standing(names[name], code), code
    finally:
        await server.close()
