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
    def __init__(self, db: Store) -> None:
        self.db = db

    async def sync(self, communes: Iterable[tuple[str, str, str]]) -> None:
        """Upsert ``(code, name, kind)`` rows; communes no longer listed become inactive.

        Rows are never deleted: reports and officers keep pointing at them.
        """
        items = list(communes)
        async with self.db.transaction():
            await self.db.execute("UPDATE communes SET active = 0")
            await self.db.executemany(
                "INSERT INTO communes (code, name, kind, active) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
                " kind = excluded.kind, active = 1",
                items,
            )

    async def all(self, *, active_only: bool = True) -> list[Commune]:
        sql = "SELECT * FROM communes"
        if active_only:
            sql += " WHERE active = 1"
        rows = await self.db.fetchall(sql)
        # Alphabetical the Vietnamese way (knowledge.collation): "Dân Lực" before "Dân Lý".
        return sorted((Commune.from_row(r) for r in rows), key=lambda c: vi_key(c.name))

    async def get(self, commune_id: int) -> Commune | None:
        row = await self.db.fetchone("SELECT * FROM communes WHERE id = ?", (commune_id,))
        return Commune.from_row(row) if row else None

    async def by_code(self, code: str) -> Commune | None:
        row = await self.db.fetchone("SELECT * FROM communes WHERE code = ?", (code,))
        return Commune.from_row(row) if row else None
