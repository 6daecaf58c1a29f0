"""``ntm-bot digest``: preview the weekly digest (text and chart) or send it now."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.app import open_app
from bot.settings import Settings
from handlers.broadcast import create_digest_job
from handlers.communes import find_commune
from handlers.digest import commune_digest, digest_chart, district_digest, load_digest_data
from handlers.i18n import Tr


class DigestError(Exception):
    """A mistake in the command (unknown commune, no channel to send on)."""


async def digest_command(
    settings: Settings, *, preview: bool, commune: str | None, out: Path
) -> int:
    if preview:
        return await _preview(settings, commune, out)
    return await _send(settings)


async def _preview(settings: Settings, commune_name: str | None, out: Path) -> int:
    async with open_app(settings) as app:
        data = await load_digest_data(app.deps, app.clock.today())
        tr = Tr(app.deps.translator, settings.lang)
        highlight = None
        if commune_name:
            exact, candidates = find_commune(commune_name, data.communes)
            commune = exact or (candidates[0] if len(candidates) == 1 else None)
            if commune is None:
                names = ", ".join(c.name for c in candidates) or "—"
                raise DigestError(f"không tìm thấy xã “{commune_name}” (gần giống: {names})")
            print(commune_digest(app.kb, data, commune, tr).plain())
            highlight = commune.name
        else:
            print(district_digest(app.kb, data, tr, app.kb.meta.district).plain())
        chart = digest_chart(app.kb, data, tr, highlight)
    print()
    if chart is None:
        print("(Chưa có báo cáo nào cho biểu đồ nên chưa vẽ biểu đồ.)")
    else:
        await asyncio.to_thread(_write, out, chart)
        print(f"Biểu đồ: {out}")
    return 0


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def _send(settings: Settings) -> int:
    """Build this week's digest job and send it on every configured channel, now."""
    from bot.channels import enabled_channels, how_to_configure
    from bot.channels.base import SharedClients
    from bot.sender import Sender, Transport

    kinds = enabled_channels(settings)
    if not kinds:
        raise DigestError(f"chưa cấu hình kênh nào để gửi ({how_to_configure()})")
    async with open_app(settings) as app:
        clients = SharedClients(settings, app.db, app.clock.now)
        try:
            transports: dict[str, Transport] = {
                kind.name: await kind.transport(settings, clients) for kind in kinds
            }
            now = app.clock.now()
            key = f"digest:manual:{now.astimezone(dt.UTC):%Y%m%dT%H%M%S}"
            job = await create_digest_job(app.deps, now.date(), key)
            sender = Sender(
                app.db,
                transports,
                rate=settings.send_rate,
                per_chat=settings.per_chat_interval,
                now=app.clock.now,
                lease=dt.timedelta(seconds=settings.delivery_lease_seconds),
            )
            await sender.drain()
        finally:
            await clients.close()
    stats = sender.stats
    print(
        f"bản tin {key} (việc {job}): đã gửi {stats.sent}, không đến được "
        f"{stats.unreachable}, lỗi {stats.failed}"
    )
    return 0
