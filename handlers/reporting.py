"""Guided report dialogs driven by the form definitions (``knowledge/data/forms``).

One field at a time, with its unit and an example; Vietnamese number forms are accepted; a bad
answer is explained and asked again. ``/quaylai`` goes back a step, ``/huy`` cancels, and the
summary offers Send / Edit a field / Cancel. Sending stores the report as the next version of
its series in the same transaction as the update (one report, however often the update is
delivered) and answers with a receipt and the comparison with the plan's target.

The dialog's state is a :class:`~handlers.report_state.ReportState` (a mode and the answers so
far), stored in the ``dialogs`` table so it survives restarts; buttons carry typed actions
(:mod:`handlers.form_actions`); answers are checked by :mod:`handlers.report_validation`.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from babel.numbers import format_decimal

from handlers.broadcast import send_notice
from handlers.core import COMMUNE_PEOPLE, Context, Conversation
from handlers.form_actions import (
    Do,
    EditField,
    ForCommune,
    PickIndicator,
    PickOption,
    ReportAction,
    StartForm,
    Verb,
    decode,
    encode,
)
from handlers.i18n import N_, Tr
from handlers.report_evidence import record_report_evidence
from handlers.report_photos import DONE_WORDS, how_to_send, refusal
from handlers.report_state import Check, Mode, ReportState
from handlers.report_validation import Given, Invalid, validate
from handlers.report_view import (
    capital,
    changed_values,
    display_value,
    figure_label,
    figure_value,
    indicator_choices,
    local_time,
    period_label,
    submitter_name,
    target_lines,
)
from handlers.richtext import Doc, b, it
from handlers.task_view import task_title
from handlers.types import Choice, Upload
from knowledge.form_rules import (
    Step,
    compute,
    compute_all,
    current_period,
    steps_of,
    target_met,
)
from knowledge.forms import Form
from knowledge.normalize import find_phrase, fold, words
from storage.communes import Commune
from storage.media import MediaRepo
from storage.reports import AuditLog, Report, ReportRepo, report_number
from storage.tasks import TaskMark, TaskStatus

KIND = ReportState.kind
REPORTERS = COMMUNE_PEOPLE
CLEAR_WORDS = {"xoa anh", "xoa het anh", "xoa het", "gui lai anh", "gui lai tu dau", "clear"}
SKIP_WORDS = {"bo qua", "boqua", "/boqua", "skip", "-", "khong co", "khong"}
BACK_WORDS = {"quay lai", "quaylai", "/quaylai", "back", "tro lai", "lui"}
KEEP_WORDS = {"dung", "dung roi", "dung vay", "giu", "ok", "co", "yes", "correct", "keep"}
SEND_WORDS = {"gui", "gui bao cao", "send", "ok", "dong y", "xac nhan"}
EDIT_WORDS = {"sua", "edit", "chinh sua"}
ENDED = N_("Báo cáo này đã kết thúc hoặc hết hạn. Gõ /baocao để bắt đầu lại.")
NO_FORM = N_("Mẫu báo cáo này không còn. Gõ /baocao để chọn lại.")


def _done_label(ctx: Context, count: int) -> str:
    return ctx.tr.n("Xong ({count} tệp)", "Xong ({count} tệp)", count, count=count)


def button(label: str, action: ReportAction, full: str | None = None) -> Choice:
    return Choice(label, encode(action), full=full)


class ReportDialog:
    state = ReportState

    def setup(self, conv: Conversation) -> None:
        conv.command(
            "baocao",
            self.start,
            N_("Báo cáo tiến độ của xã"),
            roles=REPORTERS,
            keeps_dialog=False,
            aliases=("report",),
            private_only=True,
        )
        conv.command(
            "quaylai",
            self.back,
            N_("Quay lại câu hỏi trước (khi đang báo cáo)"),
            roles=REPORTERS,
            listed=False,
            aliases=("back",),
            private_only=True,
        )
        conv.action("rep", self.on_action, roles=REPORTERS, private_only=True)
        conv.dialog(self)

    async def by_words(self, ctx: Context, text: str) -> bool:
        """ "báo cáo BHYT", "tôi muốn báo cáo bhyt", or "BHYT" typed at the form menu
        (free text: it begins that form)."""
        if ctx.role not in REPORTERS or ctx.incoming.is_group:
            return False
        form = form_named(ctx, text)
        if form is None or not (_ASKS_TO_REPORT.match(fold(text)) or await _at_form_menu(ctx)):
            return False
        await self.start(ctx, form.id)
        return True

    # -- entry --------------------------------------------------------------------------------
    async def start(self, ctx: Context, args: str) -> None:
        _ = ctx.tr
        if ctx.dialog is not None and ctx.dialog.kind == KIND:
            await ctx.end_dialog()
            ctx.reply(_("Đã bỏ báo cáo đang làm dở; bắt đầu lại."))
        form = form_named(ctx, args) if args.strip() else None
        if args.strip() and form is None:
            ctx.reply(_("Không có mẫu báo cáo “{name}”; xin chọn trong danh sách.", name=args[:40]))
        if ctx.is_officer:
            commune = await ctx.commune()
            if commune is None:
                ctx.reply(_("Không tìm thấy xã của bạn; xin liên hệ Văn phòng NTM huyện."))
                return
            if form is not None:  # "/baocao bhyt": straight to its first question
                await self._begin(ctx, commune.id, form.id)
                return
            self.offer_forms(ctx, commune)
            return
        # Office staff may enter a report a commune gave by phone or on paper.
        communes = await ctx.deps.communes.all()
        rows = [
            [button(c.name, ForCommune(c.id)) for c in communes[i : i + 3]]
            for i in range(0, len(communes), 3)
        ]
        ctx.reply(_("Báo cáo thay cho xã nào? Chọn xã hoặc gõ tên xã."), rows)
        # asked for by name: once the commune is known, begin
        state = ReportState(mode=Mode.COMMUNE, office=True, form=form.id if form else "")
        await self._save(ctx, state)

    def offer_forms(self, ctx: Context, commune: Commune) -> None:
        _ = ctx.tr
        doc = Doc().add(b(_("Báo cáo của xã {commune}", commune=commune.name)))
        doc.add(_("Chọn mẫu báo cáo:"))
        rows = [
            [button(self._title(ctx, f), StartForm(commune.id, f.id))]
            for f in ctx.deps.kb.forms.values()
        ]
        ctx.reply(doc, rows)

    @staticmethod
    def _title(ctx: Context, form: Form) -> str:
        return form.title_en if ctx.lang == "en" else form.title

    async def _begin(self, ctx: Context, commune_id: int, form_id: str) -> None:
        _ = ctx.tr
        form = ctx.deps.kb.forms.get(form_id)
        commune = await ctx.deps.communes.get(commune_id)
        if form is None or commune is None:
            ctx.reply(_(NO_FORM))
            return
        if ctx.is_officer and ctx.user.commune_id != commune_id:
            ctx.reply(_("Bạn chỉ báo cáo được cho xã của mình."))
            return
        state = ReportState(form=form.id, commune_id=commune.id, office=not ctx.is_officer)
        await self._save(ctx, state)
        intro = form.intro_en if ctx.lang == "en" else form.intro
        doc = Doc().add(b(f"{self._title(ctx, form)} — {commune.name}")).add(intro)
        doc.add(it(_("Trả lời từng câu. Gõ /quaylai để quay lại câu trước, /huy để hủy.")))
        ctx.lead(doc)
        await self._ask(ctx, form, state)

    # -- dialog protocol ------------------------------------------------------------------------
    async def on_text(self, ctx: Context, text: str) -> None:
        word = fold(text).strip()
        state = await self._state(ctx)
        if state is None:
            return
        if state.mode == Mode.COMMUNE:
            await self._commune_typed(ctx, text)
            return
        if state.mode == Mode.PICK_FORM:
            await self._form_typed(ctx, state, text)
            return
        form = await self._form(ctx, state)
        if form is None:
            return
        if word in BACK_WORDS:
            await self.back(ctx, "")
            return
        if state.check is not None:
            if word in KEEP_WORDS:
                await self._settle_check(ctx, form, state, keep=True)
                return
            state.check = None  # anything else is a new answer to the same question
        match state.mode:
            case Mode.CONFIRM:
                await self._confirm_typed(ctx, form, state, word)
            case Mode.EDIT_PICK:
                ctx.reply(ctx.tr("Xin chọn câu cần sửa trong danh sách (gõ số thứ tự)."))
                await self._show_edit_pick(ctx, form, state)
            case _:
                step = state.current(form)
                if step is None:
                    await self._summary(ctx, form, state)
                elif step.field.type == "photo":
                    await self._photo_words(ctx, form, state, step, word)
                else:
                    await self._answer(ctx, form, state, step, Given(text.strip()))

    # -- photos ---------------------------------------------------------------------------
    async def on_files(self, ctx: Context, uploads: tuple[Upload, ...]) -> None:
        """Photos or files sent during the report: kept for the photo question being asked;
        at any other question, said to be not needed there (nothing is attached)."""
        _ = ctx.tr
        state = await self._state(ctx)
        form = None if state is None else await self._form(ctx, state)
        if state is None or form is None:
            return
        step = state.current(form) if state.mode in (Mode.FIELDS, Mode.EDIT_FIELD) else None
        if step is None or step.field.type != "photo":
            ctx.reply(_("Câu hỏi lúc này không cần ảnh nên ảnh chưa được lưu vào báo cáo."))
            await self._ask(ctx, form, state)
            return
        item = step.field
        await self._gather_for(ctx, form, state, step)
        limits = ctx.deps.upload_limits
        notes = [refusal(ctx.tr, u, limits) for u in uploads if u.refused is not None]
        repeated = 0
        for upload in uploads:
            if upload.media_id is None:
                continue
            if upload.media_id in state.photos:
                repeated += 1
            elif len(state.photos) < item.max_count:
                state.photos.append(upload.media_id)
            else:
                notes.append(
                    _("Đã đủ {most} tệp; tệp gửi thêm không được lưu.", most=item.max_count)
                )
                break
        if repeated:
            notes.append(_("Ảnh này đã gửi rồi (không tính hai lần)."))
        for note in notes:
            ctx.say("⚠️ ", note)
        if len(state.photos) >= item.max_count:
            ctx.say("📷 ", _("Đã đủ tối đa {most} tệp.", most=item.max_count))
            await self._take(ctx, form, state, step, list(state.photos))
            return
        await self._save(ctx, state)
        have = len(state.photos)
        if not have:
            await self._ask(ctx, form, state)
            return
        # A short receipt, not the whole question again (an album arrives photo by photo).
        doc = Doc().add("📷 ", ctx.tr.n(
            "Đã có {count} tệp. Gửi thêm, hoặc gõ “xong”.",
            "Đã có {count} tệp. Gửi thêm, hoặc gõ “xong”.", have, count=have,
        ))  # fmt: skip
        choices = []
        if have >= item.min_count:
            choices.append([button(_done_label(ctx, have), Do(Verb.PHOTOS_DONE))])
        ctx.reply(doc, choices, wants_files=True)

    async def _gather_for(self, ctx: Context, form: Form, state: ReportState, step: Step) -> None:
        """Start gathering photos for ``step`` once: with its answer when it is being edited,
        else with the photos of the report this one corrects (a correction keeps them unless
        the officer clears them), else none."""
        if state.photo_key == step.key:
            return
        state.photo_key = step.key
        answered = state.answers.get(step.key)
        if isinstance(answered, list):
            state.photos = [int(i) for i in answered]
            return
        state.photos = []
        existing = await self._existing(ctx, form, state)
        earlier = existing.answers.get(step.key) if existing is not None else None
        if isinstance(earlier, list) and earlier:
            state.photos = [int(i) for i in earlier][: step.field.max_count]

    async def _photo_words(
        self, ctx: Context, form: Form, state: ReportState, step: Step, word: str
    ) -> None:
        """Text at the photo question: "xong" ends it, "bỏ qua" skips it (if allowed)."""
        _ = ctx.tr
        item = step.field
        await self._gather_for(ctx, form, state, step)
        have = len(state.photos)
        if word in CLEAR_WORDS:
            state.photos = []
            await self._save(ctx, state)
            await self._ask(ctx, form, state, _("Đã bỏ các ảnh đã gửi cho câu này; xin gửi lại."))
        elif word in DONE_WORDS and have >= item.min_count:
            await self._take(ctx, form, state, step, list(state.photos))
        elif word in SKIP_WORDS and not item.required:
            await self._take(ctx, form, state, step, None)
        elif word in DONE_WORDS and have == 0 and not item.required:
            await self._ask(
                ctx, form, state, _("Chưa nhận được ảnh nào. Gõ “bỏ qua” nếu không gửi ảnh.")
            )
        elif word in DONE_WORDS:
            await self._ask(
                ctx,
                form,
                state,
                _("Cần ít nhất {least} tệp; mới nhận {count}.", least=item.min_count, count=have),
            )
        else:
            await self._ask(ctx, form, state, _("Câu này cần ảnh, không cần gõ chữ."))

    def allows(self, ctx: Context) -> bool:
        """Office entries need the office role now; an officer's, the same commune now."""
        state = ctx.dialog_state(ReportState)
        if state is None:
            return True  # damaged: every path ends it with its own explanation (_state)
        if state.office:
            return ctx.is_office
        return ctx.is_officer and ctx.user.commune_id == state.commune_id

    async def on_expired(self, ctx: Context) -> None:
        _ = ctx.tr
        hours = int(ctx.deps.dialog_ttl.total_seconds() // 3600)
        ctx.reply(
            _(
                "Phiên báo cáo trước đã hết hạn sau {hours} giờ không có trả lời; dữ liệu "
                "chưa gửi không được lưu. Gõ /baocao để làm lại.",
                hours=hours,
            )
        )

    async def remind(self, ctx: Context) -> None:
        state = ctx.dialog_state(ReportState)
        if state is None or not state.mode.has_form:
            return
        form = ctx.deps.kb.forms.get(state.form)
        if form is None:
            return
        ctx.reply(it(ctx.tr("Bạn đang làm dở báo cáo “{title}”.", title=self._title(ctx, form))))
        await self._ask(ctx, form, state)

    async def back(self, ctx: Context, args: str) -> None:
        _ = ctx.tr
        if ctx.dialog is None or ctx.dialog.kind != KIND:
            ctx.reply(_("Không có báo cáo nào đang làm dở."))
            return
        state = await self._state(ctx)
        form = None if state is None else await self._form(ctx, state)
        if state is None or form is None:
            return
        state.check = None
        state.back_to_fields()
        steps = state.steps(form)
        current = state.current(form)
        position = len(steps) if current is None else steps.index(current)
        if position == 0:
            ctx.reply(_("Đây là câu hỏi đầu tiên."))
        else:
            previous = steps[position - 1]
            answered = state.answers.pop(previous.key, None)
            if previous.field.type == "photo":  # back to the photos: they are still there
                state.photo_key = previous.key
                state.photos = [int(i) for i in answered] if isinstance(answered, list) else []
        await self._save(ctx, state)
        await self._ask(ctx, form, state)

    # -- actions (buttons, or their numbers and words) -------------------------------------------
    async def on_action(self, ctx: Context, text: str) -> None:
        _ = ctx.tr
        action = decode(text)
        if action is None:
            return  # a forged or outdated button: nothing to do
        match action:
            case ForCommune(commune_id):
                await self._for_commune(ctx, commune_id)
                return
            case StartForm(commune_id, form_id):
                await self._begin(ctx, commune_id, form_id)
                return
        if ctx.dialog is None or ctx.dialog.kind != KIND:
            ctx.reply(_(ENDED))
            return
        state = await self._state(ctx)
        form = None if state is None else await self._form(ctx, state)
        if state is None or form is None:
            return
        match action:
            case Do(Verb.KEEP | Verb.RETYPE as verb):
                await self._settle_check(ctx, form, state, keep=verb == Verb.KEEP)
            case Do(Verb.SEND):
                await self._send(ctx, form, state)
            case Do(Verb.EDIT):
                state.mode = Mode.EDIT_PICK
                await self._save(ctx, state)
                await self._show_edit_pick(ctx, form, state)
            case Do(Verb.CANCEL):
                await ctx.conv.run_command(ctx, "huy", "")
            case Do(Verb.BACK):
                await self.back(ctx, "")
            case Do(Verb.SKIP):
                step = state.current(form)
                if step is not None and not step.field.required:
                    await self._take(ctx, form, state, step, None)
            case Do(Verb.PHOTOS_DONE):
                step = state.current(form)
                if step is not None and step.field.type == "photo":
                    await self._photo_words(ctx, form, state, step, "xong")
            case EditField(key):
                if any(s.key == key for s in state.steps(form)):
                    state.mode, state.edit, state.photo_key = Mode.EDIT_FIELD, key, None
                    await self._save(ctx, state)
                    await self._ask(ctx, form, state)
            case PickOption(value):
                await self._tapped(ctx, form, state, Given("", chosen=value), "choice")
            case PickIndicator(code, whole):
                given = Given("", chosen=code, whole=whole)
                await self._tapped(ctx, form, state, given, "indicator")

    async def _for_commune(self, ctx: Context, commune_id: int) -> None:
        if not ctx.is_office:
            ctx.reply(ctx.tr("Bạn chỉ báo cáo được cho xã của mình."))
            return
        commune = await ctx.deps.communes.get(commune_id)
        if commune is None:
            return
        # a form asked for by name before the commune was chosen ("/baocao bhyt" by the office)
        asked = ctx.dialog_state(ReportState)
        chosen = asked.form if asked is not None else ""
        if chosen in ctx.deps.kb.forms:
            await self._begin(ctx, commune.id, chosen)
            return
        await self._save(ctx, ReportState(mode=Mode.PICK_FORM, office=True, commune_id=commune.id))
        self.offer_forms(ctx, commune)

    async def _tapped(
        self, ctx: Context, form: Form, state: ReportState, given: Given, kind: str
    ) -> None:
        """A tapped option answers the current question only if it is that kind of question
        (an old button from an earlier question is ignored)."""
        step = state.current(form)
        if step is None or step.field.type != kind:
            return
        if state.mode in (Mode.FIELDS, Mode.EDIT_FIELD):
            await self._answer(ctx, form, state, step, given)

    # -- asking and answering ----------------------------------------------------------------------
    async def _state(self, ctx: Context) -> ReportState | None:
        """The open dialog's state; a damaged one ends the dialog with an explanation."""
        state = ctx.dialog_state(ReportState)
        if state is None:
            await ctx.end_dialog()
            ctx.reply(ctx.tr(ENDED))
        return state

    async def _form(self, ctx: Context, state: ReportState) -> Form | None:
        form = ctx.deps.kb.forms.get(state.form)
        if form is None:  # the form was removed from the data since the dialog began
            await ctx.end_dialog()
            ctx.reply(ctx.tr(NO_FORM))
        return form

    @staticmethod
    async def _save(ctx: Context, state: ReportState) -> None:
        await ctx.set_dialog(state)

    async def _ask(
        self, ctx: Context, form: Form, state: ReportState, problem: str | None = None
    ) -> None:
        """Ask the current question; ``problem`` explains why the last answer was refused."""
        step = state.current(form)
        if step is None or state.mode == Mode.CONFIRM:
            await self._summary(ctx, form, state)
            return
        _ = ctx.tr
        en = ctx.lang == "en"
        item = step.field
        steps = state.steps(form)
        doc = Doc()
        if problem:
            doc.add("⚠️ ", b(problem)).add(_("Xin nhập lại:"))
        label = _step_label(ctx, step)
        number = steps.index(step) + 1
        doc.add(b(_("Câu {n}/{total}: {label}", n=number, total=len(steps), label=label)))
        unit = item.unit_en if en else item.unit
        if unit:
            doc.add(_("Đơn vị: {unit}", unit=unit))
        hint = item.help_en if en else item.help
        if hint:
            doc.add(hint)
        example = (item.example_en if en else None) or item.example
        if example:
            doc.add(it(_("Ví dụ: {example}", example=example)))
        if item.type == "photo":
            await self._gather_for(ctx, form, state, step)
            await self._save(ctx, state)
            doc.add(how_to_send(ctx.tr, item, len(state.photos)))
        if not item.required:
            doc.add(it(_("Không bắt buộc: gõ “bỏ qua” nếu không có.")))
        choices: list[list[Choice]] = []
        if item.type == "photo" and len(state.photos) >= item.min_count:
            choices = [[button(_done_label(ctx, len(state.photos)), Do(Verb.PHOTOS_DONE))]]
        if item.type == "choice":
            choices = [
                [button(o.label_en if en else o.label, PickOption(o.value))] for o in item.options
            ]
        elif item.type == "indicator":
            choices = indicator_choices(ctx, item.level)
        if not item.required and (choices or item.type == "photo"):
            choices.append([button(_("Bỏ qua"), Do(Verb.SKIP))])
        ctx.reply(doc, choices, wants_files=item.type == "photo")

    async def _answer(
        self, ctx: Context, form: Form, state: ReportState, step: Step, given: Given
    ) -> None:
        """Validate an answer to ``step``; take it, or explain and ask again."""
        item = step.field
        if given.chosen is None and not item.required and fold(given.raw) in SKIP_WORDS:
            await self._take(ctx, form, state, step, None)
            return
        try:
            accepted = validate(
                ctx, form, step, Given(given.raw, given.chosen, given.whole, state.answers)
            )
        except Invalid as problem:
            if problem.choices:
                ctx.reply(problem.message, problem.choices)
            else:
                await self._ask(ctx, form, state, problem=problem.message)
            return
        if await self._questioned(ctx, form, state, step, accepted.value):
            return
        await self._take(ctx, form, state, step, accepted.value, echo=accepted.echo)

    async def _take(
        self,
        ctx: Context,
        form: Form,
        state: ReportState,
        step: Step,
        value: Any,
        *,
        echo: bool = False,
    ) -> None:
        """Store a valid answer and go on to the next question (or the summary); ``echo``
        says what was read from an unusually written number."""
        item = step.field
        state.answers[step.key] = value
        if state.photo_key == step.key:  # its photos are the answer now
            state.photos, state.photo_key = [], None
        if echo and value is not None:
            name = item.name_en if ctx.lang == "en" else item.name
            shown = display_value(ctx, item, value)
            ctx.reply(it(ctx.tr("Đã ghi {name}: {value}.", name=name, value=shown)))
        state.after_answer(form)
        await self._save(ctx, state)
        await self._ask(ctx, form, state)

    async def _questioned(
        self, ctx: Context, form: Form, state: ReportState, step: Step, value: Any
    ) -> bool:
        """A value far from the commune's previous report is questioned once before it is
        taken ("khác nhiều so với lần trước (12.500) — đúng chưa?")."""
        item = step.field
        if item.change_alert is None or not isinstance(value, int | float):
            return False
        if state.confirmed.get(step.key) == value:
            return False
        previous = await self._previous_value(ctx, form, state, step.key)
        if previous is None or previous == 0:
            return False
        if abs(value - previous) / abs(previous) <= item.change_alert:
            return False
        _ = ctx.tr
        state.check = Check(key=step.key, value=value)
        await self._save(ctx, state)
        name = item.name_en if ctx.lang == "en" else item.name
        ctx.reply(
            _(
                "{name} {value} khác nhiều so với lần báo cáo trước ({previous}) — đúng chưa?",
                name=capital(name),
                value=display_value(ctx, item, value),
                previous=display_value(ctx, item, previous),
            ),
            [
                [
                    button(_("Đúng, giữ số này"), Do(Verb.KEEP)),
                    button(_("Nhập lại"), Do(Verb.RETYPE)),
                ]
            ],
        )
        return True

    async def _previous_value(
        self, ctx: Context, form: Form, state: ReportState, key: str
    ) -> float | None:
        """The field's value in the commune's newest earlier report of this form (any period)."""
        reports = await ReportRepo(ctx.deps.db).latest(commune_id=state.commune_id, form_id=form.id)
        subject = state.subject(form)
        earlier = [r for r in reports if r.subject == subject and r.answers.get(key) is not None]
        if not earlier:
            return None
        newest = max(earlier, key=lambda r: (r.period, r.version))
        value = newest.answers[key]
        return float(value) if isinstance(value, int | float) else None

    async def _settle_check(self, ctx: Context, form: Form, state: ReportState, keep: bool) -> None:
        """The answer to "đúng chưa?": keep the questioned value, or ask the question again."""
        check, state.check = state.check, None
        step = state.current(form)
        if keep and check is not None and step is not None and step.key == check.key:
            state.confirmed[step.key] = check.value
            value = int(check.value) if step.field.type == "integer" else check.value
            await self._take(ctx, form, state, step, value)
            return
        await self._save(ctx, state)
        await self._ask(ctx, form, state)

    # -- summary, editing, sending ---------------------------------------------------------------
    def values_doc(self, ctx: Context, form: Form, answers: dict[str, Any]) -> Doc:
        doc = Doc()
        en = ctx.lang == "en"
        for step in steps_of(form, answers):
            shown = display_value(ctx, step.field, answers.get(step.key))
            doc.bullet(f"{_step_label(ctx, step)}: ", b(shown))
        computed = compute(form, answers)
        for item in form.computed:
            value = computed.get(item.key)
            label = item.label_en if en else item.label
            shown = (
                "—"
                if value is None
                else format_decimal(round(value, item.decimals), locale=ctx.lang)
                + (item.unit or "")
            )
            doc.bullet(f"{label}: ", b(shown))
        return doc

    async def _summary(self, ctx: Context, form: Form, state: ReportState) -> None:
        _ = ctx.tr
        if state.mode != Mode.CONFIRM:
            state.mode = Mode.CONFIRM
            await self._save(ctx, state)
        commune = await ctx.deps.communes.get(state.commune_id)
        doc = Doc().add(
            b(
                _(
                    "Kiểm tra trước khi gửi — {title}, xã {commune}",
                    title=self._title(ctx, form),
                    commune=commune.name if commune else "?",
                )
            )
        )
        doc.extend(self.values_doc(ctx, form, state.answers))
        for line in target_lines(ctx, form, compute_all(form, state.answers)):
            doc.add(*line)
        existing = await self._existing(ctx, form, state)
        if existing is not None:
            who = await submitter_name(ctx, existing.submitted_by)
            doc.blank().add(
                "ℹ️ ",
                _(
                    "Kỳ này đã có {number} do {who} gửi lúc {when}; gửi bản này sẽ thay thế "
                    "bản đó (bản cũ vẫn được lưu).",
                    number=existing.number,
                    who=who,
                    when=local_time(ctx, existing.submitted_at),
                ),
            )
        ctx.reply(
            doc,
            [
                [
                    button(_("Gửi báo cáo"), Do(Verb.SEND)),
                    button(_("Sửa"), Do(Verb.EDIT)),
                    button(_("Hủy"), Do(Verb.CANCEL)),
                ]
            ],
        )

    async def _existing(self, ctx: Context, form: Form, state: ReportState) -> Report | None:
        """The report this one would replace (same commune, form, subject and period)."""
        return await ReportRepo(ctx.deps.db).current_of(
            state.commune_id, form.id, state.subject(form), current_period(form, ctx.today)
        )

    async def _confirm_typed(self, ctx: Context, form: Form, state: ReportState, word: str) -> None:
        _ = ctx.tr
        if word in SEND_WORDS:
            await self._send(ctx, form, state)
        elif word in EDIT_WORDS:
            await self.on_action(ctx, encode(Do(Verb.EDIT)))
        else:
            ctx.reply(_("Báo cáo chưa được gửi. Chọn “Gửi báo cáo”, “Sửa” hoặc “Hủy”."))
            await self._summary(ctx, form, state)

    async def _show_edit_pick(self, ctx: Context, form: Form, state: ReportState) -> None:
        _ = ctx.tr
        rows = []
        for step in state.steps(form):
            label = _step_label(ctx, step)
            rows.append([button(label[:60], EditField(step.key), full=label)])
        rows.append([button(_("◀ Quay lại"), Do(Verb.BACK))])
        ctx.reply(_("Chọn câu cần sửa:"), rows)

    async def _send(self, ctx: Context, form: Form, state: ReportState) -> None:
        _ = ctx.tr
        answers = state.answers
        if state.pending(form):
            state.mode = Mode.FIELDS
            await self._save(ctx, state)
            await self._ask(ctx, form, state)
            return
        commune_id = state.commune_id
        if ctx.is_officer and ctx.user.commune_id != commune_id:
            await ctx.end_dialog()
            ctx.reply(_("Bạn chỉ báo cáo được cho xã của mình."))
            return
        kept = {s.key: answers[s.key] for s in steps_of(form, answers)}
        media = MediaRepo(ctx.deps.db)
        lost = 0
        for key, value in kept.items():
            if form.field(key.split(".")[0]).type == "photo" and isinstance(value, list):
                ids = [int(v) for v in value]
                kept[key] = await media.still_kept(ids, ctx.user.id, commune_id)
                lost += len(value) - len(kept[key])
        computed = compute(form, kept)
        results = compute_all(form, kept)
        verdicts = [
            met for met in (target_met(t, results) for t in form.targets) if met is not None
        ]
        subject = str(kept.get(form.subject_field, "")) if form.subject_field else ""
        period = current_period(form, ctx.today)
        repo = ReportRepo(ctx.deps.db)
        report = await repo.add(
            commune_id=commune_id,
            form_id=form.id,
            subject=subject,
            period=period,
            answers=kept,
            computed=computed,
            meets_target=all(verdicts) if verdicts else None,
            submitted_by=ctx.user.id,
            channel=ctx.incoming.channel,
            now=ctx.now,
            report_date=ctx.today,
        )
        for key, value in kept.items():
            if form.field(key.split(".")[0]).type == "photo" and isinstance(value, list):
                await media.link(report.id, key, value)
        await AuditLog(ctx.deps.db).add(
            ctx.user.id,
            "report.submit",
            {
                "report": report.number,
                "form": form.id,
                "commune_id": commune_id,
                "version": report.version,
                "office": state.office,
            },
            ctx.now,
        )
        commune = await ctx.deps.communes.get(commune_id)
        marks: list[TaskMark] = []
        if commune is not None:  # notes in the district's language: the office reads them
            district = Tr(ctx.deps.translator, ctx.deps.default_lang)
            marks = await record_report_evidence(
                ctx.deps.kb, ctx.deps.db, district, form, report, commune
            )
        await ctx.end_dialog()
        receipt = self.receipt(ctx, form, report, commune.name if commune else "?")
        for mark in marks:  # what the report changed in the commune's tasks
            task = ctx.deps.kb.task(mark.task_id)
            title = task_title(task, ctx.tr) if task else mark.task_id
            if mark.status is TaskStatus.DONE:
                receipt.add("☑️ ", _("Việc “{task}” của xã được ghi là đã hoàn thành.", task=title))
            else:
                receipt.add(
                    "⏳ ", _("Việc “{task}” của xã được ghi là chưa hoàn thành.", task=title)
                )
        attached = sum(
            len(v)
            for k, v in kept.items()
            if isinstance(v, list) and form.field(k.split(".")[0]).type == "photo"
        )
        if attached:
            receipt.add("📷 ", ctx.tr.n(
                "Kèm {count} tệp minh chứng (ảnh, PDF).", "Kèm {count} tệp minh chứng (ảnh, PDF).",
                attached, count=attached,
            ))  # fmt: skip
        if lost:
            receipt.add("⚠️ ", _(
                "{count} ảnh gửi từ nhiều ngày trước đã hết hạn lưu tạm nên không kèm theo báo "
                "cáo; xin gửi lại nếu cần.", count=lost,
            ))  # fmt: skip
        ctx.reply(receipt)
        # Looked up only for a correction (the same transaction: nothing changed in between).
        replaced = await repo.get(report.supersedes) if report.supersedes else None
        if replaced is not None and replaced.submitted_by != ctx.user.id:
            await self._tell_replaced(ctx, form, replaced, report, commune)

    def receipt(self, ctx: Context, form: Form, report: Report, commune: str) -> Doc:
        _ = ctx.tr
        period = period_label(report.period, ctx.tr)
        where = f"{commune}, {period}" if period else commune
        doc = Doc().add(b(_("Đã nhận báo cáo số {number}", number=report.number)))
        doc.add(_("{title} — xã {where}.", title=self._title(ctx, form), where=where))
        if report.version > 1 and report.supersedes is not None:
            doc.add(
                _(
                    "Đây là bản sửa lần {n}, thay cho báo cáo {previous}.",
                    n=report.version - 1,
                    previous=report_number(report.supersedes),
                )
            )
        values = compute_all(form, report.answers)
        for key in form.figures:  # what was received, in the words of the form
            if values.get(key) is not None:
                doc.add(
                    f"{figure_label(ctx, form, key)}: ", b(figure_value(ctx, form, key, values))
                )
        for line in target_lines(ctx, form, values):
            doc.add(*line)
        doc.add(it(_("Văn phòng NTM huyện đã nhận được. Cảm ơn bạn!")))
        return doc

    async def _tell_replaced(
        self,
        ctx: Context,
        form: Form,
        old: Report,
        new: Report,
        commune: Commune | None,
    ) -> None:
        """The officer whose report someone else replaced is told who, when and what changed."""
        deps = ctx.deps
        person = await deps.users.by_id(old.submitted_by)
        if person is None:
            return
        tr = Tr(deps.translator, person.lang or deps.default_lang)
        who = await submitter_name(ctx, ctx.user.id)
        lines = [
            tr(
                "Báo cáo {old} ({title}, xã {commune}) của bạn vừa được {who} thay bằng "
                "{new} lúc {when}.",
                old=old.number,
                title=form.title_en if tr.en else form.title,
                commune=commune.name if commune else "?",
                who=who,
                new=new.number,
                when=local_time(ctx, new.submitted_at),
            )
        ]
        changes = changed_values(ctx, form, old.answers, new.answers)
        if changes:
            lines.append(tr("Thay đổi: {changes}", changes="; ".join(changes)))
        key = f"replaced:{old.id}:{new.id}"
        title = tr("Báo cáo được thay thế")
        await send_notice(deps, person, key, title, lines, ctx.now, ctx.user.id)

    async def _form_typed(self, ctx: Context, state: ReportState, text: str) -> None:
        """The office, having chosen a commune, types a form's name instead of tapping it."""
        commune = await ctx.deps.communes.get(state.commune_id)
        if commune is None:
            await ctx.end_dialog()
            ctx.reply(ctx.tr(ENDED))
            return
        named = form_named(ctx, text)
        if named is not None:
            await self._begin(ctx, commune.id, named.id)
            return
        ctx.reply(ctx.tr("Xin chọn mẫu báo cáo trong danh sách."))
        self.offer_forms(ctx, commune)

    async def _commune_typed(self, ctx: Context, text: str) -> None:
        _ = ctx.tr
        from handlers.communes import find_commune

        communes = await ctx.deps.communes.all()
        exact, candidates = find_commune(text, communes)
        if exact is not None:
            await self._for_commune(ctx, exact.id)
            return
        if candidates:
            ctx.reply(
                _("Ý bạn là xã nào?"),
                [[button(c.name, ForCommune(c.id))] for c in candidates[:5]],
            )
            return
        ctx.reply(_("Không tìm thấy xã “{name}”. Xin gõ lại tên xã.", name=text[:40]))


# "báo cáo BHYT", "tôi muốn báo cáo bhyt", "em cần gửi báo cáo vệ sinh": a request to report
# (not "ai phụ trách báo cáo BHYT", a question).
_ASKS_TO_REPORT = re.compile(
    r"^(?:(?:toi|em|minh|xa|chung toi)\s+)?(?:(?:muon|can|xin|se|dang)\s+)?"
    r"(?:(?:gui|lam|nop|nhap)\s+)?bao\s*cao\b(?!\s+(?:cua|da|cu))"
)


def form_named(ctx: Context, text: str) -> Form | None:
    """The form whose id, title or words ``text`` contains (the longest match; none if tied)."""
    tokens = words(text)
    best: Form | None = None
    best_length, tied = 0, False
    for form in ctx.deps.kb.forms.values():
        for name in (form.id, form.title, form.title_en, *form.words):
            phrase = _phrase(name)
            if not phrase or find_phrase(tokens, phrase) is None:
                continue
            if len(phrase) > best_length:
                best, best_length, tied = form, len(phrase), False
            elif len(phrase) == best_length and best is not form:
                tied = True
    return None if tied else best


@functools.cache
def _phrase(name: str) -> tuple[str, ...]:
    """A form name's words (forms do not change while the bot runs; asked on every message)."""
    return tuple(words(name))


async def _at_form_menu(ctx: Context) -> bool:
    """The last choices offered were the report forms."""
    stored = await ctx.deps.menus.get(ctx.user.id)
    return stored is not None and any(isinstance(decode(a), StartForm) for _l, a in stored[0])


def _step_label(ctx: Context, step: Step) -> str:
    """A question's label, numbered for a repeated field ("Tên sản phẩm (2)")."""
    label = step.field.label_en if ctx.lang == "en" else step.field.label
    return label if step.index is None else f"{label} ({step.index + 1})"
