"""Guided report dialogs driven by the form definitions (``knowledge/data/forms``).

One field at a time, with its unit and an example; Vietnamese number forms are accepted; a bad
answer is explained and asked again. ``/quaylai`` goes back a step, ``/huy`` cancels, and the
summary offers Send / Edit a field / Cancel. Sending stores the report as the next version of
its series in the same transaction as the update (one report, however often the update is
delivered) and answers with a receipt and the comparison with the plan's target.

The dialog state (``dialogs`` table, kind ``report``) survives restarts:
``{"form", "commune_id", "answers", "mode", "edit", "office"}`` where ``answers`` maps a step
(``population``, or ``ocop_name.1`` for the second repetition) to its value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from babel.numbers import format_decimal

from handlers.broadcast import send_notice
from handlers.core import ADMIN, OFFICER, STAFF, Context, Conversation
from handlers.i18n import N_, Tr
from handlers.parsing import ParseError, parse_date, parse_number, read_number
from handlers.report_view import (
    capital,
    changed_values,
    display_value,
    figure_label,
    figure_value,
    local_time,
    period_label,
    submitter_name,
    target_lines,
)
from handlers.richtext import Doc, b, it
from handlers.types import Choice
from knowledge.form_rules import Step, compute, compute_all, current_period, steps_of, target_met
from knowledge.forms import (
    ACTION_FIELD,
    ACTION_FORM,
    ACTION_OPTION,
    Form,
    FormField,
)
from knowledge.normalize import find_phrase, fold, words
from storage.communes import Commune
from storage.reports import AuditLog, Report, ReportRepo

KIND = "report"
REPORTERS = frozenset({ADMIN, STAFF, OFFICER})
SKIP_WORDS = {"bo qua", "boqua", "/boqua", "skip", "-", "khong co", "khong"}
BACK_WORDS = {"quay lai", "quaylai", "/quaylai", "back", "tro lai", "lui"}
KEEP_WORDS = {"dung", "dung roi", "dung vay", "giu", "ok", "co", "yes", "correct", "keep"}
CANCEL_WORDS = {"huy", "/huy", "cancel", "huy bo", "thoat"}


class ReportDialog:
    kind = KIND

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
        previous = conv.fallback

        async def by_words(ctx: Context, text: str) -> None:
            """ "báo cáo BHYT", "tôi muốn báo cáo bhyt", or "BHYT" typed at the form menu."""
            if ctx.role in REPORTERS and not ctx.incoming.is_group:
                form = form_named(ctx, text)
                if form is not None and (
                    _ASKS_TO_REPORT.match(fold(text)) or await _at_form_menu(ctx)
                ):
                    await self.start(ctx, form.id)
                    return
            if previous is not None:
                await previous(ctx, text)

        conv.fallback = by_words

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
            [Choice(c.name, f"rep:commune:{c.id}") for c in communes[i : i + 3]]
            for i in range(0, len(communes), 3)
        ]
        ctx.reply(_("Báo cáo thay cho xã nào? Chọn xã hoặc gõ tên xã."), rows)
        state: dict[str, Any] = {"mode": "commune", "office": True}
        if form is not None:
            state["form"] = form.id  # asked for by name: once the commune is known, begin
        await ctx.set_dialog(KIND, state)

    def offer_forms(self, ctx: Context, commune: Commune) -> None:
        _ = ctx.tr
        forms = list(ctx.deps.kb.forms.values())
        doc = Doc().add(b(_("Báo cáo của xã {commune}", commune=commune.name)))
        doc.add(_("Chọn mẫu báo cáo:"))
        rows = [
            [Choice(self._title(ctx, f), ACTION_FORM.format(commune=commune.id, form=f.id))]
            for f in forms
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
            ctx.reply(_("Mẫu báo cáo này không còn. Gõ /baocao để chọn lại."))
            return
        if ctx.is_officer and ctx.user.commune_id != commune_id:
            ctx.reply(_("Bạn chỉ báo cáo được cho xã của mình."))
            return
        state = {
            "form": form.id,
            "commune_id": commune.id,
            "answers": {},
            "mode": "fields",
            "edit": None,
            "office": not ctx.is_officer,
        }
        await ctx.set_dialog(KIND, state)
        intro = form.intro_en if ctx.lang == "en" else form.intro
        doc = Doc().add(b(f"{self._title(ctx, form)} — {commune.name}")).add(intro)
        doc.add(it(_("Trả lời từng câu. Gõ /quaylai để quay lại câu trước, /huy để hủy.")))
        ctx.reply(doc)
        await self._ask(ctx, form, state)

    # -- dialog protocol ------------------------------------------------------------------------
    async def on_text(self, ctx: Context, text: str) -> None:
        state = self._state(ctx)
        word = fold(text).strip()
        if word in CANCEL_WORDS:
            await ctx.conv.run_command(ctx, "huy", "")
            return
        if state.get("mode") == "commune":
            await self._commune_typed(ctx, text)
            return
        if state.get("mode") == "pick_form":
            commune = await ctx.deps.communes.get(int(state.get("commune_id", 0)))
            if commune is not None:
                named = form_named(ctx, text)
                if named is not None:
                    await self._begin(ctx, commune.id, named.id)
                    return
                ctx.reply(ctx.tr("Xin chọn mẫu báo cáo trong danh sách."))
                self.offer_forms(ctx, commune)
                return
        form = ctx.deps.kb.forms.get(state.get("form", ""))
        if form is None:
            await ctx.end_dialog()
            ctx.reply(ctx.tr("Mẫu báo cáo này không còn. Gõ /baocao để chọn lại."))
            return
        if word in BACK_WORDS:
            await self.back(ctx, "")
            return
        mode = state["mode"]
        if state.get("check"):
            if word in KEEP_WORDS:
                await self._settle_check(ctx, form, state, keep=True)
                return
            state.pop("check", None)  # anything else is a new answer to the same question
            step = self._current(form, state)
            if step is not None:
                await self._answer(ctx, form, state, step, text)
                return
        if mode == "confirm":
            await self._confirm_typed(ctx, form, state, word)
            return
        if mode == "edit_pick":
            ctx.reply(ctx.tr("Xin chọn câu cần sửa trong danh sách (gõ số thứ tự)."))
            await self._show_edit_pick(ctx, form, state)
            return
        step = self._current(form, state)
        if step is None:
            await self._summary(ctx, form, state)
            return
        await self._answer(ctx, form, state, step, text)

    def allows(self, ctx: Context) -> bool:
        """Office entries need the office role now; an officer's, the same commune now."""
        assert ctx.dialog is not None
        state = ctx.dialog.state
        if state.get("office"):
            return ctx.is_office
        return ctx.is_officer and ctx.user.commune_id == state.get("commune_id")

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
        state = self._state(ctx)
        form = ctx.deps.kb.forms.get(state.get("form", ""))
        if form is None or state.get("mode") in ("commune", "pick_form"):
            return
        ctx.reply(it(ctx.tr("Bạn đang làm dở báo cáo “{title}”.", title=self._title(ctx, form))))
        await self._ask(ctx, form, state)

    async def back(self, ctx: Context, args: str) -> None:
        _ = ctx.tr
        if ctx.dialog is None or ctx.dialog.kind != KIND:
            ctx.reply(_("Không có báo cáo nào đang làm dở."))
            return
        state = self._state(ctx)
        form = ctx.deps.kb.forms.get(state.get("form", ""))
        if form is None:
            return
        state.pop("check", None)
        if state["mode"] in ("confirm", "edit_pick", "edit_field"):
            state["mode"], state["edit"] = "fields", None
        answers = state["answers"]
        steps = steps_of(form, answers)
        current = self._current(form, state)
        position = len(steps) if current is None else steps.index(current)
        if position == 0:
            ctx.reply(_("Đây là câu hỏi đầu tiên."))
        else:
            answers.pop(steps[position - 1].key, None)
        await ctx.set_dialog(KIND, state)
        await self._ask(ctx, form, state)

    # -- actions (buttons, or their numbers and words) -------------------------------------------
    async def on_action(self, ctx: Context, action: str) -> None:
        _ = ctx.tr
        parts = action.split(":")
        verb = parts[1] if len(parts) > 1 else ""
        if verb == "commune" and len(parts) == 3 and parts[2].isdigit():
            if not ctx.is_office:
                ctx.reply(_("Bạn chỉ báo cáo được cho xã của mình."))
                return
            commune = await ctx.deps.communes.get(int(parts[2]))
            if commune is None:
                return
            chosen = (ctx.dialog.state.get("form") if ctx.dialog else None) or ""
            if chosen in ctx.deps.kb.forms:
                await self._begin(ctx, commune.id, chosen)
                return
            await ctx.set_dialog(
                KIND, {"mode": "pick_form", "office": True, "commune_id": commune.id}
            )
            self.offer_forms(ctx, commune)
            return
        if verb == "form" and len(parts) == 4 and parts[2].isdigit():
            await self._begin(ctx, int(parts[2]), parts[3])
            return
        if ctx.dialog is None or ctx.dialog.kind != KIND:
            ctx.reply(_("Báo cáo này đã kết thúc hoặc hết hạn. Gõ /baocao để bắt đầu lại."))
            return
        state = self._state(ctx)
        form = ctx.deps.kb.forms.get(state.get("form", ""))
        if form is None:
            return
        if verb in ("keep", "retype"):
            await self._settle_check(ctx, form, state, keep=verb == "keep")
        elif verb == "send":
            await self._send(ctx, form, state)
        elif verb == "edit":
            state["mode"] = "edit_pick"
            await ctx.set_dialog(KIND, state)
            await self._show_edit_pick(ctx, form, state)
        elif verb == "field" and len(parts) == 3:
            steps = {s.key: s for s in steps_of(form, state["answers"])}
            if parts[2] in steps:
                state["mode"], state["edit"] = "edit_field", parts[2]
                await ctx.set_dialog(KIND, state)
                await self._ask(ctx, form, state)
        elif verb == "cancel":
            await ctx.conv.run_command(ctx, "huy", "")
        elif verb == "back":
            await self.back(ctx, "")
        elif verb == "skip":
            step = self._current(form, state)
            if step is not None:
                await self._answer(ctx, form, state, step, "-")
        elif verb in ("opt", "ind") and len(parts) >= 3:
            step = self._current(form, state)
            if step is not None:
                await self._answer(ctx, form, state, step, None, chosen=":".join(parts[2:]))

    # -- asking and answering ----------------------------------------------------------------------
    @staticmethod
    def _state(ctx: Context) -> dict[str, Any]:
        assert ctx.dialog is not None
        state: dict[str, Any] = dict(ctx.dialog.state)
        state.setdefault("answers", {})
        state.setdefault("mode", "fields")
        return state

    @staticmethod
    def _current(form: Form, state: dict[str, Any]) -> Step | None:
        steps = steps_of(form, state["answers"])
        if state.get("mode") == "edit_field" and state.get("edit"):
            return next((s for s in steps if s.key == state["edit"]), None)
        return next((s for s in steps if s.key not in state["answers"]), None)

    async def _ask(
        self, ctx: Context, form: Form, state: dict[str, Any], problem: str | None = None
    ) -> None:
        """Ask the current question; ``problem`` explains why the last answer was refused."""
        step = self._current(form, state)
        if step is None or state.get("mode") == "confirm":
            await self._summary(ctx, form, state)
            return
        _ = ctx.tr
        en = ctx.lang == "en"
        item = step.field
        steps = steps_of(form, state["answers"])
        number = steps.index(step) + 1
        label = item.label_en if en else item.label
        if step.index is not None:
            label += f" ({step.index + 1})"
        doc = Doc()
        if problem:
            doc.add("⚠️ ", b(problem)).add(_("Xin nhập lại:"))
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
        if not item.required:
            doc.add(it(_("Không bắt buộc: gõ “bỏ qua” nếu không có.")))
        choices: list[list[Choice]] = []
        if item.type == "choice":
            choices = [
                [Choice(o.label_en if en else o.label, ACTION_OPTION.format(value=o.value))]
                for o in item.options
            ]
        elif item.type == "indicator":
            choices = self._indicator_choices(ctx, item.level)
        if not item.required and choices:
            choices.append([Choice(_("Bỏ qua"), "rep:skip")])
        ctx.reply(doc, choices)

    async def _questioned(
        self, ctx: Context, form: Form, state: dict[str, Any], step: Step, value: Any
    ) -> bool:
        """A value far from the commune's previous report is questioned once before it is
        taken ("khác nhiều so với lần trước (12.500) — đúng chưa?")."""
        item = step.field
        if item.change_alert is None or not isinstance(value, int | float):
            return False
        confirmed = state.get("confirmed") or {}
        if confirmed.get(step.key) == value:
            return False
        previous = await self._previous_value(ctx, form, state, step.key)
        if previous is None or previous == 0:
            return False
        if abs(value - previous) / abs(previous) <= item.change_alert:
            return False
        _ = ctx.tr
        state["check"] = {"key": step.key, "value": value}
        await ctx.set_dialog(KIND, state)
        name = item.name_en if ctx.lang == "en" else item.name
        ctx.reply(
            _(
                "{name} {value} khác nhiều so với lần báo cáo trước ({previous}) — đúng chưa?",
                name=capital(name),
                value=display_value(ctx, item, value),
                previous=display_value(ctx, item, previous),
            ),
            [[Choice(_("Đúng, giữ số này"), "rep:keep"), Choice(_("Nhập lại"), "rep:retype")]],
        )
        return True

    async def _previous_value(
        self, ctx: Context, form: Form, state: dict[str, Any], key: str
    ) -> float | None:
        """The field's value in the commune's newest earlier report of this form (any period)."""
        reports = await ReportRepo(ctx.deps.db).latest(
            commune_id=int(state["commune_id"]), form_id=form.id
        )
        subject = ""
        if form.subject_field:
            subject = str(state["answers"].get(form.subject_field, ""))
        earlier = [r for r in reports if r.subject == subject and r.answers.get(key) is not None]
        if not earlier:
            return None
        newest = max(earlier, key=lambda r: (r.period, r.version))
        value = newest.answers[key]
        return float(value) if isinstance(value, int | float) else None

    async def _settle_check(
        self, ctx: Context, form: Form, state: dict[str, Any], keep: bool
    ) -> None:
        """The answer to "đúng chưa?": keep the questioned value, or ask the question again."""
        check = state.pop("check", None) or {}
        step = self._current(form, state)
        if keep and step is not None and step.key == check.get("key"):
            state.setdefault("confirmed", {})[step.key] = check["value"]
            await self._answer(ctx, form, state, step, str(check["value"]).replace(".", ","))
            return
        await ctx.set_dialog(KIND, state)
        await self._ask(ctx, form, state)

    @staticmethod
    def _indicator_choices(
        ctx: Context, level: str, parent: str | None = None
    ) -> list[list[Choice]]:
        kb = ctx.deps.kb
        en = ctx.lang == "en"
        if parent is None:
            labels = [
                (f"{i.label}. {i.name_en if en else i.name}", f"rep:ind:{i.code}")
                for i in kb.top_level(level)
            ]
        else:
            ind = kb.indicators[parent]
            whole = ctx.tr("Cả tiêu chí {label}", label=ind.label)
            labels = [(whole, f"rep:ind:{ind.code}:whole")] + [
                (f"{c.label} {c.name_en if en else c.name}", f"rep:ind:{c.code}")
                for c in (kb.indicators[code] for code in ind.children)
            ]
        return [
            [Choice(label[:38], action, full=label) for label, action in labels[i : i + 2]]
            for i in range(0, len(labels), 2)
        ]

    async def _answer(
        self,
        ctx: Context,
        form: Form,
        state: dict[str, Any],
        step: Step,
        text: str | None,
        chosen: str | None = None,
    ) -> None:
        _ = ctx.tr
        item = step.field
        answers: dict[str, Any] = state["answers"]
        raw = (text or "").strip()
        if chosen is None and not item.required and fold(raw) in SKIP_WORDS:
            value: Any = None
        else:
            try:
                value = self._validate(ctx, form, answers, step, raw, chosen)
            except _Invalid as problem:
                if problem.choices:
                    ctx.reply(problem.message, problem.choices)
                else:
                    await self._ask(ctx, form, state, problem=problem.message)
                return
        if await self._questioned(ctx, form, state, step, value):
            return
        answers[step.key] = value
        if value is not None and item.type in ("integer", "number", "percent") and raw:
            try:
                unusual = read_number(raw, integer=item.type == "integer")[1]
            except ParseError:
                unusual = False
            if unusual:  # "12,5 nghìn", "mười hai nghìn", "khoảng 12000": say what was read
                ctx.reply(
                    it(
                        _(
                            "Đã ghi {name}: {value}.",
                            name=item.name_en if ctx.lang == "en" else item.name,
                            value=display_value(ctx, item, value),
                        )
                    )
                )
        if state.get("mode") == "edit_field":
            state["edit"] = None
            pending = [s for s in steps_of(form, answers) if s.key not in answers]
            state["mode"] = "fields" if pending else "confirm"
        elif self._current(form, state) is None:
            state["mode"] = "confirm"
        await ctx.set_dialog(KIND, state)
        await self._ask(ctx, form, state)

    def _validate(
        self,
        ctx: Context,
        form: Form,
        answers: dict[str, Any],
        step: Step,
        raw: str,
        chosen: str | None,
    ) -> Any:
        """The value to store for ``raw`` (or the choice ``chosen``), or :class:`_Invalid`
        explaining why not: one validator per field type (:attr:`VALIDATORS`)."""
        item = step.field
        if item.type == "choice":
            return self._choice_value(ctx, item, raw, chosen)
        if item.type == "indicator":
            return self._indicator_value(ctx, item, raw, chosen)
        if not raw:
            name = item.name_en if ctx.lang == "en" else item.name
            raise _Invalid(ctx.tr("Xin nhập {name}.", name=name))
        return self.VALIDATORS[item.type](self, ctx, form, answers, item, raw)

    def _text_value(
        self, ctx: Context, form: Form, answers: dict[str, Any], item: FormField, raw: str
    ) -> Any:
        _ = ctx.tr
        if len(raw) > item.max_length:
            raise _Invalid(
                _(
                    "Nội dung dài {length} ký tự, quá giới hạn {limit} ký tự. Xin viết ngắn hơn.",
                    length=len(raw),
                    limit=item.max_length,
                )
            )
        return text_verbatim(ctx)

    def _date_value(
        self, ctx: Context, form: Form, answers: dict[str, Any], item: FormField, raw: str
    ) -> Any:
        _ = ctx.tr
        try:
            day = parse_date(raw, ctx.today)
        except ParseError:
            raise _Invalid(
                _(
                    "“{value}” không phải là ngày hợp lệ. Xin nhập theo dạng "
                    "ngày/tháng/năm, ví dụ 30/10/2021.",
                    value=raw[:40],
                )
            ) from None
        if not 2000 <= day.year <= 2100:
            raise _Invalid(_("Năm {year} không hợp lệ.", year=day.year))
        return day.isoformat()

    def _number_value(
        self, ctx: Context, form: Form, answers: dict[str, Any], item: FormField, raw: str
    ) -> Any:
        _ = ctx.tr
        en = ctx.lang == "en"
        name = item.name_en if en else item.name
        integer = item.type == "integer"
        try:
            number = parse_number(raw, integer=integer)
        except ParseError as problem:
            if problem.code == "negative":
                raise _Invalid(_("{name} không thể là số âm.", name=capital(name))) from None
            if problem.code == "not_an_integer":
                raise _Invalid(
                    _(
                        "{name} phải là số nguyên (không có phần thập phân), ví dụ 12.500.",
                        name=capital(name),
                    )
                ) from None
            if problem.code == "percent_for_count":
                raise _Invalid(
                    _(
                        "{name} là một số đếm, không phải tỷ lệ phần trăm. Xin nhập {name_lower}, "
                        "ví dụ {example}.",
                        name=capital(name),
                        name_lower=name,
                        example=item.example or "12.500",
                    )
                ) from None
            raise _Invalid(
                _(
                    "“{value}” không phải là số. Xin nhập {name} bằng chữ số, ví dụ {example}.",
                    value=raw[:40],
                    name=name,
                    example=item.example or "12.500",
                )
            ) from None
        lowest, highest = item.min, item.max
        if item.type == "percent":
            lowest = 0 if lowest is None else lowest
            highest = 100 if highest is None else highest
        if lowest is not None and number < lowest:
            raise _Invalid(
                _(
                    "{name} ({value}) không được nhỏ hơn {limit}.",
                    name=capital(name),
                    value=self._num(ctx, number),
                    limit=self._num(ctx, lowest),
                )
            )
        if highest is not None and number > highest:
            raise _Invalid(
                _(
                    "{name} ({value}) không được lớn hơn {limit}.",
                    name=capital(name),
                    value=self._num(ctx, number),
                    limit=self._num(ctx, highest),
                )
            )
        for ref, larger in ((item.max_field, True), (item.min_field, False)):
            if ref is None or answers.get(ref) is None:
                continue
            other = form.field(ref)
            other_name = other.name_en if en else other.name
            bound = float(answers[ref])
            if larger and number > bound:
                raise _Invalid(
                    _(
                        "{name} ({value}) không được lớn hơn {other} ({bound}).",
                        name=capital(name),
                        value=self._num(ctx, number),
                        other=other_name,
                        bound=self._num(ctx, bound),
                    )
                )
            if not larger and number < bound:
                raise _Invalid(
                    _(
                        "{name} ({value}) không được nhỏ hơn {other} ({bound}).",
                        name=capital(name),
                        value=self._num(ctx, number),
                        other=other_name,
                        bound=self._num(ctx, bound),
                    )
                )
        return int(number) if integer else number

    VALIDATORS: ClassVar[dict[str, Callable[..., Any]]] = {
        "text": _text_value,
        "date": _date_value,
        "integer": _number_value,
        "number": _number_value,
        "percent": _number_value,
    }

    def _choice_value(self, ctx: Context, item: FormField, raw: str, chosen: str | None) -> str:
        _ = ctx.tr
        values = {o.value for o in item.options}
        if chosen is not None and chosen in values:
            return chosen
        folded = fold(raw).strip(" .")
        for option in item.options:
            names = {fold(option.label), fold(option.label_en), *(fold(w) for w in option.words)}
            if folded in names:
                return option.value
        # Words that only one option contains ("chờ xếp hạng" → "Đang chờ xếp hạng").
        if len(folded) >= 3:
            containing = {
                o.value
                for o in item.options
                for name in (o.label, o.label_en, *o.words)
                if folded in fold(name)
            }
            if len(containing) == 1:
                return containing.pop()
        en = ctx.lang == "en"
        labels = ", ".join(o.label_en if en else o.label for o in item.options)
        raise _Invalid(_("Xin chọn một trong các lựa chọn: {labels}.", labels=labels))

    def _indicator_value(self, ctx: Context, item: FormField, raw: str, chosen: str | None) -> str:
        _ = ctx.tr
        kb = ctx.deps.kb
        code = None
        whole = chosen is not None and chosen.endswith(":whole")
        if whole and chosen is not None:
            chosen = chosen.removesuffix(":whole")
        if chosen is not None and chosen in kb.indicators:
            code = chosen
            if not whole and not kb.indicators[code].is_sub and kb.indicators[code].children:
                # A criterion with sub-indicators: ask which one (or the whole criterion).
                raise _Invalid(
                    _(
                        "Tiêu chí {label} có các chỉ tiêu; chọn cả tiêu chí hoặc một chỉ tiêu:",
                        label=kb.indicators[code].label,
                    ),
                    self._indicator_choices(ctx, item.level, parent=code),
                )
        else:
            digits = fold(raw).replace(",", ".").strip(" .")
            for prefix in ("tieu chi so", "tieu chi", "chi tieu", "noi dung", "tc"):
                digits = digits.removeprefix(prefix).strip()
            candidate = f"{item.level}:{digits}"
            if candidate in kb.indicators:
                code = candidate
            else:
                answer = ctx.deps.qa.engine.analyze(raw, ctx.today)
                codes = [
                    t.topic[4:] for t in answer.topics if t.topic.startswith(f"ind:{item.level}:")
                ]
                if codes:
                    code = codes[0]
        if code is None:
            raise _Invalid(
                _(
                    "Không nhận ra tiêu chí “{value}”. Gõ số tiêu chí (ví dụ 17 hoặc "
                    "17.4) hoặc chọn trong danh sách.",
                    value=raw[:40],
                )
            )
        return code

    @staticmethod
    def _num(ctx: Context, value: float) -> str:
        return format_decimal(value, locale=ctx.lang)

    # -- summary, editing, sending ---------------------------------------------------------------
    def values_doc(self, ctx: Context, form: Form, answers: dict[str, Any]) -> Doc:
        doc = Doc()
        en = ctx.lang == "en"
        for step in steps_of(form, answers):
            label = step.field.label_en if en else step.field.label
            if step.index is not None:
                label += f" ({step.index + 1})"
            doc.bullet(f"{label}: ", b(display_value(ctx, step.field, answers.get(step.key))))
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

    async def _summary(self, ctx: Context, form: Form, state: dict[str, Any]) -> None:
        _ = ctx.tr
        if state.get("mode") != "confirm":
            state["mode"] = "confirm"
            await ctx.set_dialog(KIND, state)
        commune = await ctx.deps.communes.get(state["commune_id"])
        doc = Doc().add(
            b(
                _(
                    "Kiểm tra trước khi gửi — {title}, xã {commune}",
                    title=self._title(ctx, form),
                    commune=commune.name if commune else "?",
                )
            )
        )
        doc.extend(self.values_doc(ctx, form, state["answers"]))
        for line in target_lines(ctx, form, compute_all(form, state["answers"])):
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
                    Choice(_("Gửi báo cáo"), "rep:send"),
                    Choice(_("Sửa"), "rep:edit"),
                    Choice(_("Hủy"), "rep:cancel"),
                ]
            ],
        )

    async def _existing(self, ctx: Context, form: Form, state: dict[str, Any]) -> Report | None:
        """The report this one would replace (same commune, form, subject and period)."""
        answers = state["answers"]
        subject = str(answers.get(form.subject_field, "")) if form.subject_field else ""
        return await ReportRepo(ctx.deps.db).current_of(
            int(state["commune_id"]), form.id, subject, current_period(form, ctx.today)
        )

    async def _confirm_typed(
        self, ctx: Context, form: Form, state: dict[str, Any], word: str
    ) -> None:
        _ = ctx.tr
        if word in ("gui", "gui bao cao", "send", "ok", "dong y", "xac nhan"):
            await self._send(ctx, form, state)
        elif word in ("sua", "edit", "chinh sua"):
            await self.on_action(ctx, "rep:edit")
        else:
            ctx.reply(_("Báo cáo chưa được gửi. Chọn “Gửi báo cáo”, “Sửa” hoặc “Hủy”."))
            await self._summary(ctx, form, state)

    async def _show_edit_pick(self, ctx: Context, form: Form, state: dict[str, Any]) -> None:
        _ = ctx.tr
        en = ctx.lang == "en"
        rows = []
        for step in steps_of(form, state["answers"]):
            label = step.field.label_en if en else step.field.label
            if step.index is not None:
                label += f" ({step.index + 1})"
            rows.append([Choice(label[:60], ACTION_FIELD.format(key=step.key), full=label)])
        rows.append([Choice(_("◀ Quay lại"), "rep:back")])
        ctx.reply(_("Chọn câu cần sửa:"), rows)

    async def _send(self, ctx: Context, form: Form, state: dict[str, Any]) -> None:
        _ = ctx.tr
        answers = state["answers"]
        if any(s.key not in answers for s in steps_of(form, answers)):
            state["mode"] = "fields"
            await ctx.set_dialog(KIND, state)
            await self._ask(ctx, form, state)
            return
        commune_id = int(state["commune_id"])
        if ctx.is_officer and ctx.user.commune_id != commune_id:
            await ctx.end_dialog()
            ctx.reply(_("Bạn chỉ báo cáo được cho xã của mình."))
            return
        kept = {s.key: answers[s.key] for s in steps_of(form, answers)}
        computed = compute(form, kept)
        results = compute_all(form, kept)
        verdicts = [
            met for met in (target_met(t, results) for t in form.targets) if met is not None
        ]
        subject = str(kept.get(form.subject_field, "")) if form.subject_field else ""
        period = current_period(form, ctx.today)
        replaced = await ReportRepo(ctx.deps.db).current_of(commune_id, form.id, subject, period)
        report = await ReportRepo(ctx.deps.db).add(
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
        await AuditLog(ctx.deps.db).add(
            ctx.user.id,
            "report.submit",
            {
                "report": report.number,
                "form": form.id,
                "commune_id": commune_id,
                "version": report.version,
                "office": bool(state.get("office")),
            },
            ctx.now,
        )
        await ctx.end_dialog()
        commune = await ctx.deps.communes.get(commune_id)
        ctx.reply(self.receipt(ctx, form, report, commune.name if commune else "?"))
        if replaced is not None and replaced.submitted_by != ctx.user.id:
            await self._tell_replaced(ctx, form, replaced, report, commune)

    def receipt(self, ctx: Context, form: Form, report: Report, commune: str) -> Doc:
        _ = ctx.tr
        period = period_label(report.period, ctx.tr)
        where = f"{commune}, {period}" if period else commune
        doc = Doc().add(b(_("Đã nhận báo cáo số {number}", number=report.number)))
        doc.add(_("{title} — xã {where}.", title=self._title(ctx, form), where=where))
        if report.version > 1 and report.supersedes is not None:
            from storage.reports import report_number

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

    async def _commune_typed(self, ctx: Context, text: str) -> None:
        _ = ctx.tr
        from handlers.communes import find_commune

        communes = await ctx.deps.communes.all()
        exact, candidates = find_commune(text, communes)
        if exact is not None:
            await self.on_action(ctx, f"rep:commune:{exact.id}")
            return
        if candidates:
            ctx.reply(
                _("Ý bạn là xã nào?"),
                [[Choice(c.name, f"rep:commune:{c.id}")] for c in candidates[:5]],
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
            phrase = words(name)
            if not phrase or find_phrase(tokens, phrase) is None:
                continue
            if len(phrase) > best_length:
                best, best_length, tied = form, len(phrase), False
            elif len(phrase) == best_length and best is not form:
                tied = True
    return None if tied else best


async def _at_form_menu(ctx: Context) -> bool:
    """The last choices offered were the report forms."""
    stored = await ctx.deps.menus.get(ctx.user.id)
    return stored is not None and any(a.startswith("rep:form:") for _l, a in stored[0])


class _Invalid(Exception):
    """An answer that cannot be taken: what to tell the user (and choices to offer)."""

    def __init__(self, message: str, choices: list[list[Choice]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.choices = choices or []


def text_verbatim(ctx: Context) -> str:
    """Free text is stored exactly as typed (only the message itself, nothing trimmed)."""
    return ctx.incoming.text or ""
