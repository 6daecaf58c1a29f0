"""The office's web view through aiohttp's test client: signing in from the chat, every page
against every role, used / expired / forged links, revocation, sign-out, security headers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import ClientResponse, ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

from bot.webview import setup_web_view
from bot.webview.auth import CSP
from bot.webview.tables import Cell, Row, page_of, sort_rows
from storage.communes import Commune
from storage.deadletters import DeadLetters
from tests.harness import Harness, add_report, harness

PUBLIC = "http://ntm.example.vn"


@asynccontextmanager
async def web_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, public: str = PUBLIC
) -> AsyncIterator[tuple[Harness, TestServer]]:
    monkeypatch.setenv("NTM_PUBLIC_URL", public)
    async with harness(tmp_path) as h:
        app = web.Application()
        setup_web_view(app, h.app.deps, h.app.conversation, h.app.settings)
        server = TestServer(app)
        await server.start_server()
        try:
            yield h, server
        finally:
            await server.close()


async def link_for(h: Harness, who: str) -> str:
    await h.say(who, "/web")
    found = re.search(r"/web/login\?t=(\S+)", h.last(who))
    assert found, h.last(who)
    return f"/web/login?t={found[1]}"


def browser_for(server: TestServer) -> ClientSession:
    """A browser of its own (cookies included) on the running server; closing it leaves the
    server running for the next one."""
    return ClientSession(base_url=str(server.make_url("/")), cookie_jar=CookieJar(unsafe=True))


async def open_link(client: ClientSession, link: str) -> ClientResponse:
    """What a person does with the link from the chat: open it (a page that spends nothing),
    then press its button (a POST that signs in)."""
    page = await client.get(link, allow_redirects=False)
    assert page.status == 200, page.status
    token = re.search(r'name="t" value="([^"]*)"', await page.text())
    assert token is not None
    return await client.post("/web/login", data={"t": token[1]}, allow_redirects=False)


async def signed_in(h: Harness, server: TestServer, who: str) -> ClientSession:
    client = browser_for(server)
    response = await open_link(client, await link_for(h, who))
    assert response.status == 303 and response.headers["Location"] == "/web/"
    return client


async def district(h: Harness) -> dict[str, int]:
    await h.register("admin", "officer_a", "Dân Lực")
    await h.register("admin", "officer_b", "Thọ Dân")
    await h.register("admin", "unit_tp", "Phòng Tư pháp")
    await h.say("admin", "/moi văn phòng")
    await h.tap("admin", "Tạo mã")  # the office code is confirmed too
    code = h.last("admin").split(": ", 1)[1].split()[0]
    await h.say("staff", f"/start {code}")
    await h.give_name("staff", "Cán bộ Văn phòng")
    await add_report(h, "Dân Lực", "bhyt", "2021-10-14", rate=91.11)
    await add_report(h, "Thọ Dân", "bhyt", "2021-10-14", rate=72.22)
    communes = {c.name: c.id for c in await h.app.deps.communes.all()}
    return {"a": communes["Dân Lực"], "b": communes["Thọ Dân"]}


async def test_a_link_signs_in_once_and_the_page_is_the_district(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        await district(h)
        link = await link_for(h, "admin")
        assert "Dùng được một lần trong 10 phút" in h.last("admin")
        async with browser_for(server) as browser:
            first = await open_link(browser, link)
            assert first.status == 303 and first.headers["Location"] == "/web/"  # token gone
            cookie = first.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/web" in cookie
            assert "Max-Age=43200" in cookie  # 12 hours by default
            page = await browser.get("/web/")
            html = await page.text()
            assert page.status == 200
            assert html.count('href="/web/xa/') >= 34 * 2  # the table and the matrix
            assert "91,1%" in html and "72,2%" in html
            assert "Đã báo cáo trong tuần 11/10/2021 – 17/10/2021: 2/34 xã, thị trấn." in html
            silent = html[html.index("Chưa báo cáo: ") :].split("</p>")[0]
            assert "An Nông" in silent and "Dân Lực" not in silent
            assert "không xử lý được" not in html
            await DeadLetters(h.app.db).add("telegram", "u1", "boom", "{}")
            again = await (await browser.get("/web/")).text()
            assert "⚠️ 1 tin nhắn trong 7 ngày qua không xử lý được" in again  # as /tonghop
            for header, value in {
                "Content-Security-Policy": CSP,
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            }.items():
                assert page.headers[header] == value
            assert "<script" not in html
            again = await open_link(browser, link)
            assert again.status == 400 and "đã được dùng" in await again.text()
            assert again.headers["Content-Security-Policy"] == CSP
        async with browser_for(server) as stranger:  # a used link signs nobody else in
            assert (await stranger.get("/web/")).status == 401
            assert (await open_link(stranger, link)).status == 400


async def test_an_expired_or_forged_link_says_so_and_guessing_is_limited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        link = await link_for(h, "admin")
        h.clock.advance(dt.timedelta(minutes=11))
        async with browser_for(server) as browser:
            late = await open_link(browser, link)
            assert late.status == 400 and "đã hết hạn" in await late.text()
            for n in range(9):
                forged = await open_link(browser, f"/web/login?t=forged{n}")
                assert forged.status == 400 and "không đúng" in await forged.text()
            fresh = await link_for(h, "admin")  # even a good link waits now
            locked = await open_link(browser, fresh)
            assert locked.status == 429 and "15 phút" in await locked.text()
            h.clock.advance(dt.timedelta(minutes=16))  # the cool-down is over (and that link too)
            again = await link_for(h, "admin")
            assert (await open_link(browser, again)).status == 303


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/web/", {"staff", "admin"}),
        ("/web/xa/{a}", {"officer_a", "staff", "admin"}),
        ("/web/xa/{b}", {"officer_b", "staff", "admin"}),
        ("/web/viec", {"officer_a", "officer_b", "unit_tp", "staff", "admin"}),
        ("/web/gui", {"staff", "admin"}),
        ("/web/tai/xlsx", {"staff", "admin"}),
        ("/web/tai/csv", {"staff", "admin"}),
        ("/web/chart.png", {"staff", "admin"}),
        ("/web/hoso", {"staff", "admin"}),
    ],
)
async def test_every_page_against_every_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, allowed: set[str]
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        url = path.format(**ids)
        for who in ("officer_a", "officer_b", "unit_tp", "staff", "admin"):
            client = await signed_in(h, server, who)
            try:
                response = await client.get(url, allow_redirects=False)
                body = await response.read()
                if who in allowed:
                    assert response.status == 200, (url, who, response.status)
                else:
                    assert response.status in (303, 403), (url, who, response.status)
                    assert b"91,1" not in body and b"72,2" not in body  # nothing leaks
                text = body.decode("utf-8", "replace")
                if who == "officer_a":
                    assert "72,2" not in text  # the other commune's coverage
                if who == "officer_b":
                    assert "91,1" not in text
            finally:
                await client.close()
        async with browser_for(server) as nobody:
            assert (await nobody.get(url, allow_redirects=False)).status == 401


async def test_officers_and_units_are_sent_to_their_own_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        officer = await signed_in(h, server, "officer_a")
        unit = await signed_in(h, server, "unit_tp")
        try:
            home = await officer.get("/web/", allow_redirects=False)
            assert home.status == 303 and home.headers["Location"] == f"/web/xa/{ids['a']}"
            mine = await (await officer.get(f"/web/xa/{ids['a']}")).text()
            assert "Xã Dân Lực" in mine and "Tình trạng tiêu chí" in mine
            assert (await unit.get("/web/", allow_redirects=False)).headers[
                "Location"
            ] == "/web/viec"
            tasks = await (await unit.get("/web/viec")).text()
            assert "Phòng Tư pháp" in tasks and "Hoàn thiện hồ sơ tiêu chí cấp xã 18.5" in tasks
            assert "Phòng Y tế" not in tasks and "Tiêu chí đơn vị phụ trách" in tasks
        finally:
            await officer.close()
            await unit.close()


async def test_revoking_a_person_ends_their_sessions_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        client = await signed_in(h, server, "officer_a")
        try:
            assert (await client.get(f"/web/xa/{ids['a']}")).status == 200
            await h.say("admin", "/thuhoi officer_a")
            await h.tap("admin", "Người officer_a")
            await h.tap("admin", "Thu hồi")
            assert (await client.get(f"/web/xa/{ids['a']}")).status == 401
            ended = await h.app.db.fetchval(
                "SELECT count(*) FROM web_sessions WHERE ended_at IS NOT NULL"
            )
            assert ended == 1
            await h.say("officer_a", "/web")  # and no new link for them
            assert "/web/login" not in h.last("officer_a")
        finally:
            await client.close()


async def test_sign_out_needs_the_pages_token_and_ends_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        client = await signed_in(h, server, "admin")
        other = await signed_in(h, server, "admin")
        try:
            page = await (await client.get("/web/")).text()
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf
            forged = await client.post("/web/dang-xuat", data={"csrf": "x"})
            assert forged.status == 403
            assert (await client.get("/web/")).status == 200
            out = await client.post("/web/dang-xuat", data={"csrf": csrf[1]})
            assert out.status == 200 and "Đã đăng xuất" in await out.text()
            assert (await client.get("/web/")).status == 401
            assert (await other.get("/web/")).status == 200  # only that browser
            await h.say("admin", "/web")
            assert "đang đăng nhập trang web ở 1 nơi" in h.last("admin")
            assert "lần cuối" in h.last("admin")  # which browser, when last seen
            await h.tap("admin", "Đăng xuất mọi nơi")
            assert "Đã đăng xuất trang web ở mọi nơi (1 phiên)" in h.last("admin")
            assert (await other.get("/web/")).status == 401
        finally:
            await client.close()
            await other.close()


async def test_the_session_cookie_is_secure_behind_https(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch, public="https://ntm.example.vn") as (h, server):
        link = await link_for(h, "admin")
        assert "https://ntm.example.vn/web/login?t=" in h.last("admin")
        async with browser_for(server) as browser:
            response = await open_link(browser, link)
            assert "Secure" in response.headers["Set-Cookie"]


async def test_sorting_paging_and_english(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        await district(h)
        client = await signed_in(h, server, "admin")
        try:
            page = await (await client.get("/web/?sort=bhyt.rate&dir=desc")).text()
            table = page[page.index('id="overview"') : page.index('id="matrix"')]
            order = re.findall(r'<td><a href="/web/xa/\d+">([^<]+)</a></td>', table)
            assert order[:2] == ["Dân Lực", "Thọ Dân"]  # highest coverage first, then no data
            page = await (await client.get("/web/?sort=bhyt.rate&dir=asc")).text()
            table = page[page.index('id="overview"') : page.index('id="matrix"')]
            order = re.findall(r'<td><a href="/web/xa/\d+">([^<]+)</a></td>', table)
            assert order[:2] == ["Thọ Dân", "Dân Lực"]
            odd = await client.get("/web/?sort=<script>&page=-5")  # odd input: the default
            assert odd.status == 200 and "<script>" not in await odd.text()
            await client.get("/web/lang/en")
            english = await (await client.get("/web/")).text()
            assert "Overview of the communes" in english and '<html lang="en">' in english
        finally:
            await client.close()


def test_rows_sort_with_the_missing_last_and_pages_hold_a_hundred() -> None:
    rows = [
        Row(Commune(i, f"x{i}", f"Xã {i:05d}", "xa", True), {"v": Cell(str(i), i % 7 or None)})
        for i in range(1, 10_001)
    ]
    ordered = sort_rows(rows, "v", descending=True)
    values = [r.cells["v"].sort for r in ordered]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=True)
    assert all(v is None for v in values[len(present) :])
    page = page_of(ordered, 3)
    assert len(page.rows) == 100 and page.pages == 100 and page.number == 3
    assert page_of(ordered, 999).number == 100


def test_reports_added_to_the_current_ones_give_what_reading_them_all_gives() -> None:
    """The overview keeps each commune's current reports and adds new ones as they come: the
    result must be what reading every report gives (newest period, then newest version)."""
    import random

    from bot.webview.tables import current_by_commune, with_reports
    from storage.reports import Report

    rng = random.Random(20261201)
    when = dt.datetime(2021, 10, 1, tzinfo=dt.UTC)
    reports = []
    versions: dict[tuple[int, str, str, str], int] = {}
    for n in range(1, 2_001):
        series = (rng.randint(1, 8), rng.choice(["bhyt", "tieu-chi"]), "", rng.choice(["a", "b"]))
        commune, form, _, period = series
        subject = rng.choice(["xa:5", "xa:17"]) if form == "tieu-chi" else ""
        key = (commune, form, subject, period)
        versions[key] = versions.get(key, 0) + 1
        reports.append(
            Report(n, commune, form, subject, period, versions[key], None, {}, {}, None, 1,
                   "test", when + dt.timedelta(minutes=n), when.date())
        )  # fmt: skip

    def ids(current: dict[tuple[int, str], list[Report]]) -> dict[tuple[int, str], set[int]]:
        return {key: {r.id for r in held} for key, held in current.items()}

    whole = current_by_commune(reports)
    newest: dict[tuple[int, str, str], Report] = {}  # by definition: per series, the newest
    for report in reports:
        series = (report.commune_id, report.form_id, report.subject)
        if series not in newest or (report.period, report.version) > (
            newest[series].period,
            newest[series].version,
        ):
            newest[series] = report
    expected: dict[tuple[int, str], set[int]] = {}
    for report in newest.values():
        expected.setdefault((report.commune_id, report.form_id), set()).add(report.id)
    assert ids(whole) == expected
    for cut in (0, 1, 500, 1_999, 2_000):
        before = current_by_commune(reports[:cut])
        kept = ids(before)
        assert ids(with_reports(before, reports[cut:])) == ids(whole)
        assert ids(before) == kept  # what a page may still be reading is left as it was
    step = current_by_commune([])
    for report in reports:  # one at a time, as they arrive
        step = with_reports(step, [report])
    assert ids(step) == ids(whole)


async def test_the_overview_after_new_reports_is_the_one_built_from_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """New reports update the rows of their communes only (reading every report again takes
    seconds for a province): the page is the one a fresh server builds from everything."""
    from storage.reports import ReportRepo

    async with web_view(tmp_path, monkeypatch) as (h, server):
        await district(h)
        await add_report(h, "Dân Lực", "tieu-chi", "2021-10-10", status="dang", subject="xa:17")
        await add_report(h, "Xuân Thọ", "tieu-chi", "2021-10-10", status="chua", subject="xa:5")
        warm = await signed_in(h, server, "admin")
        fresh_app = web.Application()
        setup_web_view(fresh_app, h.app.deps, h.app.conversation, h.app.settings)
        fresh_server = TestServer(fresh_app)
        await fresh_server.start_server()
        fresh = await signed_in(h, fresh_server, "admin")
        try:
            for query in ("/web/", "/web/?sort=bhyt.rate", "/web/?sort=criteria.met"):
                assert (await warm.get(query)).status == 200  # read once: every commune
            await add_report(h, "Dân Lực", "bhyt", "2021-10-15", rate=95.5)  # a new version
            await add_report(h, "Dân Lực", "bhyt", "2021-09-30", rate=10.0)  # an older period
            await add_report(h, "Dân Lực", "tieu-chi", "2021-10-15", status="dat", subject="xa:17")
            await add_report(h, "Xuân Thọ", "tieu-chi", "2021-10-15", status="dat", subject="xa:5")
            await add_report(h, "Xuân Thọ", "bhyt", "2021-10-15", rate=88.0)  # its first

            async def everything_read_again(*args: object, **kwargs: object) -> None:
                raise AssertionError("the whole district was read again")

            with monkeypatch.context() as patched:
                patched.setattr(ReportRepo, "latest", everything_read_again)
                for query in ("/web/?sort=bhyt.rate&dir=desc", "/web/?sort=criteria.met"):
                    response = await warm.get(query)
                    assert response.status == 200
            for query in ("/web/?sort=bhyt.rate&dir=desc", "/web/?sort=criteria.met&dir=desc"):
                pages = [await (await c.get(query)).text() for c in (warm, fresh)]
                updated, built = (p[p.index('id="overview"') : p.index("</main>")] for p in pages)
                assert updated == built
            assert "95,5" in updated or "95.5" in updated
        finally:
            await warm.close()
            await fresh.close()
            await fresh_server.close()


async def test_odd_addresses_are_not_found_not_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        await district(h)
        client = await signed_in(h, server, "admin")
        try:
            for path in (
                "/web/xa/99999999999999999999",
                "/web/xa/-99999999999999999999",
                "/web/xa/0",
                "/web/xa/abc",
                "/web/xa/1e309",
            ):
                response = await client.get(path, allow_redirects=False)
                assert response.status == 404, (path, response.status)
            page = await client.get("/web/?page=99999999999999999999999&sort=xa")
            assert page.status == 200  # the last page, not an error
        finally:
            await client.close()


async def test_opening_the_link_spends_nothing_only_the_button_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram and Zalo fetch a link to draw its preview: that fetch must not use it up."""
    async with web_view(tmp_path, monkeypatch) as (h, server):
        link = await link_for(h, "admin")
        replies = h.replies["admin"]
        assert replies[-1].preview is False  # sent with previews off where the channel can
        async with browser_for(server) as previewer:
            for _ in range(3):  # a preview bot, a link checker, the person's first look
                page = await previewer.get(link, allow_redirects=False)
                assert page.status == 200 and "Set-Cookie" not in page.headers
                assert 'method="post" action="/web/login"' in await page.text()
        async with browser_for(server) as person:
            assert (await open_link(person, link)).status == 303  # still good
            assert (await person.get("/web/")).status == 200
        async with browser_for(server) as stranger:
            bare = await stranger.get("/web/login", allow_redirects=False)
            assert bare.status == 400
            assert (await stranger.post("/web/login", data={}, allow_redirects=False)).status == 400


async def test_a_link_tried_again_and_again_is_locked_and_an_unknown_proxy_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Failures count per link as well as per client; requests through a proxy the bot was
    not told of (every visitor would share its address) are named in the log, once."""
    import logging

    import bot.webview.auth

    monkeypatch.setattr(bot.webview.auth, "_proxy_warned", False)
    caplog.set_level(logging.WARNING, logger="bot.webview.auth")
    async with web_view(tmp_path, monkeypatch) as (h, server):
        link = await link_for(h, "admin")
        async with browser_for(server) as first:
            assert (await open_link(first, link)).status == 303
        token = link.split("t=", 1)[1]
        outcomes = []
        for n in range(4):  # the used link, again and again (from "several" places)
            async with browser_for(server) as other:
                answer = await other.post(
                    "/web/login",
                    data={"t": token},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"},
                    allow_redirects=False,
                )
                outcomes.append(answer.status)
        assert outcomes == [400, 400, 400, 429]  # the link is locked after three failures
        fresh = await link_for(h, "admin")
        async with browser_for(server) as person:  # other links are not
            assert (await open_link(person, fresh)).status == 303
    warnings = [r.getMessage() for r in caplog.records if "NTM_WEB_BEHIND_PROXY" in r.getMessage()]
    assert len(warnings) == 1 and "127.0.0.1" in warnings[0]
