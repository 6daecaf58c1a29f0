"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests and benchmarks.

It behaves like Telegram where the bot could get it wrong: long-polling ``getUpdates`` with
``offset`` confirmation, HTML entity parsing (unsupported or unbalanced tags, bare ``&`` are
rejected), 4096-character and 64-byte ``callback_data`` limits, "message is not modified",
``answerCallbackQuery`` for known queries only, multipart uploads, and ``429`` with
``retry_after`` when a configured rate is exceeded. Tests push updates and read what the bot
sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import serve_locally

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "span",
    "tg-spoiler",
    "tg-emoji",
    "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+=(?:\"[^\"]*\"|'[^']*'))*)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
_ENTITY_VALUES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
RESET = -1  # fail_next status: close the connection instead of answering


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_MARKUP = re.compile(r"[<&]")


def parse_html(text: str) -> str:
    """Telegram's HTML parse mode: the plain text, or :class:`ApiError` like Telegram's."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while True:
        found = _MARKUP.search(text, i)
        if found is None:
            out.append(text[i:])
            break
        start = found.start()
        out.append(text[i:start])
        if text[start] == "<":
            match = _TAG.match(text, start)
            if match is None:
                raise ApiError(
                    400,
                    f"Bad Request: can't parse entities: Unsupported start tag at byte offset {start}",
                )
            closing, tag = match[1], match[2].lower()
            if tag not in ALLOWED_TAGS:
                raise ApiError(
                    400,
                    f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}" at byte offset {start}',
                )
            if closing:
                if not stack or stack[-1] != tag:
                    raise ApiError(
                        400,
                        f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{tag}\"",
                    )
                stack.pop()
            else:
                stack.append(tag)
            i = match.end()
        else:
            match = _ENTITY.match(text, start)
            if match is None:
                raise ApiError(
                    400,
                    f"Bad Request: can't parse entities: Character entity expected at byte offset {start}",
                )
            name = match[1]
            if name.startswith("#x"):
                out.append(chr(int(name[2:], 16)))
            elif name.startswith("#"):
                out.append(chr(int(name[1:])))
            else:
                out.append(_ENTITY_VALUES[name])
            i = match.end()
    if stack:
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"",
        )
    return "".join(out)


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    kind: str  # text | photo | document
    html: str
    text: str
    reply_markup: dict[str, Any] | None
    sent_at: float
    file_name: str | None = None
    file_bytes: bytes | None = None
    edits: int = 0
    preview_disabled: bool = False  # link_preview_options.is_disabled

    @property
    def buttons(self) -> list[tuple[str, str]]:
        if not self.reply_markup:
            return []
        return [
            (button["text"], button.get("callback_data", ""))
            for row in self.reply_markup.get("inline_keyboard", [])
            for button in row
        ]


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token-for-the-fake-server"
    bot_id: int = 123456
    bot_username: str = "ntm_test_bot"
    max_per_second: float | None = None  # global send rate limit (Telegram: about 30/s)
    per_chat_interval: float | None = None  # minimum spacing per chat (Telegram: about 1/s)
    updates: list[dict[str, Any]] = field(default_factory=list)
    confirmed: int = 0
    messages: dict[int, list[SentMessage]] = field(default_factory=lambda: defaultdict(list))
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    content_types: list[tuple[str, str]] = field(default_factory=list)  # (method, as posted)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    answered_callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    rate_limited: int = 0

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._new_message = asyncio.Event()
        self._pending_callbacks: set[str] = set()
        self._send_times: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._faults: dict[str, list[tuple[int, str, int | None]]] = defaultdict(list)
        self._blocked: set[int] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.files: dict[str, bytes] = {}  # file_id → content, fetched via getFile
        self._file_ids = itertools.count(1)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeTelegram:
        """Serve on ``port`` (0: any free one), e.g. the address a bot was already told."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner, self.port = await serve_locally(app, port)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- driving the bot --------------------------------------------------------------------
    def _user(self, user_id: int, name: str | None = None) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": name or f"User {user_id}",
            "language_code": "vi",
        }

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = f"User {chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        return chat

    def _push(self, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **body})
        self._new_update.set()
        return update_id

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        name: str | None = None,
    ) -> int:
        chat = chat_id if chat_id is not None else user_id
        message = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id, name),
            "chat": self._chat(chat, chat_type),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._push({"message": message})

    def _file_entry(self, data: bytes, **extra: Any) -> dict[str, Any]:
        file_id = f"file-{next(self._file_ids)}"
        self.files[file_id] = data
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data),
                **extra}  # fmt: skip

    def push_photo(
        self,
        user_id: int,
        data: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> int:
        """A photo as Telegram sends it: several sizes (a small preview and the photo itself,
        largest last); an album's photos are separate messages with one media_group_id."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": self._chat(user_id, "private"),
            "date": int(time.time()),
            "photo": [
                self._file_entry(data[:100], width=90, height=67),
                self._file_entry(data, width=800, height=600),
            ],
        }
        if caption:
            message["caption"] = caption
        if media_group_id:
            message["media_group_id"] = media_group_id
        return self._push({"message": message})

    def push_document(self, user_id: int, data: bytes, file_name: str, mime_type: str) -> int:
        message = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": self._chat(user_id, "private"),
            "date": int(time.time()),
            "document": self._file_entry(data, file_name=file_name, mime_type=mime_type),
        }
        return self._push({"message": message})

    async def api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id", ""))
        data = self.files.get(file_id)
        if data is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(data) > 20 * 1024 * 1024:  # what the Bot API hands to bots
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data),
                "file_path": f"documents/{file_id}"}  # fmt: skip

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        self.calls.append(("file", {"path": request.match_info["path"]}))
        data = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def push_sticker(self, user_id: int) -> int:
        message = {
            "message_id": next(self._message_ids),
            "from": self._user(user_id),
            "chat": self._chat(user_id, "private"),
            "date": int(time.time()),
            "sticker": {
                "file_id": "sticker-file",
                "file_unique_id": "u1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        return self._push({"message": message})

    def push_callback(self, user_id: int, message: SentMessage, data: str) -> int:
        return self._push(self.callback_query(user_id, message, data))

    def callback_query(self, user_id: int, message: SentMessage, data: str) -> dict[str, Any]:
        """A tap on a button of ``message`` (an update body without its id), which the bot
        may answer once: for a webhook test to post itself."""
        query_id = str(next(self._callback_ids))
        self._pending_callbacks.add(query_id)
        return {
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id),
                "chat_instance": f"ci{user_id}",
                "data": data,
                "message": {
                    "message_id": message.message_id,
                    "from": {"id": self.bot_id, "is_bot": True, "first_name": "NTM"},
                    "chat": self._chat(message.chat_id, "private"),
                    "date": int(message.sent_at),
                    "text": message.text,
                },
            }
        }

    def press(self, user_id: int, message: SentMessage, label: str) -> int:
        """Tap the button whose label starts with ``label``."""
        for text, data in message.buttons:
            if text.startswith(label):
                return self.push_callback(user_id, message, data)
        raise AssertionError(f"no button {label!r} in {message.buttons}")

    def redeliver(self, update_id: int) -> None:
        """Deliver an already-confirmed update again (Telegram's at-least-once delivery)."""
        original = next(u for u in self.updates if u["update_id"] == update_id)
        self.updates.append(json.loads(json.dumps(original)))
        self.confirmed = min(self.confirmed, update_id - 1)
        self._new_update.set()

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sends to them fail with 403 from now on."""
        self._blocked.add(chat_id)

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        self._faults[method].extend([(status, description, retry_after)] * count)

    def sent(self, chat_id: int) -> list[SentMessage]:
        return list(self.messages.get(chat_id, []))

    def last(self, chat_id: int) -> SentMessage:
        return self.messages[chat_id][-1]

    async def wait_for(self, chat_id: int, count: int, timeout: float = 10.0) -> list[SentMessage]:
        """Wait until ``chat_id`` has received at least ``count`` messages in total."""
        deadline = time.monotonic() + timeout
        while len(self.messages.get(chat_id, [])) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                got = [m.text[:80] for m in self.messages.get(chat_id, [])]
                raise AssertionError(f"chat {chat_id}: expected {count} messages, got {got}")
            self._new_message.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_message.wait(), timeout=min(remaining, 0.2))
        return self.sent(chat_id)

    async def wait_until(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.01)

    def pending_updates(self) -> int:
        return len([u for u in self.updates if u["update_id"] > self.confirmed])

    # -- the API --------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST":
            return params
        ctype = request.content_type
        if ctype == "application/json":
            params.update(await request.json())
        elif ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    params[part.name] = (part.filename, await part.read())  # type: ignore[union-attr]
                else:
                    params[part.name] = await part.text()  # type: ignore[union-attr]
        else:
            params.update(await request.post())
        for key in ("reply_markup", "commands", "scope", "allowed_updates", "link_preview_options"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        for key, value in list(params.items()):  # files are sent as "attach://<part name>"
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.get(value.removeprefix("attach://"))
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        self.content_types.append((method, request.content_type))
        params = await self._params(request)
        self.calls.append((method, params))
        try:
            if self._faults.get(method):
                status, description, retry_after = self._faults[method].pop(0)
                if status == RESET and request.transport is not None:
                    request.transport.close()  # the connection drops without an answer
                    return web.Response(status=502)
                raise ApiError(status, description, retry_after)
            handler = getattr(self, "api_" + method, None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Trợ lý NTM",
            "username": self.bot_username,
        }

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return self._bot_user()

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset - 1)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        while True:
            pending = [u for u in self.updates if u["update_id"] > self.confirmed]
            seen: set[int] = set()
            unique = []
            for update in pending:
                if update["update_id"] not in seen:
                    seen.add(update["update_id"])
                    unique.append(update)
            if unique or time.monotonic() >= deadline:
                unique.sort(key=lambda u: u["update_id"])
                # A redelivered update is returned once more, then it is gone again.
                return unique[:limit]
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout=deadline - time.monotonic())

    def _check_rate(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        now = time.monotonic()
        if self.max_per_second is not None:
            while self._send_times and now - self._send_times[0] >= 1.0:
                self._send_times.popleft()
            if len(self._send_times) >= self.max_per_second:
                self.rate_limited += 1
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        if self.per_chat_interval is not None:
            last = self._chat_last.get(chat_id)
            if last is not None and now - last < self.per_chat_interval:
                self.rate_limited += 1
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._send_times.append(now)
        self._chat_last[chat_id] = now

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            raise ApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array',
            )
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return dict(markup)

    def _text(
        self, params: dict[str, Any], key: str = "text", limit: int = 4096
    ) -> tuple[str, str]:
        raw = str(params.get(key) or "")
        plain = parse_html(raw) if params.get("parse_mode") == "HTML" else raw
        if key == "text" and not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > limit:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if key == "text"
                else "Bad Request: message caption is too long",
            )
        return raw, plain

    def _chat_id(self, params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def _store(
        self, chat_id: int, kind: str, html: str, text: str, markup: Any, **extra: Any
    ) -> dict[str, Any]:
        message = SentMessage(
            next(self._message_ids), chat_id, kind, html, text, markup, time.time(), **extra
        )
        self.messages[chat_id].append(message)
        self._new_message.set()
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id, "private" if chat_id > 0 else "group"),
            "date": int(message.sent_at),
        }
        if kind == "text":
            body["text"] = text
        else:
            body["caption"] = text
            if kind == "photo":
                body["photo"] = [
                    {
                        "file_id": f"p{message.message_id}",
                        "file_unique_id": f"u{message.message_id}",
                        "width": 100,
                        "height": 100,
                    }
                ]
            else:
                body["document"] = {
                    "file_id": f"d{message.message_id}",
                    "file_unique_id": f"u{message.message_id}",
                    "file_name": extra.get("file_name"),
                }
        if markup:
            body["reply_markup"] = markup
        return body

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        html, text = self._text(params)
        markup = self._check_markup(params.get("reply_markup"))
        preview = params.get("link_preview_options") or {}
        if not isinstance(preview, dict):
            raise ApiError(400, "Bad Request: can't parse link preview options JSON object")
        self._check_rate(chat_id)
        return self._store(
            chat_id, "text", html, text, markup, preview_disabled=bool(preview.get("is_disabled"))
        )

    async def _send_file(self, params: dict[str, Any], field_name: str, kind: str) -> Any:
        chat_id = self._chat_id(params)
        upload = params.get(field_name)
        if not isinstance(upload, tuple):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        html, caption = self._text(params, "caption", 1024) if params.get("caption") else ("", "")
        self._check_rate(chat_id)
        return self._store(
            chat_id,
            kind,
            html,
            caption,
            self._check_markup(params.get("reply_markup")),
            file_name=upload[0],
            file_bytes=upload[1],
        )

    async def api_sendPhoto(self, params: dict[str, Any]) -> Any:
        return await self._send_file(params, "photo", "photo")

    async def api_sendDocument(self, params: dict[str, Any]) -> Any:
        return await self._send_file(params, "document", "document")

    async def api_editMessageText(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        target = next(
            (m for m in self.messages.get(chat_id, []) if m.message_id == message_id), None
        )
        if target is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        html, text = self._text(params)
        markup = self._check_markup(params.get("reply_markup"))
        if html == target.html and markup == target.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            )
        target.html, target.text, target.reply_markup = html, text, markup
        target.edits += 1
        self._new_message.set()
        body = {
            "message_id": target.message_id,
            "from": self._bot_user(),
            "chat": self._chat(chat_id, "private"),
            "date": int(target.sent_at),
            "edit_date": int(time.time()),
            "text": text,
        }
        if markup:
            body["reply_markup"] = markup
        return body

    async def api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._pending_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._pending_callbacks.discard(query_id)
        self.answered_callbacks[query_id] = params
        return True

    async def api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands") or []
        for command in commands:
            if not _COMMAND_NAME.match(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[(scope, str(params.get("language_code") or ""))] = commands
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        secret = str(params.get("secret_token") or "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = dict(params)
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    async def api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def api_close(self, params: dict[str, Any]) -> Any:
        return True
