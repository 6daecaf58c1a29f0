"""People who talk to the bot, one row per channel identity."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from storage.db import Params, Row, Store
from storage.timeutil import utc_iso


@dataclass(frozen=True)
class User:
    id: int
    channel: str
    external_id: str
    chat_id: str | None
    display_name: str | None
    role: str | None
    commune_id: int | None
    lang: str | None
    registered_at: str | None
    revoked_at: str | None
    unreachable_at: str | None
    full_name: str | None = None
    position: str | None = None
    name_asked_at: str | None = None
    unit_key: str | None = None  # the district unit of a unit's staff (role 'unit')

    @property
    def name(self) -> str:
        """How the office sees the person: their full name, else the chat's name."""
        return self.full_name or self.display_name or self.external_id

    @property
    def name_and_position(self) -> str:
        return f"{self.name} ({self.position})" if self.position else self.name

    @classmethod
    def from_row(cls, row: Row) -> User:
        return cls(
            id=row["id"],
            channel=row["channel"],
            external_id=row["external_id"],
            chat_id=row["chat_id"],
            display_name=row["display_name"],
            role=row["role"],
            commune_id=row["commune_id"],
            lang=row["lang"],
            registered_at=row["registered_at"],
            revoked_at=row["revoked_at"],
            unreachable_at=row["unreachable_at"],
            full_name=row["full_name"],
            position=row["position"],
            name_asked_at=row["name_asked_at"],
            unit_key=row["unit_key"],
        )


_caches: weakref.WeakKeyDictionary[Store, dict[tuple[str, str], User]] = weakref.WeakKeyDictionary()


class UserRepo:
    """Users, with an in-process cache.

    Every change to a user goes through this class in the bot's process, so the cache is
    write-through: a write forgets the cached row (and a rolled-back transaction forgets what
    it touched). It spares two database round trips on every message.
    """

    def __init__(self, db: Store) -> None:
        self.db = db
        # one cache per database in the process: the sender's changes (unreachable) are the
        # conversation's to see, whichever repository made them
        self._cache: dict[tuple[str, str], User] = _caches.setdefault(db, {})
        # Several instances on one database (PostgreSQL): a role changed by another instance
        # must count at once, so people are read from the database every time.
        self.trust_cache = not db.dialect.shared

    def _remember(self, user: User) -> User:
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[(user.channel, user.external_id)] = user
        return user

    def forget(self, user_id: int | None = None) -> None:
        """Drop a user (or everyone) from the cache."""
        if user_id is None:
            self._cache.clear()
            return
        for key, user in list(self._cache.items()):
            if user.id == user_id:
                del self._cache[key]

    async def get(self, channel: str, external_id: str) -> User | None:
        cached = self._cache.get((channel, external_id)) if self.trust_cache else None
        if cached is not None:
            return cached
        row = await self.db.fetchone(
            "SELECT * FROM users WHERE channel = ? AND external_id = ?", (channel, external_id)
        )
        return self._remember(User.from_row(row)) if row else None

    async def by_id(self, user_id: int) -> User | None:
        row = await self.db.fetchone("SELECT * FROM users WHERE id = ?", (user_id,))
        return User.from_row(row) if row else None

    async def ensure(
        self,
        channel: str,
        external_id: str,
        *,
        chat_id: str | None = None,
        display_name: str | None = None,
    ) -> User:
        """The user's row, created on first contact; name and chat are kept current."""
        cached = self._cache.get((channel, external_id)) if self.trust_cache else None
        if (
            cached is not None
            and (chat_id is None or cached.chat_id == chat_id)
            and (display_name is None or cached.display_name == display_name)
            and cached.unreachable_at is None
        ):
            return cached
        now = utc_iso()
        await self.db.execute(
            "INSERT INTO users (channel, external_id, chat_id, display_name, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, external_id) DO UPDATE SET"
            " chat_id = coalesce(excluded.chat_id, users.chat_id),"
            " display_name = coalesce(excluded.display_name, users.display_name),"
            " unreachable_at = NULL,"
            " updated_at = excluded.updated_at"
            " WHERE users.chat_id IS DISTINCT FROM excluded.chat_id"
            " OR users.display_name IS DISTINCT FROM excluded.display_name"
            " OR users.unreachable_at IS NOT NULL",
            (channel, external_id, chat_id, display_name, now, now),
        )
        self._cache.pop((channel, external_id), None)
        user = await self.get(channel, external_id)
        assert user is not None
        self.db.on_rollback(lambda: self.forget(user.id))
        return user

    async def set_lang(self, user_id: int, lang: str) -> None:
        await self._update(
            user_id,
            "UPDATE users SET lang = ?, updated_at = ? WHERE id = ? RETURNING *",
            (lang, utc_iso(), user_id),
        )

    async def register(
        self, user_id: int, role: str, commune_id: int | None, unit_key: str | None = None
    ) -> None:
        now = utc_iso()
        await self._update(
            user_id,
            "UPDATE users SET role = ?, commune_id = ?, unit_key = ?, registered_at = ?,"
            " revoked_at = NULL, updated_at = ? WHERE id = ? RETURNING *",
            (role, commune_id, unit_key, now, now, user_id),
        )

    async def set_profile(self, user_id: int, full_name: str, position: str | None) -> None:
        await self._update(
            user_id,
            "UPDATE users SET full_name = ?, position = ?, updated_at = ? WHERE id = ? RETURNING *",
            (full_name, position, utc_iso(), user_id),
        )

    async def mark_name_asked(self, user_id: int) -> None:
        now = utc_iso()
        await self._update(
            user_id,
            "UPDATE users SET name_asked_at = ?, updated_at = ? WHERE id = ? RETURNING *",
            (now, now, user_id),
        )

    async def revoke(self, user_id: int) -> None:
        now = utc_iso()
        await self._update(
            user_id,
            "UPDATE users SET role = NULL, commune_id = NULL, unit_key = NULL, revoked_at = ?,"
            " updated_at = ? WHERE id = ? RETURNING *",
            (now, now, user_id),
        )

    async def mark_unreachable(self, user_id: int) -> None:
        now = utc_iso()
        await self._update(
            user_id,
            "UPDATE users SET unreachable_at = ?, updated_at = ? WHERE id = ? RETURNING *",
            (now, now, user_id),
        )

    async def _update(self, user_id: int, sql: str, params: Params) -> None:
        """Change a user's row. The row as written comes back with it (``RETURNING``) and is
        the one cached, so the next message needs no read; a rolled-back transaction forgets
        it."""
        self.forget(user_id)
        self.db.on_rollback(lambda: self.forget(user_id))
        rows = await self.db.write_returning(sql, params)
        if rows:
            self._remember(User.from_row(rows[0]))

    async def registered(self, *, role: str | None = None) -> list[User]:
        sql = "SELECT * FROM users WHERE role IS NOT NULL"
        params: tuple[str, ...] = ()
        if role is not None:
            sql += " AND role = ?"
            params = (role,)
        rows = await self.db.fetchall(sql + " ORDER BY id", params)
        return [User.from_row(r) for r in rows]

    async def officers_of(self, commune_id: int) -> list[User]:
        rows = await self.db.fetchall(
            "SELECT * FROM users WHERE role = 'officer' AND commune_id = ? ORDER BY id",
            (commune_id,),
        )
        return [User.from_row(r) for r in rows]

    async def staff_of_unit(self, unit_key: str) -> list[User]:
        rows = await self.db.fetchall(
            "SELECT * FROM users WHERE role = 'unit' AND unit_key = ? ORDER BY id", (unit_key,)
        )
        return [User.from_row(r) for r in rows]

    async def names_of(self, user_ids: Iterable[int]) -> dict[int, str]:
        """How the office sees each person ("Họ tên (chức vụ)"), in a few queries however
        many there are."""
        wanted = sorted(set(user_ids))
        names: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" for _ in chunk)
            rows = await self.db.fetchall(
                f"SELECT * FROM users WHERE id IN ({marks})",  # noqa: S608 - placeholders
                tuple(chunk),
            )
            for row in rows:
                names[row["id"]] = User.from_row(row).name_and_position
        return names
