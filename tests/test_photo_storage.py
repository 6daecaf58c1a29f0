"""Where photos live over time: retention prunes what no report refers to and nothing else,
`db backup` takes the files with the database, `db copy` moves them into PostgreSQL, and
instances sharing PostgreSQL serve the same photo."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from handlers.readmodel.photos import load_photos
from storage.media import DiskMedia, MediaRepo, media_folder, media_store
from storage.retention import prune
from tests.cli_util import run_cli
from tests.conftest import fresh_pg_database
from tests.harness import Harness, harness
from tests.photos import jpeg
from tests.test_web_photos import clean_up_with_photos


async def _abandoned_photo(h: Harness) -> int:
    """A photo sent at the photo question of a report never sent; its media id."""
    await h.say("o2", "/baocao")
    await h.tap("o2", "Ra quân")
    for answer in ["4", "300", "có"]:
        await h.say("o2", answer)
    await h.send_files("o2", jpeg(color=(5, 250, 5)))
    await h.say("o2", "/huy")
    return int(await h.app.db.fetchval("SELECT max(id) FROM media"))


async def test_retention_forgets_abandoned_photos_and_keeps_reported_ones(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        await h.register("admin", "o1", "Dân Lực")
        await h.register("admin", "o2", "Thọ Dân")
        await clean_up_with_photos(h, "o1", jpeg(color=(250, 5, 5)))
        abandoned = await _abandoned_photo(h)
        store = media_store(h.app.db)
        assert isinstance(store, DiskMedia)
        repo = MediaRepo(h.app.db)
        kept = next(m for i, m in (await repo.many(range(1, 10))).items() if i != abandoned)
        gone = await repo.get(abandoned)
        assert gone is not None and store.path(gone.sha256).exists()
        stray = store.root / "ab" / ("ab" + "0" * 62)  # a file no row names (a crash's)
        stray.parent.mkdir(exist_ok=True)
        stray.write_bytes(b"left over")
        now = h.clock.now()
        keep = {"keep_updates": dt.timedelta(days=7), "keep_dead_letters": dt.timedelta(days=30)}

        young = await prune(h.app.db, now + dt.timedelta(days=1), **keep)
        assert young.media == 0 and stray.exists()  # too young to be called abandoned

        old = time.time() - 2 * 3600
        for path in store.root.glob("??/*"):
            os.utime(path, (old, old))
        later = await prune(h.app.db, now + dt.timedelta(days=4), **keep)
        assert later.media == 1 and later.media_files == 3  # its photo, its thumbnail, the stray
        assert await repo.get(abandoned) is None
        assert not store.path(gone.sha256).exists() and not stray.exists()
        assert await repo.content(kept) is not None  # a reported photo is never pruned
        assert await repo.content(kept, thumbnail=True) is not None


def test_a_backup_takes_the_photos_with_it(tmp_path: Path) -> None:
    import asyncio

    async def district() -> None:
        async with harness(tmp_path, db_name="district.sqlite3") as h:
            await h.register("admin", "o1", "Dân Lực")
            await clean_up_with_photos(h, "o1", jpeg(), jpeg(color=(1, 2, 3)))

    asyncio.run(district())
    source = tmp_path / "district.sqlite3"
    backup = tmp_path / "saved" / "backup.sqlite3"
    done = run_cli("db", "backup", str(backup), env={"NTM_DB_PATH": str(source)})
    assert done.returncode == 0, done.stderr
    assert "4 tệp ảnh minh chứng" in done.stdout  # two photos and their thumbnails
    copied = sorted(p.name for p in media_folder(backup).glob("??/*"))
    original = sorted(p.name for p in media_folder(source).glob("??/*"))
    assert copied == original and len(copied) == 4


@pytest.mark.slow
async def test_instances_on_postgresql_serve_the_same_photo_and_a_copy_moves_them(
    pg_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.app import open_app
    from bot.settings import load_settings

    async with harness(tmp_path, db_name="district.sqlite3") as h:  # photos on SQLite first
        await h.register("admin", "o1", "Dân Lực")
        await clean_up_with_photos(h, "o1", jpeg(color=(200, 100, 0)))
    async with fresh_pg_database(pg_cluster) as url:
        assert run_cli("db", "migrate", env={"NTM_DATABASE_URL": url}).returncode == 0
        env = {"NTM_DB_PATH": str(tmp_path / "district.sqlite3")}
        copied = run_cli("db", "copy", "--to", url, env=env)
        assert copied.returncode == 0, copied.stderr
        assert "media files: 2 dòng" in copied.stdout

        async with harness(tmp_path, database_url=url) as one:
            monkeypatch.setenv("NTM_DATABASE_URL", url)
            async with open_app(load_settings()) as two:
                copied_photo = await MediaRepo(two.db).get(1)  # moved from the SQLite files
                assert copied_photo is not None
                assert await MediaRepo(two.db).content(copied_photo) is not None
                # a photo sent through one instance (a correction of the month's report) …
                await clean_up_with_photos(one, "o1", jpeg(color=(0, 100, 200)))
                board_one = await load_photos(one.app.kb, one.app.db)
                board_two = await load_photos(two.kb, two.db)  # … counted by the other
                commune = next(c for c in await two.deps.communes.all() if c.name == "Dân Lực")
                # the correction kept the earlier (copied) photo and added its own
                assert board_one.count(commune.id, "xa:17") == 2
                assert board_two.of(commune.id, "xa:17") == board_one.of(commune.id, "xa:17")
                for item in board_two.of(commune.id, "xa:17"):  # … and served by it
                    here = await MediaRepo(two.db).content(item.media)
                    there = await MediaRepo(one.app.db).content(item.media)
                    assert here is not None and here == there
                keep = {
                    "keep_updates": dt.timedelta(days=7),
                    "keep_dead_letters": dt.timedelta(days=30),
                }
                await one.register("admin", "o2", "Thọ Dân")
                abandoned = await _abandoned_photo(one)
                later = two.clock.now() + dt.timedelta(days=30)
                pruned = await prune(two.db, later, **keep, fresh=dt.timedelta(0))
                # only the photo of the report never sent goes, with its thumbnail; the others
                # belong to reports (the replaced one keeps its own, as history)
                assert pruned.media == 1 and pruned.blobs == 2
                assert await MediaRepo(two.db).get(abandoned) is None
                for media_id in (1, 2):
                    media = await MediaRepo(two.db).get(media_id)
                    assert media is not None and await MediaRepo(two.db).content(media)
