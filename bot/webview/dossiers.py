"""The dossier on the web view: the office picks a commune (or every commune), the dossier is
built in the background while a page shows how far it is (it refreshes itself: no script is
allowed), then offers the Word document and the .zip of photos.

Builds live in this process for ``KEEP`` after they finish; behind several instances the
progress page must reach the instance that builds (sticky sessions), else it says the build
is unknown and offers to start again.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import secrets
import time
from dataclasses import dataclass, field

from aiohttp import web

from bot.webview.auth import Viewer
from bot.webview.pages import Pages, int_from
from handlers.dossier import DOCX, ZIP, Dossier, build_dossier

log = logging.getLogger(__name__)
KEEP = 15 * 60  # seconds a finished dossier can be downloaded
MAX_BUILDS = 20  # kept at once (each a Word document in memory and a .zip on disk)


@dataclass
class Build:
    user_id: int
    total: int
    done: int = 0
    result: Dossier | None = None
    failed: bool = False
    finished_at: float | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class DossierPages:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.deps = pages.deps
        self.builds: dict[str, Build] = {}

    async def _office(self, request: web.Request) -> Viewer:
        viewer = await self.pages.viewer_or_login(request)
        if not viewer.is_office:
            raise self.pages.denied(request, viewer)
        return viewer

    async def choose(self, request: web.Request) -> web.StreamResponse:
        viewer = await self._office(request)
        communes = await self.deps.communes.all()
        return self.pages.render("dossier.html", request, viewer, communes=communes, build=None)

    async def start(self, request: web.Request) -> web.StreamResponse:
        viewer = await self._office(request)
        commune_id = int_from(request.query.get("xa"), -1)
        communes = [c for c in await self.deps.communes.all() if commune_id in (0, c.id)]
        if not communes:
            raise web.HTTPNotFound()
        self._forget_old()
        if len(self.builds) >= MAX_BUILDS:
            return self.pages.message(
                request,
                viewer,
                viewer.reader.tr("Hồ sơ minh chứng"),
                viewer.reader.tr("Đang lập nhiều hồ sơ cùng lúc; xin thử lại sau ít phút."),
                503,
            )
        token = secrets.token_urlsafe(16)
        build = Build(viewer.user.id, len(communes))
        self.builds[token] = build

        def advance(done: int, _total: int) -> None:
            build.done = done

        async def run() -> None:
            try:
                build.result = await build_dossier(viewer.reader, communes, advance)
            except Exception:
                log.exception("dossier build failed")
                build.failed = True
            finally:
                build.finished_at = time.monotonic()

        # A context of its own: nothing of the request (its transaction state) leaks into it.
        build.task = asyncio.get_running_loop().create_task(run(), context=contextvars.Context())
        raise web.HTTPSeeOther(f"/web/hoso/{token}")

    def _forget_old(self) -> None:
        now = time.monotonic()
        for token, build in list(self.builds.items()):
            if build.finished_at is not None and now - build.finished_at > KEEP:
                self._drop(token)
        finished = [t for t, b in self.builds.items() if b.finished_at is not None]
        while len(self.builds) >= MAX_BUILDS and finished:  # never someone's running build
            self._drop(finished.pop(0))

    def _drop(self, token: str) -> None:
        build = self.builds.pop(token)
        if build.task is not None and not build.task.done():
            build.task.cancel()
        if build.result is not None:
            build.result.discard()

    async def progress(self, request: web.Request) -> web.StreamResponse:
        viewer = await self._office(request)
        build = self._own(request, viewer)
        return self.pages.render(
            "dossier.html",
            request,
            viewer,
            communes=[],
            build=build,
            token=request.match_info["token"],
        )

    async def download(self, request: web.Request) -> web.StreamResponse:
        viewer = await self._office(request)
        build = self._own(request, viewer)
        if build.result is None:
            raise web.HTTPNotFound()
        kind = request.match_info["kind"]
        name = f"{build.result.name}.{kind}"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        if kind == "zip":  # from its file, as it is read: hundreds of megabytes for a district
            return web.FileResponse(
                build.result.zip_path, headers={**disposition, "Content-Type": ZIP}
            )
        return web.Response(body=build.result.docx, content_type=DOCX, headers=disposition)

    def _own(self, request: web.Request, viewer: Viewer) -> Build:
        build = self.builds.get(request.match_info["token"])
        if build is None or build.user_id != viewer.user.id:
            raise (
                self.pages.denied(request, viewer)
                if build
                else web.HTTPNotFound(text="Hồ sơ này không còn (đã quá 15 phút); xin lập lại.")
            )
        return build

    async def close(self) -> None:
        for token in list(self.builds):
            self._drop(token)


def add_dossier_routes(app: web.Application, pages: Pages, prefix: str) -> DossierPages:
    dossiers = DossierPages(pages)
    app.add_routes(
        [
            web.get(f"{prefix}/hoso", dossiers.choose),
            web.get(f"{prefix}/hoso/lap", dossiers.start),
            web.get(f"{prefix}/hoso/{{token}}", dossiers.progress),
            web.get(f"{prefix}/hoso/{{token}}/tai.{{kind:docx|zip}}", dossiers.download),
        ]
    )
    return dossiers
