"""Links to files on the bot's HTTP server, for channels that fetch files by URL (Zalo).

A link carries a random token and expires (``TTL``); the same picture sent to 300 officers is
one link. Served at ``/files/<token>/<filename>`` by the server that takes the webhooks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

from handlers.types import Attachment
from storage.db import Store
from storage.files import FileStore

log = logging.getLogger(__name__)
TTL = dt.timedelta(days=7)


class FileLinks:
    def __init__(self, db: Store, public_url: str, now: Callable[[], dt.datetime]) -> None:
        self.files = FileStore(db)
        self.public_url = public_url.rstrip("/")
        self.now = now
        self._made: dict[tuple[str, str], tuple[str, dt.datetime]] = {}

    async def url_for(self, attachment: Attachment) -> str:
        digest = hashlib.sha256(attachment.data).hexdigest()
        key = (digest, attachment.filename)
        now = self.now()
        made = self._made.get(key)
        if made is None or made[1] - now < TTL / 2:
            token = await self.files.share(
                attachment.data, attachment.filename, attachment.mime, now=now, ttl=TTL
            )
            made = (token, now + TTL)
            self._made[key] = made
        return f"{self.public_url}/files/{made[0]}/{quote(attachment.filename)}"

    def register(self, app: web.Application) -> None:
        app.router.add_get("/files/{token}/{name}", self._serve)

    async def _serve(self, request: web.Request) -> web.Response:
        shared = await self.files.shared(request.match_info["token"], self.now())
        if shared is None:
            raise web.HTTPNotFound(text="Liên kết không còn hiệu lực.")
        return web.Response(
            body=shared.data,
            content_type=shared.mime,
            headers={
                "Content-Disposition": f"inline; filename*=UTF-8''{quote(shared.filename)}",
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
            },
        )
