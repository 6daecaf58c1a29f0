"""Photo evidence where the office works: the commune page's gallery per criterion, the photos
served only to those who may see the commune, and the chat's /xa counting the same photos."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.harness import Harness
from tests.photos import jpeg, pdf
from tests.test_web import browser_for, district, signed_in, web_view


async def status_with_photos(h: Harness, who: str, code: str, *photos: bytes) -> None:
    await h.say(who, "/baocao")
    await h.tap(who, "Tình trạng một tiêu chí")
    await h.say(who, code)
    await h.tap(who, "Đạt")
    await h.say(who, "bỏ qua")  # no note
    assert "Hình ảnh minh chứng" in h.last(who)
    await h.send_files(who, *photos)
    await h.say(who, "xong")
    await h.tap(who, "Gửi báo cáo")
    assert "Đã nhận báo cáo" in h.all_text(who)


async def clean_up_with_photos(h: Harness, who: str, *photos: bytes) -> None:
    await h.say(who, "/baocao")
    await h.tap(who, "Ra quân")
    for answer in ["4", "300", "có"]:
        await h.say(who, answer)
    await h.send_files(who, *photos)
    await h.say(who, "xong")
    await h.tap(who, "Gửi báo cáo")


def counts_on_page(html: str) -> dict[str, int]:
    """Criterion label → the photo count its row shows."""
    rows = re.findall(
        r'data-criterion="([^"]+)" data-standing="[^"]+">.*?data-photos="(\d+)"', html
    )
    return {label: int(count) for label, count in rows}


async def test_the_commune_page_shows_each_criterion_s_photos_to_those_who_may_see_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        await status_with_photos(h, "officer_a", "17.4", jpeg(color=(1, 1, 200)), (pdf(), "bb.pdf"))
        await clean_up_with_photos(h, "officer_a", jpeg(color=(200, 1, 1)))
        await status_with_photos(h, "officer_a", "8.1", jpeg(color=(1, 200, 1)))

        office = await signed_in(h, server, "admin")
        mine = await signed_in(h, server, "officer_a")
        other = await signed_in(h, server, "officer_b")
        try:
            html = await (await office.get(f"/web/xa/{ids['a']}")).text()
            counts = counts_on_page(html)
            assert counts["17"] == 3 and counts["8"] == 1
            assert counts["17.4"] == 0  # counted once, on the criterion
            assert "Hình ảnh minh chứng" in html
            photo_ids = re.findall(r'data-photo="(\d+)"', html)
            assert len(photo_ids) == 4
            assert "Chụp 12/10/2021 08:30 · gần Thọ Phú (19,8750; 105,6000)" in html
            assert "tệp PDF" in html
            assert "https://www.openstreetmap.org/?mlat=19.87500&amp;mlon=105.60000" in html

            # the /xa message counts the same photos
            await h.say("admin", "/xa Dân Lực")
            assert "Ảnh minh chứng: tiêu chí 8: 1 ảnh; tiêu chí 17: 3 ảnh" in h.last("admin")

            first = photo_ids[0]
            thumb = await office.get(f"/web/anh/{first}/nho")
            assert thumb.status == 200 and thumb.content_type == "image/jpeg"
            assert max(Image.open(io.BytesIO(await thumb.read())).size) <= 320
            full = await office.get(f"/web/anh/{first}")
            image = Image.open(io.BytesIO(await full.read()))
            assert image.size == (800, 600) and dict(image.getexif()) == {}
            assert full.headers["X-Content-Type-Options"] == "nosniff"
            document = next(
                p for p in photo_ids if f'data-photo="{p}"><a href="/web/anh/{p}"><span' in html
            )
            served = await office.get(f"/web/anh/{document}")
            assert served.content_type == "application/pdf" and await served.read() == pdf()

            assert (await mine.get(f"/web/anh/{first}")).status == 200  # their commune
            denied = await other.get(f"/web/anh/{first}", allow_redirects=False)
            assert denied.status in (303, 403)
            assert not (await denied.read()).startswith(b"\xff\xd8")
            async with browser_for(server) as nobody:
                assert (await nobody.get(f"/web/anh/{first}")).status == 401
            assert (await office.get("/web/anh/99999999999999999999")).status == 404
            assert (await office.get(f"/web/anh/{first}/lon")).status == 404
        finally:
            for client in (office, mine, other):
                await client.close()


async def test_a_correction_without_photos_takes_them_off_the_criterion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        await status_with_photos(h, "officer_a", "8.1", jpeg())
        await h.say("officer_a", "/baocao")
        await h.tap("officer_a", "Tình trạng một tiêu chí")
        await h.say("officer_a", "8.1")
        await h.tap("officer_a", "Đang thực hiện")
        for answer in ["bỏ qua", "30/11/2021", "bỏ qua"]:
            await h.say("officer_a", answer)
        await h.tap("officer_a", "Gửi báo cáo")
        office = await signed_in(h, server, "admin")
        try:
            html = await (await office.get(f"/web/xa/{ids['a']}")).text()
            assert counts_on_page(html)["8"] == 0
            assert "data-photo=" not in html
        finally:
            await office.close()
        await h.say("admin", "/xa Dân Lực")
        assert "Chưa có ảnh minh chứng nào" in h.last("admin")


async def test_the_office_builds_a_dossier_on_the_web_and_watches_it_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import zipfile

    from docx import Document

    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        await clean_up_with_photos(h, "officer_a", jpeg(), jpeg(color=(3, 4, 5)))
        office = await signed_in(h, server, "admin")
        officer = await signed_in(h, server, "officer_a")
        try:
            choose = await (await office.get("/web/hoso")).text()
            assert f'href="/web/hoso/lap?xa={ids["a"]}"' in choose
            assert 'href="/web/hoso/lap?xa=0"' in choose
            started = await office.get("/web/hoso/lap?xa=0", allow_redirects=False)
            assert started.status == 303
            page_url = started.headers["Location"]
            first = await (await office.get(page_url)).text()
            assert 'http-equiv="refresh"' in first or "Đã lập xong" in first
            for _ in range(200):  # what the refreshing page does until it is done
                page = await (await office.get(page_url)).text()
                if "Đã lập xong" in page:
                    break
                assert re.search(r'data-progress="\d+/34"', page), page
                await asyncio.sleep(0.05)
            assert (
                "Đã lập xong hồ sơ 34 xã, thị trấn (2 tệp ảnh minh chứng)." in page
                and 'http-equiv="refresh"' not in page
            )
            word = await office.get(f"{page_url}/tai.docx")
            assert word.status == 200
            document = Document(io.BytesIO(await word.read()))
            assert len(document.inline_shapes) == 2
            archive = await office.get(f"{page_url}/tai.zip")
            with zipfile.ZipFile(io.BytesIO(await archive.read())) as files:
                assert len([n for n in files.namelist() if n.startswith("dan-luc/")]) == 2

            # the office's dossier is not the officer's to see, nor to build
            assert (await officer.get(page_url, allow_redirects=False)).status in (303, 403)
            denied = await officer.get("/web/hoso/lap?xa=0", allow_redirects=False)
            assert denied.status in (303, 403)
            assert (await office.get("/web/hoso/unknown-token")).status == 404
        finally:
            await office.close()
            await officer.close()


async def test_the_export_links_each_report_s_photos_to_the_web_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import load_workbook

    async with web_view(tmp_path, monkeypatch) as (h, server):
        await district(h)
        await clean_up_with_photos(h, "officer_a", jpeg(), jpeg(color=(9, 8, 7)))
        replies = await h.say("admin", "/xuat")
        xlsx = next(r.document.data for r in replies if r.document is not None)
        sheet = load_workbook(io.BytesIO(xlsx))["Vệ sinh môi trường"]
        cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
        [links] = [c for c in cells if "/web/anh/" in c]
        addresses = links.split("\n")
        assert len(addresses) == 2 and all(
            a.startswith("http://ntm.example.vn/web/anh/") for a in addresses
        )
        office = await signed_in(h, server, "admin")
        try:  # each link opens the photo for the office
            for address in addresses:
                response = await office.get(address.removeprefix("http://ntm.example.vn"))
                assert response.status == 200 and response.content_type == "image/jpeg"
        finally:
            await office.close()


async def test_photo_counts_agree_across_the_web_page_xa_and_the_dossier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read model counts each criterion's photos; the web page, /xa and the dossier's
    table show what it says."""
    from docx import Document

    from handlers.dossier import build_dossier
    from handlers.reader import OfficeReader
    from handlers.readmodel.photos import load_photos

    async with web_view(tmp_path, monkeypatch) as (h, server):
        ids = await district(h)
        await status_with_photos(h, "officer_a", "17.4", jpeg(color=(1, 2, 250)))
        await clean_up_with_photos(h, "officer_a", jpeg(color=(250, 2, 1)), jpeg())
        await status_with_photos(h, "officer_a", "8.1", jpeg(color=(2, 250, 1)))
        await h.say("officer_a", "/viec")
        await h.tap_with("officer_a", "Hoàn thành quy hoạch")
        await h.send_files("officer_a", jpeg(color=(9, 9, 9)))
        await h.tap("officer_a", "Đã hoàn thành")
        commune = next(c for c in await h.app.deps.communes.all() if c.id == ids["a"])
        board = await load_photos(h.app.kb, h.app.db, [commune.id])
        expected = {
            h.app.kb.indicators[code].label: n
            for code in board.communes[commune.id]
            if code and (n := board.count(commune.id, code))
        }
        assert expected == {"1": 1, "8": 1, "17": 3}

        office = await signed_in(h, server, "admin")
        try:
            page = counts_on_page(await (await office.get(f"/web/xa/{ids['a']}")).text())
        finally:
            await office.close()
        assert {label: n for label, n in page.items() if n} == expected
        await h.say("admin", "/xa Dân Lực")
        said = dict(re.findall(r"tiêu chí (\d+): (\d+) ảnh", h.last("admin")))
        assert {label: int(n) for label, n in said.items()} == expected
        built = await build_dossier(OfficeReader.at_now(h.app.deps, "vi"), [commune])
        try:
            table = Document(io.BytesIO(built.docx)).tables[0]
            rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
            in_word = {row[0].split(".")[0]: int(row[3]) for row in rows if row[3] != "0"}
        finally:
            built.discard()
        assert in_word == expected
