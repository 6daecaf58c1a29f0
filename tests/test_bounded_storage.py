"""Storage that stays bounded and never drops a write; forms whose buttons would not fit."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.scheduler import Scheduler
from bot.settings import load_settings
from storage.db import SoonFlush, StorageError, backup_database
from storage.deadletters import DeadLetters
from storage.files import FileStore
from storage.sending import Recipient, SendingRepo
from storage.timeutil import utc_iso
from tests.cli_util import REPO, run_cli
from tests.harness import harness

NOW = dt.datetime(2021, 10, 15, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


async def test_the_scheduler_prunes_what_is_old_enough(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        db = h.app.db
        h.clock.set(NOW)
        old, recent = utc_iso(NOW - dt.timedelta(days=31)), utc_iso(NOW - dt.timedelta(days=1))
        rows = [
            ("test", "old-sent", old, "sent"),
            ("test", "old-pending", old, "pending"),  # replies not sent yet: kept
            ("test", "recent", recent, "sent"),
        ]
        await db.executemany(
            "INSERT INTO processed_updates (channel, update_key, chat_id, replies, created_at,"
            " status) VALUES (?, ?, 'c', '{}', ?, ?)",
            rows,
        )
        files = FileStore(db)
        expired = await files.share(b"old chart", "a.png", "image/png", now=NOW, ttl=-HOUR)
        live = await files.share(b"new chart", "b.png", "image/png", now=NOW, ttl=HOUR)
        digest = await files.put(b"a digest picture, still to be sent")
        await files.put(b"nobody refers to this")
        payload = {"replies": [{"photo": {"blob": digest}}]}
        await SendingRepo(db).create_job(
            "digest", "digest:x", "t", [Recipient("test", "c1", None, payload)], NOW
        )
        letters = DeadLetters(db)
        await letters.add("test", "k1", "boom", "{}")
        await db.execute(
            "UPDATE dead_letters SET created_at = ?", (utc_iso(NOW - dt.timedelta(days=91)),)
        )
        await letters.add("test", "k2", "boom", "{}")
        # the files above were written two hours ago (by the machine's clock); one just now
        # is left alone: its row may be a moment behind it
        two_hours_ago = utc_iso(dt.datetime.now(dt.UTC) - 2 * HOUR)
        await db.execute("UPDATE blobs SET created_at = ?", (two_hours_ago,))
        young = await files.put(b"written a moment ago")

        scheduler = Scheduler(h.app.deps, load_settings(), h.clock, lambda: None)
        pruned = await scheduler.prune()

        keys = {
            r["update_key"] for r in await db.fetchall("SELECT update_key FROM processed_updates")
        }
        assert {"old-pending", "recent"} <= keys and "old-sent" not in keys
        assert pruned.updates == 1
        assert await files.shared(expired, NOW) is None and await files.shared(live, NOW)
        assert pruned.shared_files == 1 and pruned.blobs == 2  # the expired file's, the orphan
        assert await files.get(digest) is not None  # a pending delivery still needs it
        assert await files.get(young) is not None
        assert [letter.update_key for letter in await letters.recent()] == ["k2"]
        again = await scheduler.prune()
        assert again.total == 0


async def test_the_scheduler_loop_prunes_at_start(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.app.db.execute(
            "INSERT INTO processed_updates (channel, update_key, chat_id, replies, created_at,"
            " status) VALUES ('test', 'ancient', 'c', '{}', '2000-01-01T00:00:00+00:00', 'sent')"
        )
        stop = asyncio.Event()
        scheduler = Scheduler(h.app.deps, load_settings(), h.clock, lambda: None)
        task = asyncio.create_task(scheduler.run(stop, every=0.01))
        for _ in range(200):
            if not await h.app.db.fetchval(
                "SELECT count(*) FROM processed_updates WHERE update_key = 'ancient'"
            ):
                break
            await asyncio.sleep(0.01)
        stop.set()
        await task
        left = await h.app.db.fetchval(
            "SELECT count(*) FROM processed_updates WHERE update_key = 'ancient'"
        )
        assert left == 0


async def test_a_failing_batched_write_is_retried_until_it_goes_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    written: list[str] = []
    failures = iter([StorageError("database is locked"), StorageError("disk I/O error")])

    async def flush() -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        written.append("rows")

    soon = SoonFlush(flush, 0.01)
    with caplog.at_level(logging.INFO, logger="storage.db"):
        soon.request()
        assert soon._task is not None
        await asyncio.wait_for(soon._task, 5)
    assert written == ["rows"]
    assert soon._task.exception() is None  # nothing left for "never retrieved"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("batched write failed" in m for m in messages) == 2
    assert any("went through after 2 failure(s)" in m for m in messages)


def open_fds_to(path: Path) -> list[str]:
    fds = Path(f"/proc/{os.getpid()}/fd")
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


async def test_a_backup_that_fails_its_check_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "ntm.sqlite3"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, str(i)) for i in range(200)])
    conn.execute("CREATE INDEX t_a ON t (a)")
    conn.commit()
    # An index that no longer matches its table: every page reads fine (the backup copies
    # them), and the integrity check of the copy fails.
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX t_a ON t (b)' WHERE name = 't_a'")
    conn.commit()
    conn.close()
    target = tmp_path / "backup" / "b.sqlite3"
    with pytest.raises(StorageError, match="không toàn vẹn"):
        await backup_database(source, target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # no .partial left
    assert open_fds_to(target.parent) == []  # and no file left open


def test_kb_check_refuses_a_form_whose_buttons_would_not_fit(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REPO / "knowledge" / "data", data)
    form = data / "forms" / "2-tieu-chi.yaml"
    text = form.read_text(encoding="utf-8")
    long_value = "dang_thuc_hien_theo_ke_hoach_cua_uy_ban_nhan_dan_xa_nam_2021"
    form.write_text(text.replace("value: dang,", f"value: {long_value},"), encoding="utf-8")
    result = run_cli("kb", "check", "--dir", str(data), cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "2-tieu-chi.yaml" in result.stderr
    assert f"fields.status.options.{long_value}" in result.stderr
    assert "40 byte" in result.stderr and "Traceback" not in result.stderr
