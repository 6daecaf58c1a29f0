"""The ``ntm-bot`` command line: help everywhere, clear one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from tests.cli_util import REPO, run_cli

COMMANDS = [
    [],
    ["run"],
    ["chat"],
    ["ask"],
    ["kb"],
    ["kb", "check"],
    ["db"],
    ["db", "migrate"],
    ["db", "backup"],
    ["digest"],
    ["health"],
    ["version"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ntm-bot")
def test_help_on_every_command(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: ntm-bot" in result.stdout
    assert result.stderr == ""


def test_version(tmp_path: Path) -> None:
    result = run_cli("version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"ntm-bot {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "lỗi" in result.stderr


def test_ask_without_question(tmp_path: Path) -> None:
    result = run_cli("ask", cwd=tmp_path)
    assert result.returncode == 2
    assert "hãy nhập câu hỏi" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_fails_at_start_naming_it(tmp_path: Path) -> None:
    result = run_cli("db", "migrate", env={"NTM_WEBHOOK_PORT": "abc"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NTM_WEBHOOK_PORT" in lines[0]


def test_bad_date_option(tmp_path: Path) -> None:
    result = run_cli("ask", "--today", "hôm qua", "hạn BHYT", cwd=tmp_path)
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr


def test_db_migrate_and_backup(tmp_path: Path) -> None:
    env = {"NTM_DB_PATH": str(tmp_path / "db" / "ntm.sqlite3")}
    first = run_cli("db", "migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "đã áp dụng 0001_initial" in first.stdout
    again = run_cli("db", "migrate", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "đã áp dụng" not in again.stdout
    backup = run_cli("db", "backup", str(tmp_path / "b.sqlite3"), env=env, cwd=tmp_path)
    assert backup.returncode == 0, backup.stderr
    assert (tmp_path / "b.sqlite3").stat().st_size > 0
    into_dir = run_cli("db", "backup", str(tmp_path), env=env, cwd=tmp_path)
    assert into_dir.returncode == 2 and "thư mục" in into_dir.stderr
    same = run_cli("db", "backup", env["NTM_DB_PATH"], env=env, cwd=tmp_path)
    assert same.returncode == 2


def test_backup_of_missing_database(tmp_path: Path) -> None:
    env = {"NTM_DB_PATH": str(tmp_path / "missing.sqlite3")}
    result = run_cli("db", "backup", str(tmp_path / "b.sqlite3"), env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "không tìm thấy" in result.stderr and "Traceback" not in result.stderr


def test_kb_check_prints_counts(tmp_path: Path) -> None:
    result = run_cli("kb", "check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tiêu chí xã: 19" in result.stdout
    assert "tiêu chí huyện: 9" in result.stdout
    assert "dữ liệu hợp lệ" in result.stdout


def test_kb_check_reports_a_missing_directory(tmp_path: Path) -> None:
    result = run_cli("kb", "check", "--dir", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 1
    assert "không tồn tại" in result.stderr and "Traceback" not in result.stderr


def test_ask_prints_the_answer(tmp_path: Path) -> None:
    result = run_cli("ask", "--today", "2021-10-15", "ai phụ trách tiêu chí 17.4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Phòng Kinh tế và Hạ tầng" in result.stdout
    assert "30/10/2021" in result.stdout and "còn 15 ngày" in result.stdout


def test_ask_json_fields(tmp_path: Path) -> None:
    result = run_cli(
        "ask", "--json", "--today", "2021-10-15", "hạn của tiêu chí 15.2", cwd=tmp_path
    )
    answer = json.loads(result.stdout)
    assert set(answer) >= {"question", "intent", "text", "departments", "criteria", "deadlines"}
    assert answer["question"] == "hạn của tiêu chí 15.2"
    assert answer["intent"] == "deadline"
    assert "xa:15.2" in answer["criteria"]
    assert {"2021-10-30", "2021-11-15"} <= set(answer["deadlines"])
    assert answer["departments"] == ["Phòng Y tế"]


def test_ask_lang_en(tmp_path: Path) -> None:
    result = run_cli("ask", "--lang", "en", "--today", "2021-10-15", "tiêu chí 17.4", cwd=tmp_path)
    assert "Lead unit" in result.stdout
    assert "Phòng Kinh tế và Hạ tầng (Department of Economy and Infrastructure)" in result.stdout


def test_ask_jsonl_answers_in_order_and_flushes_each_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NTM_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(REPO)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--jsonl", "--today", "2021-10-15"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdin is not None and process.stdout is not None
    questions = ["ai phụ trách tiêu chí 17.4", "", "giá lúa hôm nay", "hạn BHYT"]
    try:
        for question in questions:
            # Each answer arrives before the next question is written: the output is flushed.
            process.stdin.write(question + "\n")
            process.stdin.flush()
            answer = json.loads(process.stdout.readline())
            assert answer["question"] == question
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    assert process.returncode == 0
