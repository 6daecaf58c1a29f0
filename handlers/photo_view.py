"""How a photo's metadata reads, wherever it is shown (web view, /xa, the dossier)."""

from __future__ import annotations

from collections.abc import Sequence

from babel.dates import format_datetime
from babel.numbers import format_decimal

from handlers.i18n import Tr
from handlers.readmodel.photos import OTHER, PhotoBoard
from handlers.richtext import Doc, b
from knowledge.base import KnowledgeBase
from storage.media import Evidence, Media
from storage.reports import report_number


def photo_caption(tr: Tr, kb: KnowledgeBase, media: Media) -> str:
    """ "Chụp 12/10/2021 08:30 · gần Thọ Bình (19,8750; 105,6000)" — what the camera recorded
    (the place named from the communes' outlines, when it is in or near one), or "Không có
    thời gian, vị trí chụp" when it recorded nothing (a screenshot, a forwarded photo: worth a
    second look in an appraisal)."""
    parts = []
    if media.taken_at is not None:
        when = format_datetime(media.taken_at, "dd/MM/yyyy HH:mm", locale=tr.lang)
        parts.append(tr("Chụp {when}", when=when))
    if media.latitude is not None and media.longitude is not None:
        where = "; ".join(
            format_decimal(value, format="0.0000", locale=tr.lang)
            for value in (media.latitude, media.longitude)
        )
        place = kb.locator.place(media.latitude, media.longitude)
        commune = kb.commune_by_code(place.code) if place is not None else None
        if place is not None and commune is not None:
            said = (
                tr("tại {commune}", commune=commune)
                if place.inside
                else tr("gần {commune}", commune=commune)
            )
            parts.append(f"{said} ({where})")
        else:
            parts.append(tr("vị trí {where}", where=where))
    if not media.is_picture:
        parts.append(tr("tệp PDF"))
    if not parts:
        return tr("Không có thời gian, vị trí chụp")
    return " · ".join(parts)


def map_link(media: Media) -> str | None:
    """Where the photo was taken, on OpenStreetMap (opened by the reader: nothing is sent)."""
    if media.latitude is None or media.longitude is None:
        return None
    lat, lon = f"{media.latitude:.5f}", f"{media.longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def photo_source(tr: Tr, kb: KnowledgeBase, item: Evidence) -> str:
    """ "BC-000012", or "Việc: <the task>" for a photo sent with a task mark."""
    if item.report_id is not None:
        return report_number(item.report_id)
    task = kb.task(item.task_id)
    return tr("Việc: {task}", task=task.what_en if tr.en else task.what) if task else item.task_id


def photo_counts(
    tr: Tr, kb: KnowledgeBase, photos: PhotoBoard, commune_id: int, criteria: Sequence[str]
) -> Doc:
    """ "📷 Ảnh minh chứng: tiêu chí 8: 1 ảnh; tiêu chí 17: 3 ảnh" (none: it says so)."""
    counted = [
        tr.n(
            "tiêu chí {label}: {count} ảnh",
            "tiêu chí {label}: {count} ảnh",
            photos.count(commune_id, code),
            label=kb.indicators[code].label,
            count=photos.count(commune_id, code),
        )
        for code in criteria
        if photos.count(commune_id, code)
    ]
    if photos.count(commune_id, OTHER):
        other = photos.count(commune_id, OTHER)
        counted.append(tr.n("kèm việc khác: {count} ảnh", "kèm việc khác: {count} ảnh", other,
                            count=other))  # fmt: skip
    if not counted:
        return Doc().add("📷 ", tr("Chưa có ảnh minh chứng nào."))
    return Doc().add("📷 ", b(tr("Ảnh minh chứng:")), " ", "; ".join(counted))
