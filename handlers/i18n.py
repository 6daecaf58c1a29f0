"""Translations for the conversation core.

Message ids are the Vietnamese texts (the product's main language); ``locales/en`` translates
them. The core only needs something with aiogram's ``I18n.gettext`` signature: the Telegram
process passes aiogram's :class:`~aiogram.utils.i18n.I18n`; processes without aiogram (``ask``,
the terminal) use :class:`Catalogs`, which reads the same compiled catalogs with the standard
library.
"""

from __future__ import annotations

import gettext
from importlib import resources
from pathlib import Path
from typing import Protocol

LANGS = ("vi", "en")
DOMAIN = "messages"


class Translator(Protocol):
    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str: ...


def locales_dir() -> Path:
    return Path(str(resources.files("locales")))


class Catalogs:
    """Compiled gettext catalogs (``locales/<lang>/LC_MESSAGES/messages.mo``)."""

    def __init__(self, path: Path | None = None, default_locale: str = "vi") -> None:
        self.path = path or locales_dir()
        self.default_locale = default_locale
        self.locales: dict[str, gettext.GNUTranslations] = {}
        for entry in sorted(self.path.iterdir()):
            mo = entry / "LC_MESSAGES" / f"{DOMAIN}.mo"
            if mo.is_file():
                with mo.open("rb") as handle:
                    self.locales[entry.name] = gettext.GNUTranslations(handle)

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str:
        catalog = self.locales.get(locale or self.default_locale)
        if catalog is None:
            return singular if n == 1 or plural is None else plural
        if plural is None:
            return catalog.gettext(singular)
        return catalog.ngettext(singular, plural, n)


class Tr:
    """``_("…")`` and ``_n("…", "…", n)`` bound to one language."""

    def __init__(self, translator: Translator, lang: str) -> None:
        self.translator = translator
        self.lang = lang

    def __call__(self, message: str, **values: object) -> str:
        text = self.translator.gettext(message, locale=self.lang)
        return text.format(**values) if values else text

    def n(self, singular: str, plural: str, num: int, /, **values: object) -> str:
        """Plural forms chosen by ``num``; placeholders come from ``values``."""
        text = self.translator.gettext(singular, plural, num, locale=self.lang)
        return text.format(**values)

    @property
    def en(self) -> bool:
        return self.lang == "en"


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated later, where it is shown."""
    return message
