"""Photo evidence: taking in one 5 MB phone photo, and the appraisal dossier of 34 communes.

1. A 12-megapixel JPEG of about 5 MB with EXIF (time, GPS): checking it (type by content,
   pixel limit, EXIF read, re-encoded without metadata, thumbnail) and keeping it (the files
   beside a SQLite database, and its row). The baseline, in the same run: Pillow decoding the
   same photo and nothing else (``check_vs_decode``: what the checks add to the decode any
   photo handling needs).
2. The dossier of 34 communes with 10 photos each (1.3 MP, about 0.5 MB: what phones send
   through Telegram and Zalo, which compress): the Word document and the .zip, median of 3.

Last line: ``{"photo_5mb_mb", "photo_check_ms", "photo_store_ms", "photo_decode_ms",
"check_vs_decode", "dossier_34x10_ms", "dossier_docx_mb", "dossier_zip_mb"}``
(targets: checking and keeping a 5 MB photo ≤ 1.5 s; the 34-commune dossier ≤ 20 s).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PIL import Image  # noqa: E402

from bot.app import open_app  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.dossier import build_dossier  # noqa: E402
from handlers.reader import OfficeReader  # noqa: E402
from storage.media import MediaRepo  # noqa: E402
from storage.photo_check import check  # noqa: E402
from storage.reports import ReportRepo  # noqa: E402

TODAY = dt.date(2021, 10, 18)


def photo(size: tuple[int, int], target_mb: float | None = None, seed: int = 0) -> bytes:
    """A photo-like JPEG: a gradient under fine noise (noise does not compress, like detail),
    with the EXIF a phone writes; at ``target_mb`` (±10 %) if given."""
    width, height = size
    noise = Image.frombytes("RGB", size, os.urandom(width * height * 3))
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.blend(gradient, noise, 0.35 + (seed % 7) / 100)
    exif = Image.Exif()
    exif[0x0132] = "2021:10:12 08:30:00"
    exif[0x8825] = {1: "N", 2: (19.0, 52.0, 30.0), 3: "E", 4: (105.0, 36.0, 0.0)}
    quality = 85
    while True:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
        data = out.getvalue()
        if target_mb is None or quality <= 30:
            return data
        size_mb = len(data) / 1e6
        if abs(size_mb - target_mb) <= target_mb * 0.1:
            return data
        quality += -5 if size_mb > target_mb else 5
        if quality > 95:
            return data


def median_ms(runs: list[float]) -> float:
    return round(statistics.median(runs) * 1000, 1)


async def main() -> None:
    big = photo((4000, 3000), 5.0)
    decode, checking = [], []
    for _ in range(5):
        start = time.perf_counter()
        Image.open(io.BytesIO(big)).load()
        decode.append(time.perf_counter() - start)
        start = time.perf_counter()
        checked = check(big)
        checking.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            {
                "NTM_DB_PATH": str(Path(tmp) / "bench.sqlite3"),
                "NTM_TODAY": TODAY.isoformat(),
                "NTM_LOG_LEVEL": "WARNING",
            }
        )
        os.environ.pop("NTM_DATABASE_URL", None)
        async with open_app(load_settings()) as app:
            officer = await app.deps.users.ensure("bench", "officer", chat_id="officer")
            media = MediaRepo(app.db)
            storing = []
            for run in range(5):  # five different photos: each written anew
                distinct = dataclasses.replace(checked, data=checked.data + bytes([run]))
                start = time.perf_counter()
                await media.add(distinct, user_id=officer.id, filename="big.jpg",
                                now=app.clock.now())  # fmt: skip
                storing.append(time.perf_counter() - start)

            communes = await app.deps.communes.all()
            repo = ReportRepo(app.db)
            for commune in communes:
                user = await app.deps.users.ensure("bench", f"o{commune.id}", chat_id="x")
                ids = []
                for n in range(10):  # every photo its own (random detail: its own thumbnail)
                    picture = check(photo((1280, 960), seed=n))
                    kept = await media.add(picture, user_id=user.id, filename="",
                                           now=app.clock.now())  # fmt: skip
                    ids.append(kept.id)
                async with app.db.transaction():
                    report = await repo.add(
                        commune_id=commune.id,
                        form_id="ve-sinh",
                        subject="",
                        period="2021-10",
                        answers={"sessions": 4, "participants": 300, "contest": "co",
                                 "photos": ids},
                        computed={},
                        meets_target=True,
                        submitted_by=user.id,
                        channel="bench",
                        now=app.clock.now(),
                        report_date=TODAY,
                    )  # fmt: skip
                    await media.link(report.id, "photos", ids)
            reader = OfficeReader.at_now(app.deps, "vi")
            builds, built = [], None
            for _ in range(3):
                start = time.perf_counter()
                built = await build_dossier(reader, communes)
                builds.append(time.perf_counter() - start)
                built.discard()
            assert built is not None and built.photos == 10 * len(communes), built.photos

    figures = {
        "photo_5mb_mb": round(len(big) / 1e6, 2),
        "photo_check_ms": median_ms(checking),
        "photo_store_ms": median_ms(storing),
        "photo_decode_ms": median_ms(decode),
        "check_vs_decode": round(statistics.median(checking) / statistics.median(decode), 2),
        "dossier_34x10_ms": median_ms(builds),
        "dossier_docx_mb": round(len(built.docx) / 1e6, 2),
        "dossier_zip_mb": round(built.zip_size / 1e6, 2),
    }
    print(
        f"a {figures['photo_5mb_mb']} MB photo: checked in {figures['photo_check_ms']} ms "
        f"(decoding alone {figures['photo_decode_ms']} ms), kept in {figures['photo_store_ms']} "
        f"ms more; the dossier of {len(communes)} communes × 10 photos in "
        f"{figures['dossier_34x10_ms']} ms ({figures['dossier_docx_mb']} MB .docx, "
        f"{figures['dossier_zip_mb']} MB .zip)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
