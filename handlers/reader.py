"""What the office's read models need: the plan, the database, a language, today and the
time zone — and nothing of a chat (no person, no replies, no dialog).

The chat's :class:`~handlers.core.Context` is one :class:`Reader`; the web view, the CLI and
the scheduler make an :class:`OfficeReader`, so exports, the digest, the criteria board and
the web pages word figures and dates the same way everywhere without a made-up chat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from handlers.i18n import Tr

if TYPE_CHECKING:
    from handlers.core import Deps


class Reader(Protocol):
    @property
    def deps(self) -> Deps: ...

    @property
    def lang(self) -> str: ...

    @property
    def now(self) -> dt.datetime: ...  # aware, in the district's time zone

    @property
    def tr(self) -> Tr: ...

    @property
    def today(self) -> dt.date: ...


@dataclass(frozen=True)
class OfficeReader:
    """A :class:`Reader` outside a chat: ``now`` defaults to the app clock's."""

    deps: Deps
    lang: str
    now: dt.datetime

    @classmethod
    def at_now(cls, deps: Deps, lang: str | None = None) -> OfficeReader:
        return cls(deps, lang or deps.default_lang, deps.clock.now())

    @property
    def tr(self) -> Tr:
        return Tr(self.deps.translator, self.lang)

    @property
    def today(self) -> dt.date:
        return self.now.date()
