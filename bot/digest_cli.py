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
    import aiohttp

    from bot.sender import Sender, Transport

    if not (settings.telegram_enabled or settings.zalo_bot_enabled or settings.zalo_oa_enabled):
        raise DigestError(
            "chưa cấu hình kênh nào để gửi (TELEGRAM_BOT_TOKEN, ZALO_BOT_TOKEN hoặc ZALO_OA_*)"
        )
    bot = None
    session = aiohttp.ClientSession()
    try:
        async with open_app(settings) as app:
            transports: dict[str, Transport] = {}
            if settings.telegram_enabled:
                from bot.channels.telegram.runtime import create_bot
                from bot.channels.telegram.transport import TelegramTransport

                bot = create_bot(settings)
                transports["telegram"] = TelegramTransport(bot)
            links = None
            if settings.public_url:
                from bot.files import FileLinks

                links = FileLinks(app.db, settings.public_url, app.clock.now)
            if settings.zalo_bot_enabled:
                from bot.channels.zalo.runtime import bot_transport

                transports["zalo_bot"] = bot_transport(settings, session, links)
            if settings.zalo_oa_enabled:
                from bot.channels.zalo.runtime import oa_transport

                transports["zalo_oa"] = await oa_transport(
                    settings, app.db, session, links, app.clock.now
                )
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
            stats = sender.stats
            print(
                f"bản tin {key} (việc {job}): đã gửi {stats.sent}, không đến được "
                f"{stats.unreachable}, lỗi {stats.failed}"
            )
    finally:
        await session.close()
        if bot is not None:
            await bot.session.close()
    return 0
