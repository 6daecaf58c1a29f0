"""The conversation core: one entry point for every channel.

``Conversation.handle`` takes an :class:`Incoming` and returns :class:`Reply` objects. It knows
users, roles, languages, commands, choices and dialogs, and nothing about Telegram or Zalo.
Feature modules (Q&A, browsing, registration, reporting, office views, subscriptions) register
their commands, actions and dialog kinds with :meth:`Conversation.command`,
:meth:`Conversation.action` and :meth:`Conversation.dialog`.

``Processor.process`` wraps one update in one unit of work: every effect, the redelivery check
and the replies (the ``processed_updates`` row) commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

from rapidfuzz import fuzz

from handlers.actions import prefix_of
from handlers.dialog_state import DialogState
from handlers.i18n import LANGS, N_, Tr, Translator
from handlers.richtext import Doc, Part, Span
from handlers.serialize import replies_to_payload
from handlers.types import Choice, Incoming, Reply, Upload, choice_numbers
from knowledge.base import KnowledgeBase
from knowledge.normalize import fold
from storage.communes import Commune, CommuneRepo
from storage.db import StorageUnavailable, Store
from storage.dialogs import DialogRepo, DialogRow, MenuRepo
from storage.photo_check import Limits
from storage.updates import ProcessedUpdates
from storage.users import User, UserRepo

S = TypeVar("S", bound=DialogState)
log = logging.getLogger(__name__)


class Role(StrEnum):
    """Who someone is to the bot (stored as its value: "officer", …)."""

    ADMIN = "admin"  # the office's administrators (invites, revocations, announcements)
    STAFF = "staff"  # the district NTM office
    OFFICER = "officer"  # a commune's officer: their commune only
    UNIT = "unit"  # a district unit's staff: their unit's tasks
    GUEST = "guest"  # not registered: questions only


ADMIN, STAFF, OFFICER, UNIT, GUEST = Role.ADMIN, Role.STAFF, Role.OFFICER, Role.UNIT, Role.GUEST
# The role sets, defined once.
EVERYONE = frozenset(Role)
ADMINS = frozenset({ADMIN})
OFFICE = frozenset({ADMIN, STAFF})
PEOPLE = frozenset({ADMIN, STAFF, OFFICER, UNIT})  # everyone registered
COMMUNE_PEOPLE = frozenset({ADMIN, STAFF, OFFICER})  # who see and report a commune's figures
DIALOG_UNREADABLE = N_(
    "Phần bạn đang làm dở không tiếp tục được nữa nên đã kết thúc; nội dung chưa gửi không "
    "được lưu. Xin bắt đầu lại."
)
# Typed in any dialog, these cancel it like /huy (folded: no diacritics, lower case).
CANCEL_WORDS = frozenset({"huy", "/huy", "cancel", "huy bo", "thoat"})
MENU_TTL = dt.timedelta(days=2)
_COMMAND = re.compile(r"^/([A-Za-z_][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


class ClockLike(Protocol):
    def now(self) -> dt.datetime: ...

    def today(self) -> dt.date: ...


@dataclass
class Deps:
    """Everything the conversation needs; assembled by ``bot.app``."""

    kb: KnowledgeBase
    translator: Translator
    db: Store
    clock: ClockLike
    admins: frozenset[tuple[str, str]] = frozenset()
    default_lang: str = "vi"
    dialog_ttl: dt.timedelta = dt.timedelta(hours=24)
    invite_ttl: dt.timedelta = dt.timedelta(days=7)
    # Set by a channel that can open the bot with an invite code in a link (Telegram's deep
    # link): the code → (the channel's name, the link).
    invite_link: Callable[[str], tuple[str, str]] | None = None
    # Filled in by the subscriptions module: lines about messages that did not reach people.
    delivery_report: Callable[[Context], Awaitable[list[tuple[Any, ...]]]] | None = None
    # Set by the runtime: wakes the sender up when a send-out was created.
    on_job_created: Callable[[], None] | None = None
    # Set by the runtime when the web view is served: the address sign-in links start with
    # (``NTM_PUBLIC_URL`` + ``/web``), and how long a link works.
    web_url: str | None = None
    # Why there is no web view, when there is none: "disabled" (NTM_WEB_ENABLED=false) or
    # "no_public_url" (nowhere for sign-in links to point).
    web_off: str | None = None
    web_link_ttl: dt.timedelta = dt.timedelta(minutes=10)
    # This instance's name where several share a database (default host:pid), and how long
    # its claim on replies it is sending holds before another instance may send them.
    instance: str | None = None
    reply_lease: dt.timedelta = dt.timedelta(seconds=60)
    # What a photo or file sent as evidence may be (the channels' intake checks it; the
    # dialog says the limits when it refuses one).
    upload_limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        from handlers.qa import QA

        self.qa = QA(self.kb, self.translator)
        self.users = UserRepo(self.db)
        self.communes = CommuneRepo(self.db)
        self.updates = ProcessedUpdates(self.db, self.instance)
        self.updates.lease = self.reply_lease
        self.dialogs = DialogRepo(self.db)
        self.menus = MenuRepo(self.db)

    async def flush(self) -> None:
        """Write what is batched in memory (at shutdown; it is otherwise written within ms)."""
        await self.updates.flush()
        await self.menus.flush()


@dataclass
class Context:
    """One update being handled: who, in which role and language, and the replies so far."""

    deps: Deps
    conv: Conversation
    incoming: Incoming
    user: User
    role: str
    lang: str
    now: dt.datetime
    lang_explicit: bool = False
    replies: list[Reply] = field(default_factory=list)
    dialog: DialogRow | None = None
    _leading: bool = field(default=False, repr=False)
    # The replies leave the choices last offered as they were ("7" still picks from the list
    # shown before a stray photo).
    keeps_menu: bool = False

    @property
    def tr(self) -> Tr:
        return Tr(self.deps.translator, self.lang)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_office(self) -> bool:
        return self.role in OFFICE

    @property
    def is_officer(self) -> bool:
        return self.role == OFFICER

    @property
    def is_unit(self) -> bool:
        """Staff of a district unit (``user.unit_key``)."""
        return self.role == UNIT

    def reply(
        self,
        doc: Doc | str | Span,
        choices: list[list[Choice]] | None = None,
        **kwargs: Any,
    ) -> Reply:
        if isinstance(doc, str | Span):
            doc = Doc().add(doc)
        if self._leading:
            self._leading = False
            if self.replies and not (kwargs.get("photo") or kwargs.get("document")):
                head = self.replies.pop()
                doc = Doc(list(head.doc.lines)).blank().extend(doc)
        reply = Reply(doc, choices or [], **kwargs)
        self.replies.append(reply)
        return reply

    def lead(self, doc: Doc | str | Span) -> None:
        """Say ``doc`` at the head of the next reply, in the same message (a form's
        introduction with its first question): one message to read, one send less. It goes
        alone if nothing follows, or if what follows is a photo or a file."""
        self.reply(doc)
        self._leading = True

    def say(self, *parts: Part) -> Reply:
        return self.reply(Doc().add(*parts))

    async def commune(self) -> Commune | None:
        if self.user.commune_id is None:
            return None
        return await self.deps.communes.get(self.user.commune_id)

    # dialog state helpers (stored in the same transaction as the rest of the update)
    async def set_dialog(self, state: DialogState) -> None:
        """Open (or move on) the dialog ``state`` belongs to."""
        stored = state.dump()
        await self.deps.dialogs.save(self.user.id, state.kind, stored, self.now)
        self.dialog = DialogRow(self.user.id, state.kind, stored, self.now, self.now)

    def dialog_state(self, cls: type[S]) -> S | None:
        """The open dialog's state if it is a ``cls`` dialog (typed), else ``None``."""
        if self.dialog is None:
            return None
        return cls.load(self.dialog.kind, self.dialog.state)

    async def end_dialog(self) -> None:
        await self.deps.dialogs.delete(self.user.id)
        self.dialog = None


CommandHandler = Callable[[Context, str], Awaitable[None]]
# Free text no command, button or dialog took: ``True`` if this handler answered it.
FreeTextHandler = Callable[[Context, str], Awaitable[bool]]
ActionHandler = Callable[[Context, str], Awaitable[None]]


class DialogHandler(Protocol):
    """A multi-step conversation whose state lives in the ``dialogs`` table: ``state`` is the
    :class:`~handlers.dialog_state.DialogState` it declares (its kind, its steps)."""

    @property
    def state(self) -> type[DialogState]: ...

    async def on_text(self, ctx: Context, text: str) -> None: ...

    async def on_expired(self, ctx: Context) -> None: ...

    async def remind(self, ctx: Context) -> None: ...

    def allows(self, ctx: Context) -> bool:
        """Whether the user, in their current role and commune, may go on with this dialog."""
        ...


@runtime_checkable
class TakesFiles(Protocol):
    """A dialog that has a use for photos or files sent while it is open."""

    async def on_files(self, ctx: Context, uploads: tuple[Upload, ...]) -> None: ...


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: CommandHandler
    description: str  # Vietnamese msgid, for menus and help
    roles: frozenset[str]
    keeps_dialog: bool
    listed: bool
    private_only: bool = False
    shown_to: frozenset[str] | None = None  # in the menus of these roles (default: ``roles``)


@dataclass(frozen=True)
class ActionSpec:
    handler: ActionHandler
    roles: frozenset[str]
    private_only: bool = False


class Conversation:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.commands: dict[str, CommandSpec] = {}
        self.aliases: dict[str, str] = {}
        self.actions: dict[str, ActionSpec] = {}
        self.dialogs: dict[str, DialogHandler] = {}
        # Tried in this order (one explicit list, set by bot.app.build_conversation); the
        # last one answers everything (a question about the plan).
        self.free_text: list[FreeTextHandler] = []
        self.after_hooks: list[Callable[[Context], Awaitable[None]]] = []

    # -- registration -----------------------------------------------------------------------
    def command(
        self,
        name: str,
        handler: CommandHandler,
        description: str,
        *,
        roles: frozenset[str] = EVERYONE,
        keeps_dialog: bool = True,
        listed: bool = True,
        aliases: tuple[str, ...] = (),
        private_only: bool = False,
        shown_to: frozenset[str] | None = None,
    ) -> None:
        """Register ``/name``; ``private_only`` commands (one commune's data, registration,
        dialogs) are refused politely in group chats, where everyone would see them;
        ``shown_to`` lists it in fewer roles' menus than may use it."""
        self.commands[name] = CommandSpec(
            name, handler, description, roles, keeps_dialog, listed, private_only, shown_to
        )
        for alias in aliases:
            self.aliases[alias] = name

    def action(
        self,
        prefix: str,
        handler: ActionHandler,
        *,
        roles: frozenset[str] = EVERYONE,
        private_only: bool = False,
    ) -> None:
        self.actions[prefix] = ActionSpec(handler, roles, private_only)

    def dialog(self, handler: DialogHandler) -> None:
        self.dialogs[handler.state.kind] = handler

    def after(self, hook: Callable[[Context], Awaitable[None]]) -> None:
        """Run ``hook`` after every update was handled (in the same unit of work)."""
        self.after_hooks.append(hook)

    def command_list(self, role: str) -> list[CommandSpec]:
        return [c for c in self.commands.values() if c.listed and role in (c.shown_to or c.roles)]

    # -- handling ---------------------------------------------------------------------------
    async def handle(self, incoming: Incoming) -> list[Reply]:
        deps = self.deps
        user = await deps.users.ensure(
            incoming.channel,
            incoming.user_id,
            chat_id=None if incoming.is_group else incoming.chat_id,
            display_name=incoming.display_name,
        )
        role = self.role_of(user)
        ctx = Context(
            deps=deps,
            conv=self,
            incoming=incoming,
            user=user,
            role=role,
            lang=user.lang or deps.default_lang,
            lang_explicit=user.lang is not None,
            now=deps.clock.now(),
        )
        # Dialogs (reports, announcements, one's name) live in the private chat: what the
        # person says in a group is never an answer to them.
        ctx.dialog = None if incoming.is_group else await deps.dialogs.get(user.id)
        if ctx.dialog is not None and ctx.now - ctx.dialog.updated_at > deps.dialog_ttl:
            handler = self.dialogs.get(ctx.dialog.kind)
            await ctx.end_dialog()
            if handler is not None:
                await handler.on_expired(ctx)
        elif ctx.dialog is not None and not self._readable(ctx.dialog):
            await ctx.end_dialog()
            ctx.reply(ctx.tr(DIALOG_UNREADABLE))
        ended = await self._end_disallowed_dialog(ctx)
        if not ended or parse_command(incoming.text or "") is not None:
            await self._dispatch(ctx)  # a command still runs; a dialog answer does not
        for hook in self.after_hooks:
            await hook(ctx)
        await self._remember_menu(ctx)
        return ctx.replies

    def role_of(self, user: User) -> str:
        if (user.channel, user.external_id) in self.deps.admins:
            return ADMIN
        if user.role == STAFF:
            return STAFF
        if user.role == OFFICER and user.commune_id is not None:
            return OFFICER
        if user.role == UNIT and user.unit_key is not None and self.deps.kb.has_unit(user.unit_key):
            return UNIT
        return GUEST

    def _readable(self, dialog: DialogRow) -> bool:
        """Whether its dialog still reads the stored state (not damaged, not written by a
        version with other steps); one that does not is ended, never a crash."""
        handler = self.dialogs.get(dialog.kind)
        return handler is None or handler.state.load(dialog.kind, dialog.state) is not None

    async def _end_disallowed_dialog(self, ctx: Context) -> bool:
        """End an open dialog the user may no longer go on with (revoked, moved, demoted).

        Checked on every update, typed or tapped, before anything is changed: a role is what
        it is now, not what it was when the dialog began. ``True`` if a dialog was ended.
        """
        if ctx.dialog is None:
            return False
        kind = ctx.dialog.kind
        handler = self.dialogs.get(kind)
        if handler is None or handler.allows(ctx):
            return False
        await ctx.end_dialog()
        log.info("%s dialog of user %s ended: their access changed", kind, ctx.user.id)
        ctx.reply(ctx.tr(ACCESS_CHANGED))
        return True

    def takes_files(self, kind: str) -> bool:
        """Whether the dialog of this kind has a use for photos or files."""
        handler: object = self.dialogs.get(kind)
        return isinstance(handler, TakesFiles)

    async def _files(self, ctx: Context) -> None:
        """Photos or files: to the open dialog if it takes them; otherwise said where they
        belong (nothing is kept with a report that is not being made). In a group, people
        share photos with each other: the bot says nothing."""
        if ctx.incoming.is_group:
            return
        handler: object = self.dialogs.get(ctx.dialog.kind) if ctx.dialog is not None else None
        if isinstance(handler, TakesFiles):
            await handler.on_files(ctx, ctx.incoming.files)
            return
        ctx.keeps_menu = True
        ctx.reply(
            ctx.tr(
                "Đã nhận tệp, nhưng lúc này không có câu hỏi nào cần ảnh nên tệp chưa được lưu. "
                "Ảnh minh chứng được gửi trong khi báo cáo (gõ /baocao, gửi ảnh khi được hỏi) "
                "hoặc khi cập nhật một việc (/viec, chọn việc rồi gửi ảnh)."
            )
        )
        if ctx.dialog is not None:
            await self._remind(ctx)

    async def _dispatch(self, ctx: Context) -> None:
        incoming = ctx.incoming
        _ = ctx.tr
        if incoming.action:
            await self.run_action(ctx, incoming.action)
            return
        if incoming.files:
            await self._files(ctx)
            return
        text = (incoming.text or "").strip()
        if incoming.kind != "text" or not text:
            ctx.reply(
                _(
                    "Xin lỗi, tôi chỉ đọc được tin nhắn dạng chữ. Bạn hãy gõ câu hỏi hoặc "
                    "câu trả lời bằng chữ."
                )
            )
            if ctx.dialog is not None:
                await self._remind(ctx)
            return
        command = parse_command(text)
        if command is not None:
            await self.run_command(ctx, *command)
            return
        action = await self._choice_from_text(ctx, text)
        if action is not None:
            await self.run_action(ctx, action)
            return
        if ctx.dialog is not None:
            handler = self.dialogs.get(ctx.dialog.kind)
            if handler is not None and fold(text).strip() in CANCEL_WORDS:
                await self.run_command(ctx, "huy", "")
                return
            if handler is not None:
                await handler.on_text(ctx, text)
                return
            await ctx.end_dialog()
        for handle in self.free_text:
            if await handle(ctx, text):
                return

    async def run_command(self, ctx: Context, name: str, args: str) -> None:
        _ = ctx.tr
        name = self.aliases.get(name.lower(), name.lower())
        spec = self.commands.get(name)
        if spec is None:
            ctx.reply(_("Lệnh /{name} không có. Gõ /help để xem các lệnh.", name=name))
            return
        if ctx.role not in spec.roles:
            ctx.reply(self.denied_text(ctx, spec.roles))
            return
        if spec.private_only and ctx.incoming.is_group:
            ctx.reply(private_only_text(ctx))
            return
        before = ctx.dialog
        await spec.handler(ctx, args.strip())
        # A dialog that was open before the command is recalled; one the command has just
        # begun (its first question is already asked) is not.
        recall = spec.keeps_dialog and ctx.dialog is not None and ctx.dialog is before
        if recall and name not in ("huy",):
            await self._remind(ctx)

    async def run_action(self, ctx: Context, action: str) -> None:
        entry = self.actions.get(prefix_of(action))
        _ = ctx.tr
        if entry is None:
            ctx.reply(_("Lựa chọn này không còn hiệu lực. Gõ /help để bắt đầu lại."))
            return
        if ctx.role not in entry.roles:
            ctx.reply(self.denied_text(ctx, entry.roles))
            return
        if entry.private_only and ctx.incoming.is_group:
            ctx.reply(private_only_text(ctx))
            return
        await entry.handler(ctx, action)

    def denied_text(self, ctx: Context, roles: frozenset[str]) -> str:
        _ = ctx.tr
        if roles <= {ADMIN}:
            return _("Xin lỗi, chức năng này chỉ dành cho quản trị viên Văn phòng NTM.")
        if roles <= {ADMIN, STAFF}:
            return _("Xin lỗi, chức năng này chỉ dành cho cán bộ Văn phòng NTM huyện.")
        if ctx.is_unit and OFFICER in roles:
            return _(
                "Chức năng này dành cho cán bộ xã và Văn phòng NTM huyện. Cán bộ đơn vị xem và "
                "cập nhật việc của đơn vị bằng /viec."
            )
        if OFFICER in roles and GUEST not in roles:
            return _(
                "Bạn chưa đăng ký là cán bộ xã nên chưa thể báo cáo. Xin liên hệ Văn phòng "
                "NTM huyện để nhận mã mời, rồi gõ /start <mã mời>. Bạn vẫn có thể hỏi đáp "
                "về Kế hoạch."
            )
        return _("Xin lỗi, bạn không có quyền dùng chức năng này.")

    async def _remind(self, ctx: Context) -> None:
        if ctx.dialog is None:
            return
        handler = self.dialogs.get(ctx.dialog.kind)
        if handler is not None:
            await handler.remind(ctx)

    async def _choice_from_text(self, ctx: Context, text: str) -> str | None:
        """A typed answer to the choices last offered: their number or their words."""
        stored = await self.deps.menus.get(ctx.user.id)
        if stored is None:
            return None
        choices, created = stored
        if ctx.now - created > MENU_TTL or not choices:
            return None
        return match_choice(text, choices)

    async def _remember_menu(self, ctx: Context) -> None:
        if ctx.keeps_menu:
            return
        choices: list[tuple[str, ...]] = [
            (c.label, c.action) if c.memo is None else (c.label, c.action, c.memo)
            for r in ctx.replies
            for c in r.flat_choices()
        ]
        if choices:
            await self.deps.menus.save(ctx.user.id, choices, ctx.now)
        elif ctx.replies:
            await self.deps.menus.clear(ctx.user.id, ctx.now)


THROTTLED = N_(
    "Bạn gửi tin nhắn hơi nhanh. Xin chờ vài giây rồi gửi lại; tin vừa rồi chưa được xử lý."
)
ACCESS_CHANGED = N_(
    "Quyền của bạn vừa thay đổi (bị thu hồi hoặc chuyển sang xã khác), nên việc đang làm dở "
    "đã kết thúc; phần chưa gửi không được lưu. Gõ /help để xem bạn có thể làm gì."
)


def private_only_text(ctx: Context) -> str:
    return ctx.tr(
        "Chức năng này chỉ dùng trong cuộc trò chuyện riêng với bot, để thông tin của xã "
        "không hiện cho cả nhóm. Xin nhắn riêng cho bot."
    )


def parse_command(text: str) -> tuple[str, str] | None:
    """``"/start@ntm_bot CODE"`` → ``("start", "CODE")``; plain text → ``None``."""
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    return match[1], (match[2] or "").strip()


def match_choice(text: str, choices: list[tuple[str, str]]) -> str | None:
    """The action of the choice ``text`` names: "2", "2.", "số 2", or the label's words.

    Words must name one label: equal to it (ignoring diacritics, case and a trailing
    "(…)"), the start of exactly one label, or one small typo away. Anything longer than a
    label is a new message, not a choice ("tiêu chí 6" is not the button "Tiêu chí").
    """
    folded = fold(text).strip(" .")
    number = re.fullmatch(r"(?:so\s*)?(\d{1,2})\s*[.)]?", folded)
    if number:
        # A label that starts with this very number ("4 sao") wins over the 4th position.
        own = [
            i
            for i, (label, _) in enumerate(choices)
            if re.match(rf"{number[1]}\b", fold(label))
            and not fold(label).startswith(f"{number[1]}.")
        ]
        if len(own) == 1:
            return choices[own[0]][1]
        shown = choice_numbers([label for label, _ in choices])  # as the list was written
        picked = [i for i, n in enumerate(shown) if n == int(number[1])]
        return choices[picked[0]][1] if len(picked) == 1 else None
    if len(folded) < 2 or len(folded) > 60:
        return None
    labels = [fold(label).strip() for label, _ in choices]
    bare = [re.sub(r"\s*\(.*\)\s*$", "", label).strip(" .") for label in labels]
    for candidates in (labels, bare):
        if folded in candidates:
            return choices[candidates.index(folded)][1]
    starts = [i for i, label in enumerate(bare) if len(folded) >= 3 and label.startswith(folded)]
    if len(starts) == 1:
        return choices[starts[0]][1]
    close = [
        i
        for i, label in enumerate(bare)
        if abs(len(label) - len(folded)) <= 1
        and len(folded) >= 5
        and fuzz.ratio(folded, label) >= 90
    ]
    return choices[close[0]][1] if len(close) == 1 else None


@dataclass(frozen=True)
class Delivery:
    """Replies to send for one update; mark it sent once the channel confirms."""

    channel: str
    update_key: str
    chat_id: str
    replies: list[Reply]
    context: dict[str, Any]


class _Redelivered(Exception):
    """Raised inside the transaction to undo the second handling of an update."""


class Processor:
    """Runs the conversation for one update inside one unit of work, with its replies."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation
        self.deps = conversation.deps

    async def process(
        self, incoming: Incoming, context: dict[str, Any] | None = None
    ) -> Delivery | None:
        """Handle ``incoming``; ``None`` if this update was handled before (a redelivery).

        The effects of the update and its replies are committed together; the replies are
        then sent by the channel. ``context`` is channel data stored with the replies (e.g.
        the message a button was on). Raises :class:`StorageUnavailable` when the database
        cannot take the write: nothing was changed, and the channel asks the user to retry.
        """
        deps = self.deps
        key = incoming.update_key or f"local:{uuid.uuid4().hex}"
        if deps.updates.recently_claimed(incoming.channel, key):
            log.info("skipping redelivered update %s/%s", incoming.channel, key)
            return None
        try:
            async with deps.db.transaction():
                if deps.db.dialect.shared:
                    # Several instances: one chat's updates in order, never two at once; the
                    # update recorded in this unit of work (redelivered elsewhere: skipped).
                    await deps.db.serialize(f"chat:{incoming.channel}:{incoming.chat_id}")
                replies = await self.conversation.handle(incoming)
                payload = replies_to_payload(replies, context)
                if deps.db.untouched:  # changed nothing: recorded with the next batch
                    deps.updates.record_later(incoming.channel, key, incoming.chat_id, payload)
                elif (
                    await deps.updates.record(incoming.channel, key, incoming.chat_id, payload)
                    is None
                ):
                    raise _Redelivered
        except _Redelivered:
            log.info("skipping redelivered update %s/%s", incoming.channel, key)
            return None
        return Delivery(incoming.channel, key, incoming.chat_id, replies, context or {})

    def throttled_reply(self, lang: str | None = None) -> Reply:
        _ = Tr(self.deps.translator, lang or self.deps.default_lang)
        return Reply(Doc.of(_(THROTTLED)))

    def unavailable_reply(self, lang: str | None = None) -> Reply:
        _ = Tr(self.deps.translator, lang or self.deps.default_lang)
        return Reply(
            Doc.of(
                _(
                    "Hệ thống đang bận hoặc tạm thời không ghi được dữ liệu. Xin bạn "
                    "thử lại sau ít phút; thông tin đã gửi trước đó không bị mất."
                )
            )
        )


def supported_lang(value: str) -> str | None:
    value = fold(value).strip()
    aliases = {
        "vi": "vi",
        "viet": "vi",
        "tieng viet": "vi",
        "vietnamese": "vi",
        "en": "en",
        "english": "en",
        "tieng anh": "en",
        "anh": "en",
    }
    lang = aliases.get(value)
    return lang if lang in LANGS else None


__all__ = [
    "ADMIN",
    "EVERYONE",
    "GUEST",
    "OFFICER",
    "STAFF",
    "UNIT",
    "Context",
    "Conversation",
    "Delivery",
    "Deps",
    "Processor",
    "StorageUnavailable",
    "match_choice",
    "parse_command",
]
