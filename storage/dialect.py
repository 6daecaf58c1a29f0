"""What differs between SQLite and PostgreSQL in the repositories' SQL, in one place: the rest
is written once in the SQL both understand (``?`` placeholders are turned into ``$n`` for
PostgreSQL by its ``Database``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a field name: {key!r}")
    return key


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def shared(self) -> bool:
        """Several bot instances may use the database at once (PostgreSQL): what one process
        keeps in memory (caches, flood-control buckets, batched marks) must live in the
        database instead. SQLite serves one process."""
        return self.name != "sqlite"

    def newest_ids(self, source: str, where: str = "") -> str:
        """``SELECT … AS newest``: the id of the current report of each (commune, form,
        subject) in ``source``: the latest period, its latest version."""
        if self.name == "sqlite":
            # SQLite takes a bare column (``id``) from the row holding the group's max(); the
            # grouping walks the unique index in order, faster than a window function here.
            # ``source`` and ``where`` are fragments of the code's own SQL, never input.
            return (
                "SELECT id AS newest, max(period || '#' || printf('%06d', version))"  # noqa: S608
                f" FROM {source}{where} GROUP BY commune_id, form_id, subject"
            )
        return (
            "SELECT DISTINCT ON (commune_id, form_id, subject) id AS newest"  # noqa: S608
            f" FROM {source}{where}"
            ' ORDER BY commune_id, form_id, subject, period COLLATE "C" DESC, version DESC'
        )

    def contains(self, haystack: str, needle: str) -> str:
        """Whether the text ``haystack`` contains ``needle`` (both SQL expressions)."""
        if self.name == "sqlite":
            return f"instr({haystack}, {needle}) > 0"
        return f"strpos({haystack}, {needle}) > 0"

    def skip_locked(self) -> str:
        """Rows another transaction has locked are skipped, not waited for (PostgreSQL; on
        SQLite one writer at a time makes it moot)."""
        return " FOR UPDATE SKIP LOCKED" if self.name == "postgresql" else ""

    def series_table(self) -> str:
        """Rows (commune_id, form_id, subject) from one JSON parameter ``[[id, form, subject]]``."""
        if self.name == "sqlite":
            return (
                "SELECT json_extract(value, '$[0]') AS commune_id,"
                " json_extract(value, '$[1]') AS form_id, json_extract(value, '$[2]') AS subject"
                " FROM json_each(?)"
            )
        return (
            "SELECT (value ->> 0)::bigint AS commune_id, value ->> 1 AS form_id,"
            " value ->> 2 AS subject FROM jsonb_array_elements(?::jsonb) AS value"
        )


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect("postgresql")
