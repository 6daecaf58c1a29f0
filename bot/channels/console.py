"""The terminal channel: the same conversations as the chat apps, in a REPL.

Choices are printed as numbered options and answered by number or words; files (exports,
charts) are written to a folder and their path printed. A photo is sent by typing ``@`` and
its path (``@anh/ra-quan.jpg``).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from bot.channels.numbered import numbered_choices
from bot.sender import Unreachable
from bot.uploads import Intake, Offered, TooBig
from handlers.core import Delivery, Processor
from handlers.serialize import replies_from_payload
from handlers.types import Incoming, Reply
from storage.db import StorageUnavailable

CHANNEL = "console"
log = logging.getLogger(__name__)
EXIT_WORDS = {"exit", "quit", "/exit", "/quit", "thoat!", "q"}


ATTACH_HINT = (
    "(Trên terminal: gõ @ và đường dẫn tệp để gửi ảnh, ví dụ @anh/ra-quan.jpg"
    " · in the terminal, type @ and the file's path)"
)


def render_reply(reply: Reply) -> str:
    lines = [reply.doc.plain()]
    if reply.wants_files:
        lines.append(ATTACH_HINT)
    lines.extend(f"  {line}" for line in numbered_choices(reply))
    return "\n".join(line for line in lines if line)


def _file_at(typed: str) -> Path | None:
    path = Path(typed).expanduser()
    return path if path.is_file() else None


def _read_bounded(path: Path, limit: int) -> bytes:
    with path.open("rb") as source:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise TooBig(f"more than {limit} bytes")
    return data


async def _read_file(path: Path, limit: int) -> bytes:
    return await asyncio.to_thread(_read_bounded, path, limit)


class ConsoleChannel:
    def __init__(
        self,
        processor: Processor,
        *,
        user: str = "local",
        files_dir: Path = Path("ntm-files"),
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.processor = processor
        self.user = user
        self.files_dir = files_dir
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.intake = Intake(processor.conversation)

    def _print(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _show(self, reply: Reply) -> None:
        self._print(render_reply(reply))
        for attachment in (reply.photo, reply.document):
            if attachment is None:
                continue
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / Path(attachment.filename).name
            path.write_bytes(attachment.data)
            caption = f" — {attachment.caption}" if attachment.caption else ""
            self._print(f"[tệp] {path}{caption}")
        self._print()

    async def send(self, delivery: Delivery) -> None:
        for reply in delivery.replies:
            self._show(reply)
        self.processor.deps.updates.mark_sent(delivery.channel, delivery.update_key)

    # -- the sender's transport: send-outs (a dossier built in the background, a digest) ----
    channel = CHANNEL

    def parts(self, reply: Reply) -> list[Any]:
        return [reply]

    async def send_part(self, chat_id: str, part: Any) -> None:
        if chat_id != self.user:
            raise Unreachable("another terminal's chat")
        self._show(part)

    async def say(self, text: str) -> None:
        """Handle one line typed by the user and print the replies; ``@path`` sends a file."""
        incoming = Incoming(CHANNEL, self.user, self.user, text=text, display_name=self.user)
        try:
            if text.startswith("@") and len(text) > 1:
                path = await asyncio.to_thread(_file_at, text[1:].strip())
                if path is None:
                    self._print(f"Không thấy tệp {text[1:].strip()}.")
                    return
                offered = Offered(partial(_read_file, path), None, path.name)
                incoming = await self.intake.take(
                    Incoming(CHANNEL, self.user, self.user, display_name=self.user), [offered]
                )
            delivery = await self.processor.process(incoming)
        except StorageUnavailable:
            log.warning("database unavailable; the console user was asked to retry")
            self._print(self.processor.unavailable_reply().doc.plain())
            return
        if delivery is not None:
            await self.send(delivery)

    async def flush_pending(self) -> None:
        """Print replies written before a crash but never shown."""
        for item in await self.processor.deps.updates.pending(CHANNEL):
            if item.chat_id != self.user:
                continue
            replies, context = replies_from_payload(item.replies)
            await self.send(Delivery(CHANNEL, item.update_key, item.chat_id, replies, context))

    async def run(self) -> int:
        interactive = self.stdin.isatty()
        await self.flush_pending()
        if interactive:
            self._print(
                "Trợ lý NTM — kênh terminal. Gõ câu hỏi, /help để xem lệnh, "
                "Ctrl-D hoặc 'exit' để thoát."
            )
        await self.say("/start")
        while True:
            if interactive:
                self.stdout.write("> ")
                self.stdout.flush()
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            if text.lower() in EXIT_WORDS:
                break
            await self.say(text)
        await self.processor.deps.flush()
        if interactive:
            self._print("Tạm biệt!")
        return 0
