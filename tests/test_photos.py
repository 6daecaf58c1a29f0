"""Photos and files as evidence: what is accepted (by content), what is kept and served (no
metadata), where the bytes live, and the report dialog's photo question."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from storage.db import Database
from storage.media import DatabaseMedia, DiskMedia, MediaRepo, media_folder, media_store
from storage.migrate import migrate
from storage.photo_check import PDF, Limits, Reason, Refused, check
from storage.reports import ReportRepo
from storage.users import UserRepo
from tests.harness import Harness, harness
from tests.photos import exe, jpeg, pdf, png, png_bomb


# -- what is accepted ----------------------------------------------------------------------
def test_a_phone_photo_is_kept_without_its_metadata_which_is_returned_as_data() -> None:
    checked = check(jpeg(gps=(19.875, 105.6), taken="2021:10:12 08:30:00"))
    assert checked.mime == "image/jpeg"
    assert (checked.width, checked.height) == (800, 600)
    assert checked.taken_at is not None and checked.taken_at.isoformat() == "2021-10-12T08:30:00"
    assert checked.latitude == pytest.approx(19.875, abs=1e-4)
    assert checked.longitude == pytest.approx(105.6, abs=1e-4)
    kept = Image.open(io.BytesIO(checked.data))
    assert kept.format == "JPEG"
    assert dict(kept.getexif()) == {}  # no time, no place, no camera make served
    assert b"PhoneMaker" not in checked.data and b"Exif" not in checked.data
    assert checked.thumbnail is not None
    thumb = Image.open(io.BytesIO(checked.thumbnail))
    assert max(thumb.size) <= Limits().thumb_side


def test_a_photo_taken_sideways_is_kept_the_right_way_up() -> None:
    checked = check(jpeg((800, 600), orientation=6))  # "rotate 90° clockwise to view"
    assert (checked.width, checked.height) == (600, 800)


def test_southern_and_western_positions_are_negative() -> None:
    checked = check(jpeg(gps=(-33.86, -70.65)))
    assert checked.latitude == pytest.approx(-33.86, abs=1e-3)
    assert checked.longitude == pytest.approx(-70.65, abs=1e-3)


def test_a_photo_without_exif_and_a_png_and_a_pdf_are_accepted() -> None:
    plain = check(jpeg(taken=None, gps=None))
    assert plain.taken_at is None and plain.latitude is None
    assert check(png()).mime == "image/png"
    document = check(pdf())
    assert document.mime == PDF and document.thumbnail is None and document.data == pdf()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (exe(), Reason.NOT_ALLOWED),  # a renamed .exe: judged by its bytes
        (b"<html><script>alert(1)</script></html>", Reason.NOT_ALLOWED),
        (b"", Reason.EMPTY),
        (png_bomb(), Reason.TOO_MANY_PIXELS),  # Pillow's own limit, before anything decodes
        (png_bomb(9_000, 9_000), Reason.TOO_MANY_PIXELS),  # 81 MP: over ours
        (jpeg()[: len(jpeg()) // 2], Reason.UNREADABLE),  # a cut-off photo
    ],
    ids=["exe", "html", "empty", "bomb", "81-megapixels", "truncated"],
)
def test_what_is_refused_and_why(data: bytes, reason: Reason) -> None:
    with pytest.raises(Refused) as refused:
        check(data)
    assert refused.value.reason is reason


def test_a_file_over_the_size_limit_is_refused_before_it_is_opened() -> None:
    photo = jpeg()
    with pytest.raises(Refused) as refused:
        check(photo, Limits(max_bytes=len(photo) - 1))
    assert refused.value.reason is Reason.TOO_BIG


# -- where the bytes live ----------------------------------------------------------------
async def test_sqlite_keeps_files_beside_the_database_once_per_content(tmp_path: Path) -> None:
    import datetime as dt

    async with Database(tmp_path / "ntm.sqlite3") as db:
        await migrate(db)
        store = media_store(db)
        assert isinstance(store, DiskMedia) and store.root == tmp_path / "ntm-media"
        assert media_folder(tmp_path / "ntm.sqlite3") == store.root
        user_id = (await UserRepo(db).ensure("t", "u1", chat_id="u1")).id
        repo = MediaRepo(db)
        now = dt.datetime(2021, 10, 12, tzinfo=dt.UTC)
        first = await repo.add(check(jpeg()), user_id=user_id, filename="a.jpg", now=now)
        again = await repo.add(check(jpeg()), user_id=user_id, filename="a.jpg", now=now)
        assert first.id == again.id  # the same photo sent twice is one row
        files = sorted(p for p in store.root.rglob("*") if p.is_file())
        assert len(files) == 2  # the photo and its thumbnail, each once
        assert not any(p.name.startswith(".part-") for p in files)
        assert await repo.content(first) == check(jpeg()).data
        assert await repo.content(first, thumbnail=True) == check(jpeg()).thumbnail
        assert first.taken_at is not None and first.latitude == pytest.approx(19.875, abs=1e-4)
        assert await db.fetchval("SELECT count(*) FROM blobs") == 0  # not in the database


async def test_an_in_memory_database_keeps_media_in_the_blobs_table() -> None:
    async with Database(":memory:") as db:
        await migrate(db)
        store = media_store(db)
        assert isinstance(store, DatabaseMedia)
        digest = await store.put(b"abc")
        assert await store.get(digest) == b"abc"
        assert await db.fetchval("SELECT sha256 FROM blobs") == digest


def test_a_digest_cannot_name_a_path_outside_the_folder(tmp_path: Path) -> None:
    store = DiskMedia(tmp_path)
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")


# -- the report dialog ---------------------------------------------------------------------
async def _to_photo_question(h: Harness) -> None:
    await h.register("admin", "o1", "Thọ Bình")
    await h.say("o1", "/baocao")
    await h.tap("o1", "Ra quân")
    await h.say("o1", "4")
    await h.say("o1", "350")
    await h.tap("o1", "Đã tổ chức")
    assert "Ảnh các buổi ra quân" in h.last("o1")
    assert h.replies["o1"][-1].wants_files


async def test_three_photos_are_kept_with_the_report(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _to_photo_question(h)
        colours = [(10, 20, 30), (40, 50, 60), (70, 80, 90)]
        for colour in colours:
            await h.send_files("o1", jpeg(color=colour))
        assert "Đã có 3 tệp" in h.last("o1")
        await h.tap("o1", "Xong (3")
        summary = h.last("o1")
        assert "Ảnh các buổi ra quân: 3 ảnh" in summary
        await h.tap("o1", "Gửi")
        assert "Đã nhận báo cáo" in h.all_text("o1")
        report = (await ReportRepo(h.app.db).latest(form_id="ve-sinh"))[0]
        linked = await MediaRepo(h.app.db).of_reports([report.id])
        assert [item.field for item in linked] == ["photos"] * 3
        assert [item.media.id for item in linked] == report.answers["photos"]
        pixels = [
            Image.open(io.BytesIO(await MediaRepo(h.app.db).content(item.media))).getpixel(
                (700, 500)
            )
            for item in linked
        ]
        for got, colour in zip(pixels, colours, strict=True):
            assert all(abs(a - b) <= 8 for a, b in zip(got, colour, strict=True))
        assert await MediaRepo(h.app.db).communes_of(linked[0].media.id) == {report.commune_id}


async def test_refused_files_are_explained_and_the_good_ones_kept(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _to_photo_question(h)
        replies = await h.send_files(
            "o1", (exe(), "anh-ra-quan.jpg"), png_bomb(), (jpeg(), "ok.jpg")
        )
        text = "\n".join(r.text for r in replies)
        assert "Tệp “anh-ra-quan.jpg” không phải ảnh (JPEG, PNG, WebP) hay tệp PDF" in text
        assert "quá nhiều điểm ảnh" in text
        assert "Đã có 1 tệp" in text
        big = jpeg(size=(64, 64)) + bytes(21 * 1024 * 1024)
        text = "\n".join(r.text for r in await h.send_files("o1", (big, "video.jpg")))
        assert "Tệp “video.jpg” quá lớn (tối đa 20 MB)" in text
        await h.send_files("o1", (jpeg(), "ok.jpg"))  # the same photo again
        assert "đã gửi rồi" in h.all_text("o1")
        await h.say("o1", "xong")
        assert "Ảnh các buổi ra quân: 1 ảnh" in h.last("o1")


async def test_the_photo_question_may_be_skipped_and_text_is_not_a_photo(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _to_photo_question(h)
        await h.say("o1", "anh dang gui")
        assert "Câu này cần ảnh" in h.last("o1")
        await h.say("o1", "xong")
        assert "Chưa nhận được ảnh nào" in h.last("o1")
        await h.say("o1", "bỏ qua")
        assert "Ảnh các buổi ra quân: (bỏ qua)" in h.last("o1")


async def test_photos_sent_at_another_question_or_outside_a_report_are_not_kept(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Thọ Bình")
        await h.send_files("o1", jpeg())
        assert "không có câu hỏi nào cần ảnh" in h.last("o1")
        await h.say("o1", "/baocao")
        await h.tap("o1", "Ra quân")
        replies = await h.send_files("o1", jpeg())
        text = "\n".join(r.text for r in replies)
        assert "không cần ảnh" in text and "Số lần ra quân" in text
        assert await h.app.db.fetchval("SELECT count(*) FROM report_media") == 0


async def test_a_stranger_s_photo_is_not_kept(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.send_files("stranger", jpeg())
        assert await h.app.db.fetchval("SELECT count(*) FROM media") == 0


async def test_editing_going_back_and_correcting_keep_the_photos_sent(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _to_photo_question(h)
        await h.send_files("o1", jpeg(color=(1, 2, 3)), jpeg(color=(200, 100, 50)))
        await h.say("o1", "xong")
        await h.tap("o1", "Sửa")
        await h.tap_with("o1", "Ảnh các buổi")
        assert "Đã có 2:" in h.last("o1")  # editing starts from the photos sent
        await h.send_files("o1", png())
        await h.say("o1", "xong")
        assert "Ảnh các buổi ra quân: 3 ảnh" in h.last("o1")
        await h.say("o1", "/quaylai")  # from the summary back to the photos: still there
        assert "Đã có 3:" in h.last("o1")
        await h.say("o1", "/quaylai")  # further back, then forward again
        await h.tap("o1", "Đã tổ chức")
        assert "Đã có 3:" in h.last("o1")
        await h.say("o1", "xóa ảnh")  # or start them again
        assert "Đã bỏ các ảnh đã gửi" in h.last("o1")
        await h.send_files("o1", png())
        await h.say("o1", "xong")
        assert "Ảnh các buổi ra quân: 1 ảnh" in h.last("o1")
        await h.tap("o1", "Gửi")

        # a correction of the month's report keeps its photo unless the officer changes it
        await _to_photo_question_of(h, "o1")
        assert "Đã có 1:" in h.last("o1")
        await h.say("o1", "xong")
        await h.tap("o1", "Gửi")
        reports = sorted(await ReportRepo(h.app.db).all(), key=lambda r: r.id)
        assert [r.version for r in reports] == [1, 2]
        assert reports[1].answers["photos"] == reports[0].answers["photos"]
        linked = await MediaRepo(h.app.db).of_reports([reports[1].id])
        assert [item.media.id for item in linked] == reports[0].answers["photos"]


async def test_a_photo_sent_while_marking_a_task_goes_with_the_mark(tmp_path: Path) -> None:
    from handlers.i18n import Tr
    from handlers.photo_view import photo_source
    from handlers.readmodel.photos import load_photos

    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Thọ Bình")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "Hoàn thành quy hoạch")
        text = "\n".join(r.text for r in await h.send_files("o1", jpeg(), (exe(), "a.exe")))
        assert "Đã nhận 1 ảnh; ảnh được lưu cùng cập nhật này" in text
        assert "không phải ảnh" in text and "Tình trạng hiện nay?" in text
        await h.tap("o1", "Đang thực hiện")
        await h.send_files("o1", png())  # at the next question too
        assert "Đã làm được bao nhiêu phần trăm?" in h.last("o1")
        await h.say("o1", "60")
        assert "Kèm 2 ảnh." in h.last("o1")
        commune = next(c for c in await h.app.deps.communes.all() if c.name == "Thọ Bình")
        photos = await load_photos(h.app.kb, h.app.db, [commune.id])
        [criterion] = [code for code in photos.communes[commune.id]]
        assert criterion == "xa:1" and photos.count(commune.id, "xa:1") == 2
        item = photos.of(commune.id, "xa:1")[0]
        source = photo_source(Tr(h.app.deps.translator, "vi"), h.app.kb, item)
        assert source.startswith("Việc: Hoàn thành quy hoạch")
        assert await MediaRepo(h.app.db).communes_of(item.media.id) == {commune.id}


def test_a_multi_picture_jpeg_is_kept_as_its_first_picture() -> None:
    first, second = Image.new("RGB", (300, 200), (10, 20, 30)), Image.new("RGB", (300, 200))
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    checked = check(out.getvalue())
    assert checked.mime == "image/jpeg" and (checked.width, checked.height) == (300, 200)


def test_comments_and_colour_profiles_are_not_kept() -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (50, 60, 70)).save(out, "JPEG", comment=b"secret note")
    checked = check(out.getvalue())
    assert b"secret note" not in checked.data
    assert checked.thumbnail is not None and b"secret note" not in checked.thumbnail


def test_random_bytes_after_a_pdf_header_are_not_a_pdf() -> None:
    with pytest.raises(Refused) as refused:
        check(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    assert refused.value.reason is Reason.UNREADABLE


def test_damaged_pictures_are_refused_never_raised() -> None:
    """A fixed set of damaged PNGs and JPEGs (bytes flipped, cut short): each is taken or
    refused with a reason, none raises anything else."""
    import random

    randomness = random.Random(20261206)
    outcomes = set()
    for original in (png(), jpeg()):
        for _ in range(150):
            damaged = bytearray(original)
            for _ in range(randomness.randint(1, 8)):
                damaged[randomness.randrange(8, len(damaged))] = randomness.randrange(256)
            if randomness.random() < 0.3:
                damaged = damaged[: randomness.randrange(20, len(damaged))]
            try:
                check(bytes(damaged))
                outcomes.add("kept")
            except Refused as refused:
                outcomes.add(refused.reason.value)
    assert "unreadable" in outcomes


async def test_files_are_fetched_only_when_a_question_wants_them(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Thọ Bình")
        await h.say("guest", "xin chào")  # known to the bot, registered as nobody
        await h.send_files("guest", jpeg())
        assert "không có câu hỏi nào cần ảnh" in h.last("guest")
        await h.send_files("o1", jpeg())  # no dialog open
        await _to_photo_question_of(h, "o1")
        assert await h.send_files("o1", jpeg(), group="g1") == []  # a group: silence
        assert await h.app.db.fetchval("SELECT count(*) FROM media") == 0  # nothing kept


async def test_photos_no_report_took_are_limited(tmp_path: Path) -> None:
    from bot.uploads import MAX_WAITING

    async with harness(tmp_path) as h:
        await _to_photo_question(h)
        for n in range(MAX_WAITING):
            await h.send_files("o1", jpeg(size=(64, 48), color=(n, n, n)))
            await h.say("o1", "xóa ảnh")  # sent and cleared: none is taken by a report
        text = "\n".join(r.text for r in await h.send_files("o1", jpeg(color=(250, 1, 1))))
        assert "nhiều ảnh chưa kèm báo cáo" in text
        assert await h.app.db.fetchval("SELECT count(*) FROM media") == MAX_WAITING


async def _to_photo_question_of(h: Harness, who: str) -> None:
    await h.say(who, "/baocao")
    await h.tap(who, "Ra quân")
    for answer in ["4", "300"]:
        await h.say(who, answer)
    await h.tap(who, "Đã tổ chức")


async def test_a_task_no_criterion_rests_on_keeps_its_photos_under_other_work(
    tmp_path: Path,
) -> None:
    from handlers.readmodel.photos import OTHER, load_photos

    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Thọ Bình")
        await h.say("o1", "/viec")
        await h.tap_with("o1", "thôn kiểu")
        await h.send_files("o1", jpeg())
        await h.tap("o1", "Vướng mắc")
        await h.say("o1", "thiếu kinh phí làm cổng thôn")
        assert "Kèm 1 ảnh." in h.last("o1")
        commune = next(c for c in await h.app.deps.communes.all() if c.name == "Thọ Bình")
        photos = await load_photos(h.app.kb, h.app.db, [commune.id])
        assert photos.count(commune.id, OTHER) == 1  # kept and shown, not lost
        await h.say("admin", "/xa Thọ Bình")
        assert "kèm việc khác: 1 ảnh" in h.last("admin")


async def test_a_stray_photo_leaves_the_numbered_list_as_it_was(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Thọ Bình")
        await h.say("o1", "/viec")
        listed = h.last("o1")
        await h.send_files("o1", jpeg())
        assert "không có câu hỏi nào cần ảnh" in h.last("o1")
        number = next(line for line in listed.splitlines() if "thôn kiểu" in line).split(".")[0]
        await h.say("o1", number.strip(" •"))  # the number read is still the number typed
        assert "Tình trạng hiện nay?" in h.last("o1") and "thôn kiểu mẫu" in h.last("o1")


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("https://93.184.216.34/photo.jpg", (), True),  # a public address
        ("http://127.0.0.1:8080/admin", (), False),  # this machine
        ("http://localhost/x", (), False),  # this machine, by name
        ("http://10.0.0.5/x", (), False),  # the office's network
        ("http://169.254.169.254/latest/meta-data", (), False),  # a cloud's metadata service
        ("http://[::1]/x", (), False),
        ("file:///etc/passwd", (), False),
        ("ftp://93.184.216.34/x", (), False),
        ("http://127.0.0.1:9000/user-files/a.jpg", ("127.0.0.1",), True),  # listed: allowed
    ],
)
async def test_zalo_file_addresses_never_reach_this_machine_or_its_network(
    url: str, allowed: tuple[str, ...], ok: bool
) -> None:
    from bot.uploads import NotAllowed, check_address

    if ok:
        await check_address(url, allowed)
    else:
        with pytest.raises(NotAllowed):
            await check_address(url, allowed)


def test_where_a_photo_was_taken_is_named_from_the_communes_outlines() -> None:
    import statistics

    from handlers.i18n import Catalogs, Tr
    from handlers.photo_view import photo_caption
    from knowledge.loader import load_knowledge
    from storage.media import Media

    kb = load_knowledge()
    ring = kb.locator.areas["tho-binh"]
    lat, lon = statistics.mean(y for _x, y in ring), statistics.mean(x for x, _y in ring)
    place = kb.locator.place(lat, lon)
    assert place is not None and (place.code, place.inside) == ("tho-binh", True)
    assert kb.locator.place(21.0285, 105.8542) is None  # Hà Nội: far from the district
    # a kilometre outside the district's westernmost point: "near" the commune there
    x, y, code = min((x, y, c) for c, r in kb.locator.areas.items() for x, y in r)
    near = kb.locator.place(y, x - 0.01)
    assert near is not None and (near.code, near.inside) == (code, False)
    assert kb.locator.place(y, x - 0.1) is None  # ten kilometres out: nothing is named

    def caption(lat: float, lon: float) -> str:
        media = Media(1, "a" * 64, None, "image/jpeg", 1, 1, 1, None, lat, lon, "", 1, "")
        return photo_caption(Tr(Catalogs(), "vi"), kb, media)

    assert caption(lat, lon).startswith("tại Thọ Bình (")
    assert caption(21.0285, 105.8542) == "vị trí 21,0285; 105,8542"
