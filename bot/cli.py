"""The ``ntm-bot`` command line.

Heavy imports (aiogram takes seconds to import) happen inside the commands that need them, so
``ntm-bot ask`` and ``ntm-bot --help`` start quickly.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot import __version__
from bot.settings import ConfigError, Settings, load_settings

EXIT_USAGE = 2
EXIT_FAILURE = 1


class UserError(Exception):
    """A mistake the user can fix; printed as one line, without a traceback."""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"ngày không hợp lệ: {value!r} (định dạng YYYY-MM-DD)"
        ) from None


class _Parser(argparse.ArgumentParser):
    """argparse that explains errors in one line and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: lỗi: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ntm-bot",
        description="Trợ lý NTM — chatbot hỗ trợ chương trình xây dựng nông thôn mới của huyện.",
    )
    parser.add_argument("--version", action="version", version=f"ntm-bot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser(
        "run",
        help="chạy mọi kênh đã cấu hình (Telegram, Zalo); không có token thì dùng kênh terminal",
        description="Chạy bot trên mọi kênh đã cấu hình. Khi chưa có token nào, bot giải thích "
        "cần đặt biến nào và chạy kênh terminal.",
    )
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser(
        "chat",
        help="kênh terminal: trò chuyện với bot ngay trong cửa sổ dòng lệnh",
        description="Kênh terminal: cùng các cuộc hội thoại như trên Telegram và Zalo; lựa chọn "
        "hiện thành danh sách đánh số, trả lời bằng số hoặc bằng chữ.",
    )
    chat.add_argument("--user", default="local", help="mã người dùng ở kênh terminal")
    chat.add_argument(
        "--role",
        choices=["admin", "user"],
        default="admin",
        help="admin (mặc định: người ngồi ở máy chủ) hoặc user (người dùng thường)",
    )
    chat.add_argument("--lang", choices=["vi", "en"], default=None, help="ngôn ngữ trả lời")
    chat.set_defaults(func=cmd_chat)

    ask = sub.add_parser(
        "ask",
        help="hỏi một câu và in câu trả lời",
        description="Hỏi về tiêu chí, đơn vị phụ trách, thời hạn của kế hoạch NTM.",
    )
    ask.add_argument("question", nargs="?", help="câu hỏi (bỏ trống khi dùng --jsonl)")
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="in một đối tượng JSON")
    mode.add_argument(
        "--jsonl", action="store_true", help="đọc mỗi dòng stdin một câu hỏi, in mỗi dòng một JSON"
    )
    ask.add_argument("--lang", choices=["vi", "en"], default=None, help="ngôn ngữ trả lời")
    ask.add_argument("--today", type=_date, default=None, help="ngày hôm nay (YYYY-MM-DD)")
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="dữ liệu kế hoạch (knowledge base)")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", parser_class=_Parser)
    kb_sub.required = True
    kb_check = kb_sub.add_parser(
        "check", help="kiểm tra dữ liệu và in số lượng", description="Kiểm tra dữ liệu kế hoạch."
    )
    kb_check.add_argument("--dir", type=Path, default=None, help="thư mục dữ liệu khác")
    kb_check.set_defaults(func=cmd_kb_check)
    kb_tasks = kb_sub.add_parser(
        "tasks",
        help="đề xuất danh sách việc được giao (tasks.yaml) từ thời hạn và nhiệm vụ",
        description="In danh sách việc sinh từ deadlines.yaml và nhiệm vụ của các đơn vị; "
        "--write ghi vào tasks.yaml (ghi đè).",
    )
    kb_tasks.add_argument("--dir", type=Path, default=None, help="thư mục dữ liệu khác")
    kb_tasks.add_argument("--write", action="store_true", help="ghi vào tasks.yaml của thư mục")
    kb_tasks.set_defaults(func=cmd_kb_tasks)

    db = sub.add_parser("db", help="cơ sở dữ liệu: migrate, backup")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", parser_class=_Parser)
    db_sub.required = True
    db_migrate = db_sub.add_parser(
        "migrate", help="áp dụng các migration còn thiếu", description="Cập nhật lược đồ CSDL."
    )
    db_migrate.set_defaults(func=cmd_db_migrate)
    db_backup = db_sub.add_parser(
        "backup",
        help="sao lưu CSDL (an toàn khi bot đang chạy)",
        description="Sao lưu CSDL: SQLite bằng online backup API (an toàn khi bot đang ghi), "
        "kèm thư mục ảnh minh chứng <tệp>-media/ bên cạnh; PostgreSQL bằng pg_dump (định dạng "
        "custom, khôi phục bằng pg_restore; ảnh nằm trong CSDL).",
    )
    db_backup.add_argument("path", type=Path, help="tệp sao lưu")
    db_backup.set_defaults(func=cmd_db_backup)
    db_copy = db_sub.add_parser(
        "copy",
        help="chép CSDL SQLite sang PostgreSQL (chuyển huyện sang nhiều máy)",
        description="Chép mọi bảng của CSDL SQLite đang cấu hình (NTM_DB_PATH) sang một CSDL "
        "PostgreSQL trống, có đối chiếu số dòng.",
    )
    db_copy.add_argument("--to", required=True, help="postgresql://người_dùng@máy/csdl")
    db_copy.set_defaults(func=cmd_db_copy)
    db_dead = db_sub.add_parser(
        "deadletters",
        help="các cập nhật không xử lý được (đã để riêng)",
        description="Liệt kê các cập nhật từ Telegram/Zalo không xử lý được, kèm lỗi và nội dung.",
    )
    db_dead.add_argument("--limit", type=int, default=20, help="số mục mới nhất (mặc định 20)")
    db_dead.add_argument("--json", action="store_true", help="mỗi mục một dòng JSON")
    db_dead.set_defaults(func=cmd_db_deadletters)

    digest = sub.add_parser(
        "digest",
        help="bản tin tuần: xem trước hoặc gửi ngay",
        description="Bản tin tuần cho Văn phòng NTM (toàn huyện) và cán bộ xã (từng xã).",
    )
    action = digest.add_mutually_exclusive_group(required=True)
    action.add_argument("--preview", action="store_true", help="in nội dung và ghi biểu đồ PNG")
    action.add_argument("--send", action="store_true", help="gửi bản tin ngay")
    digest.add_argument("--commune", default=None, help="xem bản tin của một xã (với --preview)")
    digest.add_argument(
        "--out", type=Path, default=Path("digest.png"), help="tệp PNG biểu đồ (với --preview)"
    )
    digest.set_defaults(func=cmd_digest)

    health = sub.add_parser(
        "health",
        help="kiểm tra bot đang chạy có khỏe không (dùng cho HEALTHCHECK của Docker)",
        description="Gọi http://127.0.0.1:NTM_WEBHOOK_PORT/healthz của bot đang chạy.",
    )
    health.add_argument("--timeout", type=float, default=3.0, help="giây chờ tối đa")
    health.set_defaults(func=cmd_health)

    version = sub.add_parser("version", help="in phiên bản", description="In phiên bản.")
    version.set_defaults(func=cmd_version)
    return parser


# -- commands ---------------------------------------------------------------------------------


def cmd_version(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    print(f"ntm-bot {__version__}")
    return 0


def cmd_digest(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from bot.digest_cli import DigestError, digest_command

    if args.commune and args.send:
        raise UserError("--commune chỉ dùng với --preview")
    try:
        return asyncio.run(
            digest_command(settings(), preview=args.preview, commune=args.commune, out=args.out)
        )
    except DigestError as exc:
        raise UserError(str(exc)) from None


def cmd_health(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{settings().webhook_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            body = json.loads(response.read().decode("utf-8") or "{}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"không khỏe: {url}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"khỏe: {json.dumps(body, ensure_ascii=False)}")
    return 0


def cmd_db_migrate(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from bot.app import open_database
    from storage.migrate import current_version, migrate

    async def go() -> int:
        cfg = settings()
        db = await open_database(cfg)
        try:
            applied = await migrate(db)
            version = await current_version(db)
        finally:
            await db.close()
        for m in applied:
            print(f"đã áp dụng {m.version:04d}_{m.name}")
        print(f"lược đồ CSDL ở phiên bản {version}: {_where(cfg)}")
        return 0

    return asyncio.run(go())


def _where(cfg: Settings) -> str:
    """The database in words, without its password."""
    url = cfg.postgresql_url
    if url is None:
        return str(cfg.sqlite_path)
    parts = urlsplit(url)
    return f"PostgreSQL {parts.hostname or 'localhost'}{parts.path}"


def cmd_db_deadletters(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from bot.app import open_database
    from storage.deadletters import DeadLetters
    from storage.migrate import migrate

    async def go() -> int:
        db = await open_database(settings())
        try:
            await migrate(db)
            letters = await DeadLetters(db).recent(max(1, args.limit))
        finally:
            await db.close()
        for letter in letters:
            if args.json:
                print(json.dumps(dataclasses.asdict(letter), ensure_ascii=False, default=str))
                continue
            when = letter.created_at.isoformat(sep=" ", timespec="seconds")
            key = letter.update_key or "?"
            print(f"#{letter.id} {when} {letter.channel} {key}: {letter.error}")
            print(f"    {letter.raw[:500]}")
        if not letters and not args.json:
            print("không có cập nhật nào bị để riêng")
        return 0

    return asyncio.run(go())


def cmd_db_backup(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from storage.db import backup_database
    from storage.media import backup_media, media_folder

    cfg = settings()
    target: Path = args.path
    if cfg.postgresql_url is not None:
        return _pg_dump(cfg.postgresql_url, target)
    if target.resolve() == cfg.sqlite_path.resolve():
        raise UserError("tệp sao lưu phải khác tệp cơ sở dữ liệu đang dùng")
    if target.is_dir():
        raise UserError(f"{target} là một thư mục; hãy chỉ ra tên tệp sao lưu")
    pages = asyncio.run(backup_database(cfg.sqlite_path, target))
    print(f"đã sao lưu {cfg.sqlite_path} → {target} ({pages} trang)")
    files = backup_media(cfg.sqlite_path, target)
    if files:
        print(f"và {files} tệp ảnh minh chứng → {media_folder(target)}/")
    return 0


def _pg_dump(url: str, target: Path) -> int:
    """PostgreSQL is backed up by its own tool (a consistent snapshot while the bot writes)."""
    import shutil
    import subprocess

    tool = shutil.which("pg_dump")
    if tool is None:
        raise UserError(
            "không tìm thấy pg_dump: cài gói postgresql-client (cùng phiên bản máy chủ) rồi chạy "
            "lại, hoặc sao lưu bằng công cụ của máy chủ PostgreSQL"
        )
    if target.is_dir():
        raise UserError(f"{target} là một thư mục; hãy chỉ ra tên tệp sao lưu")
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:  # not on the command line, where `ps` would show it
        env["PGPASSWORD"] = parts.password
        host = parts.netloc.rsplit("@", 1)[1]
        url = parts._replace(netloc=f"{parts.username or ''}@{host}").geturl()
    done = subprocess.run(  # noqa: S603 - the operator's own tool and settings, no shell
        [tool, "--format=custom", f"--file={target}", f"--dbname={url}"],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise UserError(f"pg_dump không sao lưu được: {done.stderr.strip()[:300]}")
    print(f"đã sao lưu PostgreSQL → {target} ({target.stat().st_size} byte; khôi phục: pg_restore)")
    return 0


def cmd_db_copy(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from storage.copy import copy_sqlite_to_postgresql
    from storage.db import Database, StorageError
    from storage.migrate import migrate
    from storage.pg import PgDatabase

    target_url: str = args.to
    if not target_url.startswith(("postgresql://", "postgres://")):
        raise UserError("--to phải là địa chỉ postgresql://người_dùng@máy/csdl")
    cfg = settings()
    if not cfg.sqlite_path.exists():
        raise UserError(f"không có CSDL SQLite ở {cfg.sqlite_path}")

    async def go() -> int:
        async with Database(cfg.sqlite_path) as source, PgDatabase(target_url) as target:
            await migrate(source)
            await migrate(target)
            try:
                copied = await copy_sqlite_to_postgresql(source, target)
            except StorageError as exc:
                raise UserError(str(exc)) from exc
        for item in copied:
            print(f"{item.table}: {item.rows} dòng")
        total = sum(item.rows for item in copied)
        print(f"đã chép {total} dòng của {len(copied)} bảng sang PostgreSQL; số dòng khớp")
        return 0

    return asyncio.run(go())


def cmd_kb_check(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from knowledge.loader import load_knowledge

    directory = args.dir if args.dir is not None else settings().knowledge_dir
    kb = load_knowledge(directory)
    for label, count in kb.counts().items():
        print(f"{label}: {count}")
    print(f"dữ liệu hợp lệ: {kb.source_dir}")
    return 0


def cmd_kb_tasks(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from knowledge.loader import TASKS_FILE, load_knowledge
    from knowledge.tasks import dump_tasks, generate_tasks

    directory = args.dir if args.dir is not None else settings().knowledge_dir
    kb = load_knowledge(directory)
    text = dump_tasks(generate_tasks(kb))
    if not args.write:
        print(text, end="")
        return 0
    target = kb.source_dir / TASKS_FILE
    target.write_text(text, encoding="utf-8")
    load_knowledge(kb.source_dir)  # what was written must load
    print(f"đã ghi {target}")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from bot.ask import run_ask

    if args.jsonl and args.question:
        raise UserError("dùng --jsonl thì câu hỏi đọc từ stdin, không truyền trên dòng lệnh")
    if not args.jsonl and not (args.question or "").strip():
        raise UserError('hãy nhập câu hỏi, ví dụ: ntm-bot ask "ai phụ trách tiêu chí 17.4"')
    return run_ask(args, settings())


def cmd_chat(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from bot.app import run_console

    return asyncio.run(
        run_console(settings(), user=args.user, admin=args.role == "admin", lang=args.lang)
    )


def cmd_run(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    from bot.runner import run_all

    return asyncio.run(run_all(settings()))


# -- entry point --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cache: dict[str, Settings] = {}

    def settings() -> Settings:
        if "s" not in cache:
            cache["s"] = load_settings()
            from bot.logging_setup import setup_logging

            setup_logging(cache["s"].log_level, cache["s"].secret_values())
        return cache["s"]

    func: Callable[[argparse.Namespace, Callable[[], Settings]], int] = args.func
    try:
        return func(args, settings)
    except KeyboardInterrupt:
        print("\nđã dừng.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except UserError as exc:
        print(f"ntm-bot: lỗi: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        return _report_failure(exc)


def _report_failure(exc: BaseException) -> int:
    """Known failures print one line; anything else is a bug whose traceback goes to the log.

    Either way the text passes the redacting filter first: an exception raised by an HTTP
    client may carry a URL with the bot token in it, and nothing may print that.
    """
    from bot.logging_setup import redacting_filter, setup_logging
    from knowledge.errors import KnowledgeError
    from storage.db import StorageError

    redact = redacting_filter().redact
    known: tuple[type[BaseException], ...] = (KnowledgeError, StorageError, OSError)
    if isinstance(exc, known):
        print(f"ntm-bot: lỗi: {redact(str(exc))}", file=sys.stderr)
        return EXIT_FAILURE
    setup_logging("INFO")  # if the settings never loaded, the filter still knows token shapes
    logging.getLogger("bot.cli").critical("unexpected failure", exc_info=exc)
    print(
        f"ntm-bot: lỗi không mong đợi ({type(exc).__name__}: {redact(str(exc))[:300]}); "
        "chi tiết ở dòng log phía trên",
        file=sys.stderr,
    )
    return EXIT_FAILURE
