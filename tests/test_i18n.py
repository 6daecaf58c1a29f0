"""Translation catalogs: compiled files match the sources, every message has an English text."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from handlers.i18n import Catalogs, locales_dir

REPO = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "tr": None, "n": (1, 2)}


def _catalog(lang: str, suffix: str):  # type: ignore[no-untyped-def]
    path = locales_dir() / lang / "LC_MESSAGES" / f"messages.{suffix}"
    with path.open("rb") as handle:
        return read_po(handle) if suffix == "po" else read_mo(handle)


def _code_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(
            REPO / folder, keywords=KEYWORDS, method_map=[("**.py", "python")]
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_is_translated_to_english() -> None:
    po = _catalog("en", "po")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in po
        if m.id and (m.string if isinstance(m.string, str) else all(m.string))
    }
    missing = sorted(_code_messages() - translated)
    assert missing == [], "run `make i18n-update`, translate, then `make i18n-compile`"


def test_compiled_catalogs_match_their_sources() -> None:
    for lang in ("vi", "en"):
        compiled = io.BytesIO()
        write_mo(compiled, _catalog(lang, "po"))
        committed = (locales_dir() / lang / "LC_MESSAGES" / "messages.mo").read_bytes()
        assert compiled.getvalue() == committed, f"locales/{lang}: run `make i18n-compile`"


def test_catalogs_translate() -> None:
    catalogs = Catalogs()
    assert catalogs.gettext("Cấp xã", locale="en") == "Commune level"
    assert catalogs.gettext("Cấp xã", locale="vi") == "Cấp xã"
    assert catalogs.gettext("đã quá hạn {count} ngày", "đã quá hạn {count} ngày", 2, "en") == (
        "{count} days overdue"
    )


def test_pybabel_is_available_for_the_documented_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 or "usage" in (result.stdout + result.stderr).lower()
