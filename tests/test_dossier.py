"""The appraisal dossier: a Word document per the read models (standings, reports, task
marks, photos) and a .zip of the photos by commune and criterion, from /hoso."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import zipfile
from pathlib import Path

from docx import Document

from handlers.criteria_view import standing_word
from handlers.i18n import Tr
from handlers.readmodel.criteria import load_board
from handlers.serialize import replies_from_payload
from handlers.types import Reply
from storage.files import FileStore
from storage.media import MediaRepo
from tests.harness import Harness, harness
from tests.photos import jpeg, pdf
from tests.test_web_photos import clean_up_with_photos, status_with_photos


async def delivered(h: Harness, who: str) -> list[Reply]:
    """What the sender will send ``who`` once the background build handed it over: the
    replies of the newest send-out, with the files read back from where they are stored."""
    rows = []
    for _ in range(600):  # built in the background, then handed to the sender
        rows = await h.app.db.fetchall(
            "SELECT d.* FROM deliveries d JOIN jobs j ON j.id = d.job_id"
            " WHERE j.kind = 'dossier' AND d.chat_id = ? ORDER BY d.id",
            (who,),
        )
        if rows:
            break
        await asyncio.sleep(0.05)
    row = rows[-1]
    assert (row["channel"], row["status"]) == ("test", "pending")
    payload = json.loads(row["payload"])
    files = FileStore(h.app.db)
    for item in payload["replies"]:
        for name in ("photo", "document"):
            if item.get(name) and "blob" in item[name]:  # stored once, named by its hash
                data = await files.get(item[name]["blob"])
                assert data is not None
                item[name]["data"] = base64.b64encode(data).decode("ascii")
    replies, _context = replies_from_payload(payload)
    return replies


def cells_text(document: Document) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]


async def test_a_commune_s_dossier_says_what_the_read_models_say(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await status_with_photos(h, "o1", "17.4", jpeg(color=(9, 9, 200)), (pdf(), "bien-ban.pdf"))
        await clean_up_with_photos(h, "o1", jpeg(color=(200, 9, 9)))
        await h.say("o1", "/hoso Thọ Dân")  # an officer: their own commune's, whatever typed
        assert "Đang lập hồ sơ minh chứng (Dân Lực)" in h.last("o1")
        [own] = [r.document for r in await delivered(h, "o1") if r.document and
                 r.document.filename.endswith(".docx")]  # fmt: skip
        assert own.filename.startswith("ho-so-ntm-dan-luc-")

        answer = await h.say("admin", "/hoso dan luc")
        assert "Đang lập hồ sơ minh chứng (Dân Lực)" in answer[0].text  # the chat is not held
        replies = await delivered(h, "admin")
        [word] = [
            r.document for r in replies if r.document and r.document.filename.endswith(".docx")
        ]
        [archive] = [
            r.document for r in replies if r.document and r.document.filename.endswith(".zip")
        ]
        assert "3 tệp ảnh minh chứng" in replies[0].text
        document = Document(io.BytesIO(word.data))
        text = "\n".join(p.text for p in document.paragraphs)
        assert "Xã Dân Lực" in text
        assert "Tiêu chí 17. Môi trường và An toàn thực phẩm" in text
        assert "Chụp 12/10/2021 08:30 · gần Thọ Phú (19,8750; 105,6000)" in text
        assert len(document.inline_shapes) == 2  # the two pictures; the PDF is in the archive
        # the reports the photos came with are listed (the clean-up form is no criterion's rule)
        assert re.search(r"Báo cáo BC-\d+ — Ra quân vệ sinh môi trường trong tháng", text)

        commune = next(c for c in await h.app.deps.communes.all() if c.name == "Dân Lực")
        board = await load_board(h.app.kb, h.app.db, h.clock.today(), h.clock.tz, [commune])
        tr = Tr(h.app.deps.translator, "vi")
        rows = {row[0].split(".")[0]: row for row in cells_text(document)[1:]}
        for code in board.criteria:  # every criterion as the read model has it
            label = h.app.kb.indicators[code].label
            assert rows[label][1] == standing_word(tr, board.cell(commune.id, code).standing)
        assert rows["17"][3] == "3" and rows["8"][3] == "0"

        with zipfile.ZipFile(io.BytesIO(archive.data)) as files:
            names = files.namelist()
            photos = sorted(n for n in names if n.startswith("dan-luc/"))
            assert len(photos) == 3 and all(n.startswith("dan-luc/tieu-chi-17/") for n in photos)
            assert any(n.endswith(".pdf") for n in photos)
            assert word.filename in names
            stored = {
                await MediaRepo(h.app.db).content(m)
                for m in (await MediaRepo(h.app.db).many(range(1, 10))).values()
            }
            assert {files.read(n) for n in photos} <= stored


async def test_the_district_dossier_has_every_commune(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        replies = await h.say("admin", "/hoso tất cả")
        # the chat is not held
        assert "Đang lập hồ sơ minh chứng (34 xã, thị trấn)" in replies[0].text
        assert not any(r.document for r in replies)
        sent = await delivered(h, "admin")
        [word] = [r.document for r in sent if r.document]  # no photos: no archive
        assert word.filename.endswith(".docx")
        document = Document(io.BytesIO(word.data))
        headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
        communes = await h.app.deps.communes.all()
        kinds = {"xa": "Xã", "thi_tran": "Thị trấn"}
        assert headings == [f"{kinds[c.kind]} {c.name}" for c in communes]
        assert "Thị trấn Nưa" in headings
        await h.say("admin", "/hoso")
        assert "Tất cả các xã" in [c.label for c in h.replies["admin"][-1].flat_choices()]
        await h.say("admin", "/hoso Hà Nội")
        assert "Không tìm thấy xã “Hà Nội”" in h.last("admin")
