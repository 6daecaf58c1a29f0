"""Logging to stderr with every configured secret redacted, wherever it appears.

Tokens sit inside API URLs (Telegram's and Zalo's), so a URL in an exception message would leak
them; the filter rewrites the message and its arguments before any handler sees them.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "***"
# Telegram/Zalo bot tokens have this shape even when the setting is not known to us.
# No \b before the digits: in an API URL the token follows ".../bot" directly.
_TOKEN_SHAPE = re.compile(r"(?<!\d)\d{6,}:[A-Za-z0-9_-]{20,}")
# Credentials of the bot's own web server that show up in aiohttp's logs: the access log's
# request line, a "Got more than 8190 bytes" error quoting an oversized header or address
# (even cut short). The session cookie, a sign-in link's token, a file link's token.
_WEB_SECRETS = re.compile(
    r"(?P<keep>ntm_session=|[?&]t=|/files/)(?P<secret>[^;&\s\"'/\\]+)", re.IGNORECASE
)


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret and len(secret) >= 4 and secret not in self._secrets:
                self._secrets.append(secret)
        self._secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _WEB_SECRETS.sub(lambda m: m["keep"] + REDACTED, text)
        return _TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted, so handlers print the safe text.
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(formatted)
            record.exc_info = None
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_filter = RedactingFilter()


def setup_logging(level: str, secrets: Iterable[str] = ()) -> RedactingFilter:
    """Configure the root logger once; later calls only add secrets and change the level."""
    _filter.add(secrets)
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_ntm", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_filter)
        handler._ntm = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    return _filter


def redacting_filter() -> RedactingFilter:
    return _filter
