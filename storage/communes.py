"""Communes of the district, kept in step with the knowledge data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.collation import vi_key
from storage.db import Row, Store


@dataclass(frozen=True)
class Commune:
    id: int
    code: str
    name: str
    kind: str
    active: bool

    @classmethod
    def from_row(cls, row: Row) -> Commune:
        return cls(row["id"], row["code"], row["name"], row["kind"], bool(row["active"]))


class CommuneRepo:
    """Communes, read by id from an in-process cache on SQLite.

    They change only when :meth:`sync` loads the plan's list (at start), so a report dialog
    need not read the same row at every step. With several instances on one database
    (PostgreSQL) another instance's start may rename one: every read goes to the database.
    """

    def __init__(self, db: Store) -> None:
        self.db = db
        self._by_id: dict[int, Commune] = {}
        self.trust_cache = not db.dialect.shared

    async def sync(self, communes: Iterable[tuple[str, str, str]]) -> None:
        """Upsert ``(code, name, kind)`` rows; communes no longer listed become inactive.

        Rows are never deleted: reports and officers keep pointing at them.
        """
        items = list(communes)
        self._by_id.clear()
        async with self.db.transaction():
            await self.db.execute("UPDATE communes SET active = 0")
            await self.db.executemany(
                "INSERT INTO communes (code, name, kind, active) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
                " kind = excluded.kind, active = 1",
                items,
            )
        self._by_id.clear()  # what was read meanwhile, too

    async def all(self, *, active_only: bool = True) -> list[Commune]:
        sql = "SELECT * FROM communes"
        if active_only:
            sql += " WHERE active = 1"
        rows = await self.db.fetchall(sql)
        # Alphabetical the Vietnamese way (knowledge.collation): "Dân Lực" before "Dân Lý".
        return sorted((Commune.from_row(r) for r in rows), key=lambda c: vi_key(c.name))

    async def get(self, commune_id: int) -> Commune | None:
        cached = self._by_id.get(commune_id) if self.trust_cache else None
        if cached is not None:
            return cached
        row = await self.db.fetchone("SELECT * FROM communes WHERE id = ?", (commune_id,))
        if row is None:
            return None
        commune = Commune.from_row(row)
        if self.trust_cache:
            self._by_id[commune.id] = commune
        return commune

    def forget(self) -> None:
        """Forget the cached rows (after communes were changed other than by :meth:`sync`)."""
        self._by_id.clear()

    async def by_code(self, code: str) -> Commune | None:
        row = await self.db.fetchone("SELECT * FROM communes WHERE code = ?", (code,))
        return Commune.from_row(row) if row else None
