"""The appraisal dossier ("hồ sơ minh chứng"): for a commune, or the district's communes, one
Word document the office can still edit and a .zip with the photos in folders by criterion.

For each commune criterion and sub-indicator: where it stands and why (the criteria read
model), the standing reports' values with who sent them and when, the commune's task marks,
and its photos (the photo read model) — so the dossier says exactly what ``/xa`` and the web
view say. Word gets the small copies of the pictures (the document stays light enough to send
and edit); the .zip has them whole, named after the report they came with.

Reading is async (the database); writing the document and the archive is CPU work and runs
in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from babel.dates import format_datetime

from handlers.criteria_view import reason, standing_word
from handlers.i18n import Tr
from handlers.photo_view import photo_caption
from handlers.reader import Reader
from handlers.readmodel.criteria import CriteriaBoard, load_board
from handlers.readmodel.photos import OTHER, load_photos
from handlers.report_view import display_value, period_label
from handlers.task_view import Progress, load_progress, state_phrase, task_title
from knowledge.base import Indicator, KnowledgeBase
from knowledge.normalize import fold
from storage.communes import Commune
from storage.media import Evidence, MediaRepo
from storage.reports import Report, ReportRepo

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ZIP = "application/zip"
PICTURE_WIDTH_CM = 7.5

OnProgress = Callable[[int, int], None]  # (communes done, communes in all)


@dataclass(frozen=True)
class Photo:
    evidence: Evidence
    caption: str
    thumbnail: bytes | None  # for the document (the whole photo is read as the .zip is written)
    name: str  # its name in the archive


@dataclass
class CommuneFile:
    commune: Commune
    reports: list[Report] = field(default_factory=list)
    photos: dict[str, list[Photo]] = field(default_factory=dict)  # criterion → photos


@dataclass(frozen=True)
class Dossier:
    """The Word document (in memory: small copies of the pictures) and the .zip (a temporary
    file: a district's photos are hundreds of megabytes); :meth:`discard` removes the file."""

    docx: bytes
    zip_path: Path
    zip_size: int
    name: str  # the files' name without extension
    communes: int
    photos: int

    def zip_bytes(self) -> bytes:
        return self.zip_path.read_bytes()

    def discard(self) -> None:
        self.zip_path.unlink(missing_ok=True)


def slug(text: str) -> str:
    """ "Thọ Bình" → "tho-binh" (file and folder names every system reads)."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text).replace("đ", "d")).strip("-") or "x"


async def build_dossier(
    ctx: Reader, communes: Sequence[Commune], progress: OnProgress | None = None
) -> Dossier:
    deps = ctx.deps
    kb = deps.kb
    tz = ctx.now.tzinfo
    board = await load_board(kb, deps.db, ctx.today, tz, list(communes))
    photo_board = await load_photos(kb, deps.db, [c.id for c in communes])
    tasks = await load_progress(deps.db, tz)
    repo = ReportRepo(deps.db)
    media = MediaRepo(deps.db)
    files: list[CommuneFile] = []
    submitters: set[int] = set()
    for done, commune in enumerate(communes, start=1):
        entry = CommuneFile(commune, await repo.latest(commune_id=commune.id))
        submitters.update(r.submitted_by for r in entry.reports)
        folder = slug(commune.name)
        for code in (*board.criteria, OTHER):
            photos = []
            for index, item in enumerate(photo_board.of(commune.id, code), start=1):
                extension = ".pdf" if not item.media.is_picture else _extension(item.media.mime)
                label = kb.indicators[code].label if code != OTHER else "khac"
                photos.append(
                    Photo(
                        item,
                        photo_caption(ctx.tr, kb, item.media),
                        await media.content(item.media, thumbnail=True)
                        if item.media.is_picture
                        else None,
                        f"{folder}/{'tieu-chi-' + label if code != OTHER else 'viec-khac'}/"
                        f"{index:02d}-{_source(item)}{extension}",
                    )
                )
            if photos:
                entry.photos[code] = photos
        # the reports the photos came with are shown too (an earlier month's clean-up)
        shown = {r.id for r in entry.reports}
        came_with = {
            p.evidence.report_id
            for ps in entry.photos.values()
            for p in ps
            if p.evidence.report_id is not None
        }
        for report_id in sorted(came_with - shown):
            older = await repo.get(report_id)
            if older is not None:
                entry.reports.append(older)
                submitters.add(older.submitted_by)
        files.append(entry)
        if progress is not None:
            progress(done, len(communes))
    names = await deps.users.names_of(submitters)
    title = _title(ctx, communes)
    docx = await asyncio.to_thread(_document, ctx, kb, board, tasks, files, names, title)
    path = await _archive(media, files, docx, title)
    count = len({p.evidence.media.id for f in files for ps in f.photos.values() for p in ps})
    return Dossier(docx, path, path.stat().st_size, title, len(files), count)


def _source(item: Evidence) -> str:
    """Where a photo came from, in its file name: its report, or its task mark."""
    if item.report_id is not None:
        return f"bc-{item.report_id:06d}"
    return f"viec-{slug(item.task_id)}-{item.mark_id}"


def _title(ctx: Reader, communes: Sequence[Commune]) -> str:
    day = ctx.today.strftime("%Y%m%d")
    if len(communes) == 1:
        return f"ho-so-ntm-{slug(communes[0].name)}-{day}"
    return f"ho-so-ntm-cac-xa-{day}"


def _extension(mime: str) -> str:
    return {"image/png": ".png", "image/webp": ".webp"}.get(mime, ".jpg")


def _document(
    ctx: Reader,
    kb: KnowledgeBase,
    board: CriteriaBoard,
    tasks: Progress,
    files: list[CommuneFile],
    names: dict[int, str],
    title: str,
) -> bytes:
    from docx import Document
    from docx.shared import Pt

    tr = ctx.tr
    tz = ctx.now.tzinfo
    document = Document()
    document.styles["Normal"].font.name = "Times New Roman"
    document.styles["Normal"].font.size = Pt(13)
    document.core_properties.title = title
    document.add_heading(tr("HỒ SƠ MINH CHỨNG KẾT QUẢ THỰC HIỆN TIÊU CHÍ XÃ NÔNG THÔN MỚI"), 0)
    document.add_paragraph(
        tr(
            "Theo {plan}; lập ngày {date} từ số liệu các xã báo cáo qua Trợ lý NTM.",
            plan=kb.meta.title_en if tr.en else kb.meta.title,
            date=_day(ctx),
        )
    )
    for entry in files:
        commune = entry.commune
        cells = board.communes[commune.id]
        document.add_page_break()  # type: ignore[no-untyped-call]
        title = (
            tr("Thị trấn {commune}", commune=commune.name)
            if commune.kind == "thi_tran"
            else tr("Xã {commune}", commune=commune.name)
        )
        document.add_heading(title, 1)
        summary = document.add_table(rows=1, cols=4)
        summary.style = "Table Grid"
        for cell, text in zip(
            summary.rows[0].cells,
            (tr("Tiêu chí"), tr("Tình trạng"), tr("Căn cứ"), tr("Ảnh")),
            strict=True,
        ):
            cell.text = text
        for code in board.criteria:
            row = summary.add_row().cells
            indicator = kb.indicators[code]
            row[0].text = f"{indicator.label}. {_name(tr, indicator)}"
            row[1].text = standing_word(tr, cells[code].standing)
            row[2].text = reason(tr, kb, cells[code], ctx.today, tz)
            row[3].text = str(len(entry.photos.get(code, [])))
        for code in board.criteria:
            indicator = kb.indicators[code]
            document.add_heading(
                tr("Tiêu chí {label}. {name}", label=indicator.label, name=_name(tr, indicator)), 2
            )
            for part in (code, *indicator.children):
                cell = cells[part]
                sub = kb.indicators[part]
                line = document.add_paragraph(style="List Bullet" if sub.is_sub else None)
                line.add_run(f"{sub.label} " if sub.is_sub else "").bold = True
                line.add_run(
                    f"{standing_word(tr, cell.standing)}: {reason(tr, kb, cell, ctx.today, tz)}"
                )
            with_photos = {p.evidence.report_id for p in entry.photos.get(code, [])}
            for report in _reports_on(kb, entry.reports, code, with_photos):
                _report(document, ctx, kb, report, names)
            for task_id in _tasks_on(kb, code):
                task = kb.task(task_id)
                if task is None:
                    continue
                mark = tasks.of(task.id, commune.id)
                document.add_paragraph(
                    tr(
                        "Việc “{task}”: {state}",
                        task=task_title(task, tr),
                        state=state_phrase(tr, mark, kb.due(task), ctx.today, tz),
                    ),
                    style="List Bullet",
                )
            _pictures(document, entry.photos.get(code, []))
        if entry.photos.get(OTHER):
            document.add_heading(tr("Ảnh kèm các việc khác"), 2)
            _pictures(document, entry.photos[OTHER])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pictures(document: DocxDocument, photos: list[Photo]) -> None:
    from docx.shared import Cm

    for photo in photos:
        if photo.thumbnail is not None:
            document.add_picture(io.BytesIO(photo.thumbnail), width=Cm(PICTURE_WIDTH_CM))
        caption = document.add_paragraph(f"{photo.caption} — {photo.name}", style="Caption")
        caption.runs[0].italic = True


def _name(tr: Tr, indicator: Indicator) -> str:
    return indicator.name_en if tr.en else indicator.name


def _tasks_on(kb: KnowledgeBase, code: str) -> list[str]:
    """The commune's own tasks a criterion needs (its evidence rules), in the plan's order."""
    if kb.evidence is None:
        return []
    found: list[str] = []
    for part in (code, *kb.indicators[code].children):
        rule = kb.evidence.rules.get(part)
        for task_id in rule.tasks if rule is not None else ():
            if task_id not in found:
                found.append(task_id)
    return found


def _reports_on(
    kb: KnowledgeBase, reports: list[Report], code: str, with_photos: set[int | None]
) -> list[Report]:
    """The reports that speak to a criterion: a status report on it or one of its
    indicators, a form whose evidence rules name it, or one whose photos are its evidence."""
    indicator = kb.indicators[code]
    codes = {code, *indicator.children}
    forms = set()
    if kb.evidence is not None:
        forms = {
            source.form
            for c in codes
            if (rule := kb.evidence.rules.get(c)) is not None
            for source in rule.reports
        }
    return [
        r
        for r in reports
        if r.subject in codes or (not r.subject and r.form_id in forms) or r.id in with_photos
    ]


def _report(
    document: DocxDocument, ctx: Reader, kb: KnowledgeBase, report: Report, names: dict[int, str]
) -> None:
    tr = ctx.tr
    form = kb.forms.get(report.form_id)
    if form is None:
        return
    when = format_datetime(
        report.submitted_at.astimezone(ctx.now.tzinfo), "dd/MM/yyyy HH:mm", locale=ctx.lang
    )
    period = period_label(report.period, tr)
    heading = tr(
        "Báo cáo {number} — {form}{period}, {who} gửi lúc {when}",
        number=report.number,
        form=form.title_en if tr.en else form.title,
        period=f" ({period})" if period else "",
        who=names.get(report.submitted_by) or tr("(không rõ)"),
        when=when,
    )
    document.add_paragraph(heading, style="List Bullet")
    for item in form.fields:
        value = report.answers.get(item.key)
        if value is None or item.type == "indicator":
            continue
        label = item.label_en if tr.en else item.label
        document.add_paragraph(f"{label}: {display_value(ctx, item, value)}", style="List Bullet 2")


def _day(ctx: Reader) -> str:
    from babel.dates import format_date

    return format_date(ctx.today, "dd/MM/yyyy", locale=ctx.lang)


async def _archive(media: MediaRepo, files: list[CommuneFile], docx: bytes, title: str) -> Path:
    """The .zip in a temporary file, one photo in memory at a time."""
    import tempfile
    import zipfile

    handle, name = tempfile.mkstemp(prefix="ho-so-", suffix=".zip")
    os.close(handle)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # photos do not shrink
            await asyncio.to_thread(archive.writestr, f"{title}.docx", docx)
            for entry in files:
                for photos in entry.photos.values():
                    for photo in photos:
                        data = await media.content(photo.evidence.media)
                        if data is not None:
                            await asyncio.to_thread(archive.writestr, photo.name, data)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(name)
        raise
    return path
