"""Drive the conversation core directly, as several users of one channel (no network)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import App, open_app
from bot.clock import Clock
from bot.settings import load_settings
from bot.uploads import Fetch, Intake, Offered, TooBig
from handlers.types import Choice, Incoming, Reply
from storage.reports import ReportRepo

CHANNEL = "test"


def _returns(data: bytes) -> Fetch:
    async def fetch(limit: int) -> bytes:
        if len(data) > limit:
            raise TooBig(f"{len(data)} bytes")
        return data

    return fetch


@dataclass
class Harness:
    app: App
    clock: Clock
    channel: str = CHANNEL
    replies: dict[str, list[Reply]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def say(
        self,
        user: str,
        text: str | None,
        *,
        kind: str = "text",
        key: str | None = None,
        group: str | None = None,
    ) -> list[Reply]:
        """``user`` sends ``text`` in their private chat, or in the group chat ``group``."""
        incoming = Incoming(
            self.channel,
            user,
            group or user,
            text=text,
            kind=kind,
            update_key=key or self._key(),
            display_name=f"Người {user}",
            is_group=group is not None,
        )
        return await self._run(user, incoming)

    async def send_files(
        self, user: str, *files: bytes | tuple[bytes, str], group: str | None = None
    ) -> list[Reply]:
        """``user`` sends photos or files (bytes, or bytes and a file name) in one message (in
        the group chat ``group``), taken in as a channel does (:class:`bot.uploads.Intake`)."""
        offered = []
        for item in files:
            data, name = item if isinstance(item, tuple) else (item, "")
            offered.append(Offered(_returns(data), len(data), name))
        incoming = Incoming(
            self.channel, user, group or user, kind="photo", update_key=self._key(),
            display_name=f"Người {user}", is_group=group is not None,
        )  # fmt: skip
        incoming = await Intake(self.app.conversation).take(incoming, offered)
        return await self._run(user, incoming)

    async def tap(self, user: str, label: str) -> list[Reply]:
        """Press the choice whose label starts with ``label`` in the user's last reply."""
        choice = self.choice(user, label)
        incoming = Incoming(
            self.channel,
            user,
            user,
            action=choice.action,
            kind="action",
            update_key=self._key(),
            display_name=f"Người {user}",
        )
        return await self._run(user, incoming)

    async def act(self, user: str, action: str, *, group: str | None = None) -> list[Reply]:
        incoming = Incoming(
            self.channel,
            user,
            group or user,
            action=action,
            kind="action",
            update_key=self._key(),
            display_name=f"Người {user}",
            is_group=group is not None,
        )
        return await self._run(user, incoming)

    def _key(self) -> str:
        # Unique across harnesses on one database (a restart must not reuse update ids).
        return f"{id(self)}-{next(self._ids)}"

    async def _run(self, user: str, incoming: Incoming) -> list[Reply]:
        delivery = await self.app.processor.process(incoming)
        replies = delivery.replies if delivery else []
        self.replies.setdefault(user, []).extend(replies)
        return replies

    async def tap_with(self, user: str, fragment: str) -> list[Reply]:
        """Press the choice whose label contains ``fragment`` (wherever a list numbers it)."""
        return await self.act(user, self.choice(user, fragment, anywhere=True).action)

    def choice(self, user: str, label: str, *, anywhere: bool = False) -> Choice:
        for reply in reversed(self.replies.get(user, [])):
            for choice in reply.flat_choices():
                if (label in choice.label) if anywhere else choice.label.startswith(label):
                    return choice
            if reply.choices:
                break
        labels = [c.label for r in self.replies.get(user, [])[-3:] for c in r.flat_choices()]
        raise AssertionError(f"no choice {label!r} for {user}; last choices: {labels}")

    async def ask(self, user: str, text: str) -> str:
        """``user`` asks ``text`` and reads the whole answer, pressing "Xem thêm" while the
        answer has pages left; the pages' text, joined."""
        pages = [r.text for r in await self.say(user, text)]
        for _ in range(20):
            more = [
                c for c in self.replies[user][-1].flat_choices() if c.action.startswith("more:")
            ]
            if not more:
                break
            pages += [r.text for r in await self.act(user, more[0].action)]
        return "\n".join(pages)

    def last(self, user: str) -> str:
        return self.replies[user][-1].text

    def all_text(self, user: str) -> str:
        return "\n".join(r.text for r in self.replies.get(user, []))

    async def invite(self, admin: str, commune: str) -> str:
        """Create an invite code for ``commune`` as ``admin``; returns the code."""
        await self.say(admin, f"/moi {commune}")
        await self.tap(admin, "Tạo mã")
        text = self.last(admin)
        return text.split(": ", 1)[1].split()[0]

    async def register(
        self, admin: str, user: str, commune: str, *, name: str | None = None
    ) -> None:
        """``user`` joins ``commune`` with an invite from ``admin`` and gives their name."""
        code = await self.invite(admin, commune)
        replies = await self.say(user, f"/start {code}")
        text = "\n".join(r.text for r in replies)
        assert "Đăng ký thành công" in text, text
        if "họ và tên" in self.last(user):  # a first registration asks who they are
            await self.give_name(user, name)

    async def give_name(self, user: str, name: str | None = None) -> None:
        """Answer the questions for one's name and position."""
        await self.say(user, name or f"Người {user}")
        await self.say(user, "Công chức xã")
        await self.tap(user, "Đúng, lưu lại")
        assert "Đã lưu" in self.last(user), self.last(user)


@asynccontextmanager
async def harness(
    tmp_path: Path,
    *,
    admins: tuple[str, ...] = ("admin",),
    today: str = "2021-10-15",
    db_name: str = "h.sqlite3",
    database_url: str | None = None,
) -> AsyncIterator[Harness]:
    """The bot's core with a test channel; on SQLite in ``tmp_path`` unless ``database_url``
    names a PostgreSQL database."""
    import os

    os.environ["NTM_DB_PATH"] = str(tmp_path / db_name)
    os.environ.pop("NTM_DATABASE_URL", None)
    if database_url is not None:
        os.environ["NTM_DATABASE_URL"] = database_url
    settings = load_settings()
    clock = Clock(settings.tz, dt.date.fromisoformat(today))
    async with open_app(settings, clock=clock, extra_admins={(CHANNEL, a) for a in admins}) as app:
        try:
            yield Harness(app, clock)
            await app.deps.flush()
        finally:
            os.environ.pop("NTM_DATABASE_URL", None)


async def add_report(
    h: Harness,
    commune: str,
    form: str,
    day: str,
    *,
    rate: float | None = None,
    status: str | None = None,
    subject: str = "",
    answers: dict[str, str] | None = None,
) -> None:
    """A report as an officer of ``commune`` would have sent it on ``day``."""
    found = next(c for c in await h.app.deps.communes.all() if c.name == commune)
    user = await h.app.deps.users.ensure("test", f"officer-{found.id}", chat_id=f"o{found.id}")
    date = dt.date.fromisoformat(day)
    async with h.app.db.transaction():
        await ReportRepo(h.app.db).add(
            commune_id=found.id,
            form_id=form,
            subject=subject,
            period=f"{date.year}-{date.month:02d}" if form == "bhyt" else "",
            answers=({} if status is None else {"status": status}) | (answers or {}),
            computed={} if rate is None else {"rate": rate},
            meets_target=None if rate is None else rate > 85,
            submitted_by=user.id,
            channel="test",
            now=dt.datetime.combine(date, dt.time(9), tzinfo=dt.UTC),
            report_date=date,
        )
