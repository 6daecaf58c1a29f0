"""The terminal channel runs the same conversation core."""

from __future__ import annotations

from pathlib import Path

from tests.cli_util import run_cli


def test_chat_session_by_numbers_and_words(tmp_path: Path) -> None:
    script = (
        "\n".join(
            [
                "tiêu chí 6",  # ambiguous: both levels, with the two choices numbered
                "2",  # the district level by number
                "/tieuchi",
                "cấp xã",  # a choice by its words
                "17",  # criterion 17 from the list
                "/hanchot",
                "/lang en",
                "who handles clean water",
                "exit",
            ]
        )
        + "\n"
    )
    env = {"NTM_DB_PATH": str(tmp_path / "db.sqlite3"), "NTM_TODAY": "2021-10-15"}
    result = run_cli("chat", env=env, input=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Xin chào" in out
    assert "1. Cấp xã" in out and "2. Cấp huyện" in out
    assert "Tiêu chí 6 (cấp huyện): Sản xuất" in out
    assert "Tiêu chí 17 (cấp xã): Môi trường và An toàn thực phẩm" in out
    assert "Việc đến hạn trong 30 ngày tới" in out
    assert "Switched to English." in out
    assert "Lead unit: Phòng Nông nghiệp và Phát triển nông thôn" in out
    assert "Traceback" not in result.stderr


def test_run_without_token_explains_and_falls_back(tmp_path: Path) -> None:
    env = {"NTM_DB_PATH": str(tmp_path / "db.sqlite3")}
    result = run_cli("run", env=env, input="hạn BHYT\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "30/09/2021" in result.stdout
    assert (tmp_path / "db.sqlite3").exists()
    # the conversation is not interleaved with log lines (the database being created) …
    assert "INFO" not in result.stderr and "migration" not in result.stderr
    # … unless the operator asks for them
    env |= {"NTM_LOG_LEVEL": "INFO", "NTM_DB_PATH": str(tmp_path / "other.sqlite3")}
    verbose = run_cli("run", env=env, input="hạn BHYT\n", cwd=tmp_path)
    assert "applied migration 0001_initial" in verbose.stderr


def test_console_render_numbers_choices() -> None:
    from bot.channels.console import render_reply
    from handlers.richtext import Doc
    from handlers.types import Choice, Reply

    reply = Reply(Doc.of("Chọn:"), [[Choice("A", "a"), Choice("B", "b")], [Choice("C", "c")]])
    assert render_reply(reply) == "Chọn:\n  1. A\n  2. B\n  3. C"


def test_numbered_choices_are_not_numbered_twice_or_cut() -> None:
    from bot.channels.numbered import numbered_choices
    from handlers.richtext import Doc
    from handlers.serialize import replies_from_payload, replies_to_payload
    from handlers.types import Choice, Reply

    long = "18. Hệ thống chính trị và tiếp cận pháp luật"
    reply = Reply(
        Doc.of("Chọn:"),
        [
            [Choice("1. Quy hoạch", "crit:xa:1"), Choice(long[:38], "crit:xa:18", full=long)],
            [Choice("Cả tiêu chí 17", "crit:xa:17")],
        ],
    )
    assert numbered_choices(reply) == [
        "1. Quy hoạch",  # not "1. 1. Quy hoạch"
        "18. Hệ thống chính trị và tiếp cận pháp luật",  # its own number, the whole title
        "2. Cả tiêu chí 17",  # the first number no label has
    ]
    # what the outbox stores keeps the whole label for the channels that send it later
    [back], _context = replies_from_payload(replies_to_payload([reply]))
    assert numbered_choices(back) == numbered_choices(reply)
    assert back.choices[0][1].label == long[:38]


def test_a_number_typed_is_the_number_read() -> None:
    """A list whose done items have no button ("14. …", "16. …"): the number shown is the one
    that picks, on every channel without buttons."""
    from bot.channels.numbered import numbered_choices
    from handlers.core import match_choice
    from handlers.richtext import Doc
    from handlers.types import Choice, Reply

    labels = ["13. Lập hồ sơ", "14. Mời Sở", "16. Trình tỉnh", "Xem thêm"]
    reply = Reply(Doc.of("Việc:"), [[Choice(label, f"pick:{i}")] for i, label in enumerate(labels)])
    assert numbered_choices(reply) == [
        "13. Lập hồ sơ",
        "14. Mời Sở",
        "16. Trình tỉnh",
        "1. Xem thêm",
    ]
    menu = [(c.label, c.action) for c in reply.flat_choices()]
    assert match_choice("16", menu) == "pick:2"
    assert match_choice("15", menu) is None  # done: no such choice, not the 15th by position
    assert match_choice("1", menu) == "pick:3"
    # the same number twice (two lists at once): positions, as written
    twice = [("1. A", "a"), ("1. B", "b")]
    assert match_choice("2", twice) == "b"


async def test_the_terminal_serves_the_office_web_view_on_this_machine(tmp_path: Path) -> None:
    """A new user's first day: `ntm-bot chat` with no token and no NTM_PUBLIC_URL, /web gives a
    link on 127.0.0.1 that signs in to the district page."""
    import asyncio
    import os
    import re
    import socket
    import sys

    from aiohttp import ClientSession, CookieJar

    from tests.cli_util import REPO

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "TELEGRAM_", "ZALO_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "NTM_DB_PATH": str(tmp_path / "db.sqlite3"),
        "NTM_TODAY": "2021-10-15",
        "NTM_WEBHOOK_PORT": str(port),
    }
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "chat",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert bot.stdin is not None and bot.stdout is not None
    try:
        bot.stdin.write(b"/web\n")
        await bot.stdin.drain()
        seen = ""
        while "/web/login?t=" not in seen:
            line = await asyncio.wait_for(bot.stdout.readline(), timeout=30)
            assert line, seen
            seen += line.decode()
        link = re.search(r"(http://127\.0\.0\.1:\d+)(/web/login\?t=\S+)", seen)
        assert link is not None and link[1] == f"http://127.0.0.1:{port}", seen
        async with ClientSession(base_url=link[1], cookie_jar=CookieJar(unsafe=True)) as web:
            page = await web.get(link[2], allow_redirects=False)
            assert page.status == 200  # opening the link spends nothing
            token = re.search(r'name="t" value="([^"]*)"', await page.text())
            assert token is not None
            signed = await web.post("/web/login", data={"t": token[1]}, allow_redirects=False)
            assert signed.status == 303
            district = await web.get("/web/")
            assert district.status == 200 and "Dân Lực" in await district.text()
    finally:
        bot.stdin.write(b"exit\n")
        await bot.stdin.drain()
        await asyncio.wait_for(bot.wait(), timeout=30)
    assert bot.returncode == 0


def test_web_says_why_it_is_off(tmp_path: Path) -> None:
    env = {"NTM_DB_PATH": str(tmp_path / "db.sqlite3"), "NTM_WEB_ENABLED": "false"}
    result = run_cli("chat", env=env, input="/web\nexit\n", cwd=tmp_path)
    assert "NTM_WEB_ENABLED=false" in result.stdout and "NTM_PUBLIC_URL" not in result.stdout


def test_the_terminal_reports_with_a_photo_and_receives_the_dossier(tmp_path: Path) -> None:
    """The terminal channel end to end: a report whose photo is sent as ``@path``, then the
    dossier, built in the background and delivered through the sender to the terminal."""
    from docx import Document

    from tests.photos import jpeg

    (tmp_path / "ra-quan.jpg").write_bytes(jpeg())
    script = "\n".join(
        ["/baocao", "1", "5", "4", "300", "1", f"@{tmp_path / 'ra-quan.jpg'}", "xong", "1",
         "/hoso an nong", "exit"]
    ) + "\n"  # fmt: skip
    env = {"NTM_DB_PATH": str(tmp_path / "db.sqlite3"), "NTM_TODAY": "2021-10-15"}
    result = run_cli("chat", env=env, input=script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "gõ @ và đường dẫn tệp để gửi ảnh" in out  # how to attach, where it is asked
    assert "Đã có 1 tệp" in out and "Ảnh các buổi ra quân: 1 ảnh" in out
    assert "Đang lập hồ sơ minh chứng (An Nông)" in out
    [word] = list((tmp_path / "ntm-files").glob("*.docx"))
    [archive] = list((tmp_path / "ntm-files").glob("*.zip"))
    assert word.name == "ho-so-ntm-an-nong-20211015.docx" and archive.stat().st_size > 0
    assert len(Document(str(word)).inline_shapes) == 1
    assert "Traceback" not in result.stderr
