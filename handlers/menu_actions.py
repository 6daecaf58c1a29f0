"""The buttons of the browsing menus and the main menu (read by :mod:`handlers.browse`,
:mod:`handlers.basic` and written by the answers of :mod:`handlers.qa` too): one action each,
through the one codec (:mod:`handlers.actions`), in the text forms chats already hold."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.actions import Actions

LEVELS = Actions("lvl")
CRITERIA = Actions("crit")
DEADLINES = Actions("dl")
UNITS = Actions("units")
UNIT = Actions("unit")
DUE = Actions("due")
MENU = Actions("menu")
LANG = Actions("lang")


@LEVELS.register()
@dataclass(frozen=True)
class Level:
    level: str  # "xa" | "huyen"


@CRITERIA.register()
@dataclass(frozen=True)
class Criterion:
    code: str  # "xa:17.4"


@DEADLINES.register()
@dataclass(frozen=True)
class IndicatorDeadlines:
    code: str


@UNITS.register()
@dataclass(frozen=True)
class AllUnits:
    """The list of units."""


@UNIT.register()
@dataclass(frozen=True)
class Unit:
    key: str


@DUE.register()
@dataclass(frozen=True)
class Due:
    page: str  # "next" | "2021-11"


@MENU.register()
@dataclass(frozen=True)
class OpenCommand:
    command: str  # "baocao", "viec", "tonghop"


@LANG.register()
@dataclass(frozen=True)
class Language:
    lang: str
