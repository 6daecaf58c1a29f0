"""The plan's tasks (``knowledge/data/tasks.yaml``): ``/viec`` lists them with their state, and
a short dialog marks one done, in progress (a percentage or a note) or blocked (with the reason).

A commune officer sees and marks their own commune's share of the tasks every commune does;
a district unit's staff see and mark their unit's tasks and see how the criteria it owns stand;
the office sees every unit's and every commune's tasks, and may mark or reopen any of them
(``/viec <xã>`` or ``/viec <đơn vị>`` narrows the list). Each change is a new row with who and
when (``storage/tasks.py``); nothing is overwritten.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from babel.dates import format_date
from pydantic import Field

from handlers.actions import Actions
from handlers.communes import find_commune, find_unit
from handlers.core import PEOPLE, Context, Conversation
from handlers.criteria_view import unit_criteria
from handlers.dialog_state import DialogState
from handlers.i18n import N_
from handlers.readmodel.criteria import load_board
from handlers.report_photos import refusal
from handlers.richtext import Doc, Part, b, it
from handlers.task_view import is_done, owner_name, state_phrase, task_title, unit_name
from handlers.types import Choice, Upload
from knowledge.base import COMMUNES
from knowledge.models import TaskEntry
from knowledge.normalize import fold
from storage.media import MediaRepo
from storage.reports import AuditLog
from storage.tasks import TaskKey, TaskMark, TaskProgressRepo, TaskStatus

MAX_NOTE = 300
MAX_PHOTOS = 10  # sent with one task mark
_STATUS_WORDS = {
    TaskStatus.DONE: {"xong", "da xong", "hoan thanh", "da hoan thanh", "done", "finished"},
    TaskStatus.IN_PROGRESS: {"dang lam", "dang thuc hien", "in progress", "doing"},
    TaskStatus.BLOCKED: {"vuong", "vuong mac", "bi vuong", "blocked", "stuck"},
    TaskStatus.OPEN: {"mo lai", "reopen", "chua lam"},
}


# Words around a status that do not change it: "xong rồi ạ", "đã hoàn thành hết".
_FILLERS = frozenset({"roi", "a", "nhe", "nha", "oi", "het", "ca", "luon", "rui", "da", "ma"})
_DONE_SHARE = re.compile(
    r"\b(?:dat|duoc|xong|hoan thanh|lam duoc|thuc hien duoc)\s+(?:khoang\s+|gan\s+|tam\s+)?"
    r"(\d{1,3})\s*(?:%|phan tram)"
)


def status_from_words(text: str) -> TaskStatus | None:
    """A status typed in words: "xong", "xong rồi", "đã hoàn thành hết ạ", "đang làm"."""
    if "?" in text:
        return None  # "xong rồi à?" asks, it does not say
    folded = fold(text).strip(" .!")
    if any(folded in words for words in _STATUS_WORDS.values()):
        return next(s for s, words in _STATUS_WORDS.items() if folded in words)
    kept = " ".join(w for w in re.findall(r"[a-z]+", folded) if w not in _FILLERS)
    for status, words in _STATUS_WORDS.items():
        if kept in {" ".join(x for x in w.split() if x not in _FILLERS) for w in words}:
            return status
    return None


# -- buttons ---------------------------------------------------------------------------------


ACTIONS = Actions("task")


@ACTIONS.register("pick")
@dataclass(frozen=True)
class Pick:
    """Mark this task (for this commune, when every commune does it)."""

    task_id: str
    commune_id: int | None

    def encode(self) -> str:
        return ACTIONS.encode(self)


@ACTIONS.register("set")
@dataclass(frozen=True)
class SetStatus:
    status: TaskStatus

    def encode(self) -> str:
        return ACTIONS.encode(self)


def decode(text: str) -> Pick | SetStatus | None:
    action = ACTIONS.decode(text)
    return action if isinstance(action, Pick | SetStatus) else None


class TaskStep(StrEnum):
    STATUS = "status"  # done, in progress, blocked (, reopen: the office)?
    PERCENT = "percent"  # how far, or a note
    REASON = "reason"  # what blocks it


class TaskDialog(DialogState):
    """Marking one task: which, for which commune, and what is being asked."""

    kind: ClassVar[str] = "task"
    task: str
    commune_id: int | None = None
    step: TaskStep = TaskStep.STATUS
    office: bool = False
    percent: int | None = Field(default=None, ge=0, le=100)
    photos: list[int] = Field(default_factory=list)  # sent along, kept with the mark


# -- setup -------------------------------------------------------------------------------------


def setup(conv: Conversation) -> None:
    conv.command(
        "viec",
        list_tasks,
        N_("Việc được giao theo Kế hoạch: tình trạng, cập nhật"),
        roles=PEOPLE,
        aliases=("tasks",),
        private_only=True,
    )
    conv.action("task", on_action, roles=PEOPLE, private_only=True)
    conv.dialog(Marking())


# -- listing -------------------------------------------------------------------------------------


async def list_tasks(ctx: Context, args: str) -> None:
    _ = ctx.tr
    if ctx.dialog is not None and ctx.dialog.kind == TaskDialog.kind:
        # a new list replaces the status question left open: one list, one numbering
        await ctx.end_dialog()
    marks = await TaskProgressRepo(ctx.deps.db).current()
    if ctx.is_officer:
        commune = await ctx.commune()
        if commune is None:
            ctx.reply(_("Bạn chưa được gắn với xã nào."))
            return
        _commune_tasks(ctx, commune.id, commune.name, marks)
        return
    if ctx.is_unit and ctx.user.unit_key is not None:
        criteria = await _unit_criteria(ctx, ctx.user.unit_key)
        _unit_tasks(ctx, [ctx.user.unit_key], marks, buttons=True, then=criteria)
        return
    wanted = args.strip()
    if wanted:
        communes = await ctx.deps.communes.all()
        exact, candidates = find_commune(wanted, communes)
        if exact is not None:
            _commune_tasks(ctx, exact.id, exact.name, marks)
            return
        unit = _unit_named(ctx, wanted)
        if unit is not None:
            criteria = await _unit_criteria(ctx, unit)
            _unit_tasks(ctx, [unit], marks, buttons=True, then=criteria)
            return
        if candidates:
            names = ", ".join(c.name for c in candidates[:5])
            ctx.reply(_("Không rõ xã hay đơn vị “{name}”. Có phải: {names}?", name=wanted[:40],
                        names=names))  # fmt: skip
            return
        ctx.reply(_("Không tìm thấy xã hay đơn vị “{name}”.", name=wanted[:40]))
        return
    units = [u.key for u in ctx.deps.kb.units if u.key != COMMUNES and ctx.deps.kb.tasks_of(u.key)]
    _unit_tasks(ctx, units, marks, buttons=False)
    await _commune_task_counts(ctx, marks)


def _unit_named(ctx: Context, text: str) -> str | None:
    units = {u.key for u in ctx.deps.kb.units if u.key != COMMUNES}
    return find_unit(ctx.deps.qa.engine, text, ctx.today, units)


def _line(ctx: Context, task: TaskEntry, mark: TaskMark | None) -> list[Part]:
    kb = ctx.deps.kb
    due = kb.due(task)
    when = format_date(due, "dd/MM/yyyy", locale=ctx.lang)
    state = state_phrase(ctx.tr, mark, due, ctx.today, ctx.now.tzinfo)
    return [task_title(task, ctx.tr), " — ", ctx.tr("hạn {date}", date=when), ": ", b(state)]


def _commune_tasks(
    ctx: Context, commune_id: int, name: str, marks: dict[TaskKey, TaskMark]
) -> None:
    _ = ctx.tr
    tasks = ctx.deps.kb.tasks_of(COMMUNES)
    doc = Doc().add(b(_("Việc của xã {commune} theo Kế hoạch", commune=name)))
    rows: list[list[Choice]] = []
    for n, task in enumerate(tasks, start=1):
        mark = marks.get((task.id, commune_id))
        doc.bullet(f"{n}. ", *_line(ctx, task, mark))
        rows.append([_pick_button(ctx, n, task, commune_id)])
    doc.add(it(_("Chọn một việc để cập nhật tình trạng.")))
    ctx.reply(doc, rows, listed=True)


def _unit_tasks(
    ctx: Context,
    units: list[str],
    marks: dict[TaskKey, TaskMark],
    *,
    buttons: bool,
    then: Doc | None = None,
) -> None:
    _ = ctx.tr
    kb = ctx.deps.kb
    if len(units) == 1:
        title = _("Việc của {unit} theo Kế hoạch", unit=unit_name(kb, units[0], ctx.tr))
    else:
        title = _("Việc của các đơn vị theo Kế hoạch")
    doc = Doc().add(b(title))
    rows: list[list[Choice]] = []
    n = 0
    for key in units:
        if len(units) > 1:
            doc.blank().add(b(unit_name(kb, key, ctx.tr)))
        tasks = kb.tasks_of(key)
        if not tasks:
            doc.add(it(_("Kế hoạch không giao việc có thời hạn nào cho đơn vị này.")))
        for task in tasks:
            n += 1
            doc.bullet(f"{n}. ", *_line(ctx, task, marks.get((task.id, None))))
            if buttons or not is_done(marks.get((task.id, None))):
                rows.append([_pick_button(ctx, n, task, None)])
    if rows and ctx.is_office:
        doc.add(it(_("Chọn một việc để cập nhật tình trạng; /viec <xã> cho việc của một xã.")))
    elif rows:
        doc.add(it(_("Chọn một việc để cập nhật tình trạng.")))
    if then is not None and then.lines:
        doc.blank().extend(then)
    ctx.reply(doc, rows, listed=True)


async def _unit_criteria(ctx: Context, unit: str) -> Doc:
    """How the criteria the unit answers for stand across the communes."""
    communes = await ctx.deps.communes.all()
    board = await load_board(ctx.deps.kb, ctx.deps.db, ctx.today, ctx.now.tzinfo, communes)
    return unit_criteria(ctx.tr, ctx.deps.kb, board, unit)


async def _commune_task_counts(ctx: Context, marks: dict[TaskKey, TaskMark]) -> None:
    _ = ctx.tr
    communes = await ctx.deps.communes.all()
    doc = Doc().add(b(_("Việc mỗi xã phải làm")))
    for task in ctx.deps.kb.tasks_of(COMMUNES):
        states = Counter(
            m.status for c in communes if (m := marks.get((task.id, c.id))) is not None
        )
        due = format_date(ctx.deps.kb.due(task), "dd/MM/yyyy", locale=ctx.lang)
        doc.bullet(
            task_title(task, ctx.tr),
            " — ",
            _("hạn {date}", date=due),
            ": ",
            b(
                _(
                    "{done}/{total} xã đã hoàn thành, {blocked} vướng mắc",
                    done=states[TaskStatus.DONE],
                    total=len(communes),
                    blocked=states[TaskStatus.BLOCKED],
                )
            ),
        )
    ctx.reply(doc)


def _pick_button(ctx: Context, n: int, task: TaskEntry, commune_id: int | None) -> Choice:
    title = task_title(task, ctx.tr)
    full = f"{n}. {title}"
    return Choice(full[:40], Pick(task.id, commune_id).encode(), full=full)


# -- marking ----------------------------------------------------------------------------------


def _may_mark(ctx: Context, task: TaskEntry, commune_id: int | None) -> bool:
    if ctx.is_office:
        return True
    if ctx.is_unit:
        return task.owner == ctx.user.unit_key and commune_id is None
    return (
        ctx.is_officer
        and task.owner == COMMUNES
        and commune_id is not None
        and ctx.user.commune_id == commune_id
    )


async def on_action(ctx: Context, text: str) -> None:
    _ = ctx.tr
    action = decode(text)
    if isinstance(action, Pick):
        task = ctx.deps.kb.task(action.task_id)
        if task is None:
            ctx.reply(_("Việc này không còn trong Kế hoạch. Gõ /viec để xem lại danh sách."))
            return
        commune_id = action.commune_id if task.owner == COMMUNES else None
        if task.owner == COMMUNES and commune_id is None:
            return
        if not _may_mark(ctx, task, commune_id):
            if ctx.is_unit:
                ctx.reply(_("Bạn chỉ cập nhật được việc của đơn vị mình."))
            else:
                ctx.reply(_("Bạn chỉ cập nhật được việc của xã mình."))
            return
        state = TaskDialog(task=task.id, commune_id=commune_id, office=ctx.is_office)
        await ctx.set_dialog(state)
        await _ask_status(ctx, task, state)
        return
    if isinstance(action, SetStatus):
        dialog = _state(ctx)
        if dialog is None:
            ctx.reply(_("Phiên cập nhật này đã kết thúc. Gõ /viec để chọn lại."))
            return
        await _chosen(ctx, dialog, action.status)


def _state(ctx: Context) -> TaskDialog | None:
    return ctx.dialog_state(TaskDialog)


async def _ask_status(ctx: Context, task: TaskEntry, state: TaskDialog) -> None:
    _ = ctx.tr
    marks = await TaskProgressRepo(ctx.deps.db).current()
    mark = marks.get((task.id, state.commune_id))
    doc = Doc().add(b(task_title(task, ctx.tr)))
    where = owner_name(ctx.deps.kb, task, ctx.tr)
    if state.commune_id is not None:
        commune = await ctx.deps.communes.get(state.commune_id)
        where = _("xã {name}", name=commune.name if commune else "?")
    doc.add(_("Của: {who}", who=where)).add(*_line(ctx, task, mark)[2:])
    doc.add(_("Tình trạng hiện nay?"))
    choices = [
        [Choice(_("Đã hoàn thành"), SetStatus(TaskStatus.DONE).encode())],
        [Choice(_("Đang thực hiện"), SetStatus(TaskStatus.IN_PROGRESS).encode())],
        [Choice(_("Vướng mắc"), SetStatus(TaskStatus.BLOCKED).encode())],
    ]
    if ctx.is_office and mark is not None and mark.status is not TaskStatus.OPEN:
        choices.append([Choice(_("Mở lại"), SetStatus(TaskStatus.OPEN).encode())])
    ctx.reply(doc, choices)


async def _chosen(ctx: Context, state: TaskDialog, status: TaskStatus) -> None:
    _ = ctx.tr
    task = ctx.deps.kb.task(state.task)
    if task is None or not _may_mark(ctx, task, state.commune_id):
        await ctx.end_dialog()
        ctx.reply(_("Phiên cập nhật này đã kết thúc. Gõ /viec để chọn lại."))
        return
    if status is TaskStatus.OPEN and not ctx.is_office:
        return
    if status is TaskStatus.IN_PROGRESS:
        state.step = TaskStep.PERCENT
        await ctx.set_dialog(state)
        ctx.reply(
            Doc()
            .add(b(_("Đã làm được bao nhiêu phần trăm?")))
            .add(it(_("Gõ một số từ 0 đến 100 (ví dụ 60), hoặc một ghi chú ngắn.")))
        )
        return
    if status is TaskStatus.BLOCKED:
        state.step = TaskStep.REASON
        await ctx.set_dialog(state)
        ctx.reply(b(_("Vướng mắc gì? Xin ghi ngắn gọn để Văn phòng NTM huyện hỗ trợ.")))
        return
    await _save(ctx, task, state, status)


async def _save(
    ctx: Context,
    task: TaskEntry,
    state: TaskDialog,
    status: TaskStatus,
    *,
    percent: int | None = None,
    note: str | None = None,
) -> None:
    _ = ctx.tr
    key = (task.id, state.commune_id)
    mark = await TaskProgressRepo(ctx.deps.db).mark(
        key,
        status,
        percent=percent,
        note=note,
        by_user=ctx.user.id,
        channel=ctx.incoming.channel,
        now=ctx.now,
    )
    photos = await MediaRepo(ctx.deps.db).still_kept(state.photos, ctx.user.id)
    if photos:
        await MediaRepo(ctx.deps.db).link_mark(mark.id, photos)
    await AuditLog(ctx.deps.db).add(
        ctx.user.id,
        "task.mark",
        {"task": task.id, "commune_id": state.commune_id, "status": status.value,
         "percent": percent, "note": note},
        ctx.now,
    )  # fmt: skip
    await ctx.end_dialog()
    state_text = state_phrase(ctx.tr, mark, ctx.deps.kb.due(task), ctx.today, ctx.now.tzinfo)
    ctx.reply(
        Doc()
        .add(b(_("Đã cập nhật: {task}", task=task_title(task, ctx.tr))))
        .add(_("Tình trạng: {state}.", state=state_text))
    )
    if note and status is not TaskStatus.BLOCKED:  # (a blocked task's reason is in its state)
        ctx.replies[-1].doc.add(_("Ghi chú: {note}", note=note))
    if photos:
        ctx.replies[-1].doc.add("📷 ", _("Kèm {count} ảnh.", count=len(photos)))
    ctx.replies[-1].doc.add(it(_("Văn phòng NTM huyện sẽ thấy cập nhật này. Gõ /viec để xem lại.")))


class Marking:
    state = TaskDialog

    def allows(self, ctx: Context) -> bool:
        state = _state(ctx)
        if state is None:
            return True  # damaged: on_text ends it with an explanation
        task = ctx.deps.kb.task(state.task)
        return task is not None and _may_mark(ctx, task, state.commune_id)

    @staticmethod
    async def _open(ctx: Context) -> tuple[TaskDialog, TaskEntry] | None:
        """The task being marked; ``None`` (the dialog ended, and said so) if it is gone."""
        state = _state(ctx)
        task = ctx.deps.kb.task(state.task) if state else None
        if state is None or task is None:
            await ctx.end_dialog()
            ctx.reply(ctx.tr("Phiên cập nhật này đã kết thúc. Gõ /viec để chọn lại."))
            return None
        return state, task

    async def on_text(self, ctx: Context, text: str) -> None:
        _ = ctx.tr
        opened = await self._open(ctx)
        if opened is None:
            return
        state, task = opened
        word = fold(text).strip(" .!")
        typed = (ctx.incoming.text or text).strip()
        if state.step is TaskStep.STATUS:
            status = status_from_words(text)
            if status is None:
                ctx.reply(_("Xin chọn một tình trạng trong danh sách."))
                await _ask_status(ctx, task, state)
                return
            await _chosen(ctx, state, status)
        elif state.step is TaskStep.PERCENT:
            number = word.rstrip("%").strip()
            if number.isdigit():
                if int(number) > 100:
                    ctx.reply(_("Xin nhập một số từ 0 đến 100."))
                    return
                await _save(ctx, task, state, TaskStatus.IN_PROGRESS, percent=int(number))
                return
            if len(typed) > MAX_NOTE:
                ctx.reply(_("Ghi chú dài quá {limit} ký tự; xin viết ngắn hơn.", limit=MAX_NOTE))
                return
            # "đã xong 5 xã, đạt khoảng 40 %": the share in the words, and the words as a note
            share = _DONE_SHARE.search(word)  # "đạt 40%", not "còn 30% chưa làm"
            percent = int(share[1]) if share and int(share[1]) <= 100 else None
            await _save(ctx, task, state, TaskStatus.IN_PROGRESS, percent=percent, note=typed)
        else:  # the reason it is blocked
            if len(typed) < 3:
                ctx.reply(_("Xin ghi lý do vướng mắc (ít nhất vài chữ)."))
                return
            if len(typed) > MAX_NOTE:
                ctx.reply(_("Ghi chú dài quá {limit} ký tự; xin viết ngắn hơn.", limit=MAX_NOTE))
                return
            await _save(ctx, task, state, TaskStatus.BLOCKED, note=typed)

    async def on_files(self, ctx: Context, uploads: tuple[Upload, ...]) -> None:
        """Photos sent while a task is being marked go with the mark (up to ``MAX_PHOTOS``)."""
        _ = ctx.tr
        opened = await self._open(ctx)
        if opened is None:
            return
        state, _task = opened
        for upload in uploads:
            if upload.refused is not None:
                ctx.say("⚠️ ", refusal(ctx.tr, upload, ctx.deps.upload_limits))
            elif (
                upload.media_id is not None
                and upload.media_id not in state.photos
                and len(state.photos) < MAX_PHOTOS
            ):
                state.photos.append(upload.media_id)
        await ctx.set_dialog(state)
        if state.photos:
            ctx.say(
                "📷 ",
                _(
                    "Đã nhận {count} ảnh; ảnh được lưu cùng cập nhật này khi bạn trả lời.",
                    count=len(state.photos),
                ),
            )
        await self.remind(ctx)
        if state.step is TaskStep.PERCENT:
            ctx.reply(_("Đã làm được bao nhiêu phần trăm?"))
        elif state.step is TaskStep.REASON:
            ctx.reply(_("Vướng mắc gì? Xin ghi ngắn gọn để Văn phòng NTM huyện hỗ trợ."))

    async def on_expired(self, ctx: Context) -> None:
        ctx.reply(ctx.tr("Phiên cập nhật việc trước đã hết hạn; chưa có gì được lưu. Gõ /viec."))

    async def remind(self, ctx: Context) -> None:
        state = _state(ctx)
        task = ctx.deps.kb.task(state.task) if state else None
        if state is not None and task is not None and state.step is TaskStep.STATUS:
            await _ask_status(ctx, task, state)
