"""Fake Zalo Bot API and Zalo OA API servers on 127.0.0.1, as strict as ``docs/zalo.md``.

Zalo Bot API: ``/bot<TOKEN>/<method>``; ``getUpdates`` returns one update per call and ends an
idle long poll with HTTP 408; texts must be 1–2,000 characters; photos are URLs; 401 for a bad
token; 403 for a blocked chat; 429 when the quota is used up. Updates can be delivered twice
(as some integrators report), and tests can post webhook calls in both documented shapes.

Zalo OA: ``POST /v3.0/oa/message/cs`` with the ``access_token`` header; errors with HTTP 200 and
a non-zero ``error`` (−216 bad or expired token, −32 rate limit, −230 outside the messaging
window, −201 invalid message); template buttons checked against the limits; the OAuth endpoint
issues a new pair for a single-use refresh token; events are signed like Zalo signs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.server import serve_locally


@dataclass
class ZaloMessage:
    chat_id: str
    text: str
    kind: str = "text"  # text | photo
    photo: str | None = None
    buttons: list[dict[str, Any]] = field(default_factory=list)
    sent_at: float = field(default_factory=time.time)


class _Server:
    def __init__(self) -> None:
        self.app = web.Application()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.messages: dict[str, list[ZaloMessage]] = defaultdict(list)
        self._changed = asyncio.Event()
        # Photos users sent, on Zalo's file host (the bot fetches them by URL).
        self.user_files: dict[str, bytes] = {}
        self.app.router.add_get("/user-files/{name}", self._user_file)

    def host_file(self, data: bytes, suffix: str = ".jpg") -> str:
        """A URL on this server that serves ``data`` (what Zalo gives for a sent photo)."""
        name = secrets.token_hex(8) + suffix
        self.user_files[name] = data
        return f"{self.base_url}/user-files/{name}"

    async def _user_file(self, request: web.Request) -> web.Response:
        data = self.user_files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="image/jpeg")

    async def start(self) -> Any:
        self._runner, self.port = await serve_locally(self.app)
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _record(self, message: ZaloMessage) -> None:
        self.messages[message.chat_id].append(message)
        self._changed.set()

    def texts(self, chat_id: str) -> list[str]:
        return [m.text for m in self.messages.get(chat_id, [])]

    def last(self, chat_id: str) -> ZaloMessage:
        return self.messages[chat_id][-1]

    async def wait_for(self, chat_id: str, count: int, timeout: float = 10.0) -> list[ZaloMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages.get(chat_id, [])) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                got = [m.text[:80] for m in self.messages.get(chat_id, [])]
                raise AssertionError(f"{chat_id}: expected {count} messages, got {got}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.2))
        return list(self.messages[chat_id])

    async def wait_for_text(
        self, chat_id: str, before: int, expect: str, timeout: float = 10.0
    ) -> str:
        """Everything sent to ``chat_id`` after its first ``before`` messages, once one of
        them contains ``expect`` (waits for what is expected, never for a quiet period)."""
        deadline = time.monotonic() + timeout
        while True:
            text = "\n".join(m.text for m in self.messages.get(chat_id, [])[before:])
            if expect in text:
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{chat_id}: no {expect!r} in {text[-300:]!r}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(left, 0.2))

    async def answer(self, chat_id: str, before: int, quiet: float = 0.25) -> str:
        """The text of everything sent to ``chat_id`` after its first ``before`` messages, once
        at least one arrived and then nothing more for ``quiet`` seconds."""
        await self.wait_for(chat_id, before + 1)
        count = len(self.messages[chat_id])
        while True:
            await asyncio.sleep(quiet)
            if len(self.messages[chat_id]) == count:
                return "\n".join(m.text for m in self.messages[chat_id][before:])
            count = len(self.messages[chat_id])


class FakeZaloBot(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.token = "123456789:zalo-fake-" + secrets.token_hex(12)
        self.updates: deque[dict[str, Any]] = deque()
        self.poll_cap = 0.5  # seconds an idle long poll waits before 408
        self.blocked: set[str] = set()
        self.quota: int | None = None  # messages left before 429
        self.webhook: dict[str, Any] | None = None
        self.deliver_twice: set[str] = set()  # message_ids handed out a second time
        self.calls: list[str] = []
        self.down = False  # every connection is dropped without an answer
        self._arrived = asyncio.Event()
        self._ids = itertools.count(1)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)

    # -- what tests do -------------------------------------------------------------------------
    def update(
        self,
        user_id: str,
        text: str | None = None,
        *,
        event: str | None = None,
        name: str = "Cán bộ xã",
        message_id: str | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "from": {"id": user_id, "display_name": name, "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "message_id": message_id or f"m{next(self._ids):08d}{secrets.token_hex(4)}",
            "date": int(time.time() * 1000),
        }
        if text is not None:
            message["text"] = text
        return {"event_name": event or "message.text.received", "message": message}

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        self.updates.append(update)
        self._arrived.set()
        return update

    def push_text(self, user_id: str, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.push(self.update(user_id, text, **kwargs))

    def push_photo(self, user_id: str, data: bytes) -> dict[str, Any]:
        """A photo message: its URL on Zalo's file host in ``photo_url``."""
        update = self.update(user_id, event="message.image.received")
        update["message"]["photo_url"] = self.host_file(data)
        return self.push(update)

    # -- the API -------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if self.down and request.transport is not None:
            request.transport.close()
            return web.Response(status=502)
        if request.match_info["token"] != self.token:
            return _bot_error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        params: dict[str, Any] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                params = await request.json()
            else:
                params = dict(await request.post())
        handler = getattr(self, f"api_{method}", None)
        if handler is None:
            return _bot_error(404, "Not Found")
        try:
            result = await handler(params)
        except _BotApiError as exc:
            return _bot_error(exc.code, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def api_getMe(self, params: dict[str, Any]) -> Any:
        return {"id": "bot1", "account_name": "tro_ly_ntm", "account_type": "BASIC"}

    async def api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise _BotApiError(409, "Conflict: webhook is active")
        wait = min(float(params.get("timeout", 30)), self.poll_cap)
        if not self.updates:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout=wait)
            except TimeoutError:
                raise _BotApiError(408, "Request timeout") from None
        update = self.updates.popleft()
        message = update.get("message") if isinstance(update, dict) else None
        key = message.get("message_id") if isinstance(message, dict) else None
        if key in self.deliver_twice:
            self.deliver_twice.discard(key)
            self.updates.append(update)
        return update

    def _text(self, params: dict[str, Any], field_name: str, *, required: bool) -> str:
        text = params.get(field_name)
        if text is None and not required:
            return ""
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            raise _BotApiError(400, f"Bad Request: {field_name} must be 1-2000 characters")
        return text

    def _chat(self, params: dict[str, Any]) -> str:
        chat_id = str(params.get("chat_id") or "")
        if not chat_id:
            raise _BotApiError(400, "Bad Request: chat_id is required")
        if chat_id in self.blocked:
            raise _BotApiError(403, "Forbidden: user blocked the bot")
        if self.quota is not None:
            if self.quota <= 0:
                raise _BotApiError(429, "Quota exceeded")
            self.quota -= 1
        return chat_id

    async def api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        text = self._text(params, "text", required=True)
        self._record(ZaloMessage(chat_id, text))
        return {"message_id": secrets.token_hex(8), "date": int(time.time() * 1000)}

    async def api_sendPhoto(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise _BotApiError(400, "Bad Request: photo must be a URL")
        caption = self._text(params, "caption", required=False)
        self._record(ZaloMessage(chat_id, caption, kind="photo", photo=photo))
        return {"message_id": secrets.token_hex(8)}

    async def api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    async def api_setWebhook(self, params: dict[str, Any]) -> Any:
        secret = str(params.get("secret_token", ""))
        url = str(params.get("url", ""))
        if not url.startswith("https://") or not 8 <= len(secret) <= 256:
            raise _BotApiError(400, "Bad Request: https url and 8-256 character secret_token")
        self.webhook = {"url": url, "secret_token": secret}
        return True

    async def api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return self.webhook or {"url": ""}


class _BotApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _bot_error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )


async def post_bot_webhook(
    url: str, update: dict[str, Any], secret: str | None, *, wrapped: bool = True
) -> int:
    """Call the bot's Zalo Bot webhook as Zalo does; returns the HTTP status."""
    body = {"ok": True, "result": update} if wrapped else update
    headers = {"X-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as response,
    ):
        return response.status


class FakeZaloOA(_Server):
    def __init__(self) -> None:
        super().__init__()
        self.app_id = "4321987654"
        self.app_secret = "fake-app-secret-" + secrets.token_hex(8)
        self.access_token = "oa-access-" + secrets.token_hex(16)
        self.refresh_token = "oa-refresh-" + secrets.token_hex(16)
        self.valid_access: set[str] = {self.access_token}
        self.valid_refresh: set[str] = {self.refresh_token}
        self.outside_window: set[str] = set()
        self.rate_limit_next = 0
        self.refreshes = 0
        self.token_rejections = 0
        self.rejected: list[tuple[str, int]] = []
        self.app.router.add_post("/v3.0/oa/message/cs", self._send)
        self.app.router.add_post("/v4/oa/access_token", self._refresh)

    # -- what tests do -------------------------------------------------------------------------
    def expire_access_token(self) -> None:
        self.valid_access.clear()

    def text_event(self, user_id: str, text: str, msg_id: str | None = None) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "sender": {"id": user_id},
            "recipient": {"id": "oa-1"},
            "event_name": "user_send_text",
            "message": {"text": text, "msg_id": msg_id or secrets.token_hex(10)},
            "timestamp": str(int(time.time() * 1000)),
        }

    def image_event(self, user_id: str, data: bytes) -> dict[str, Any]:
        """``user_send_image``: the photo's URL in ``attachments[].payload.url``."""
        event = self.text_event(user_id, "")
        event["event_name"] = "user_send_image"
        url = self.host_file(data)
        event["message"] = {
            "msg_id": secrets.token_hex(10),
            "attachments": [{"type": "image", "payload": {"thumbnail": url, "url": url}}],
        }
        return event

    def signature(self, raw: bytes, secret: str | None = None) -> str:
        event = json.loads(raw)
        mac = hashlib.sha256(
            self.app_id.encode()
            + raw
            + str(event["timestamp"]).encode()
            + (secret or self.app_secret).encode()
        ).hexdigest()
        return f"mac={mac}"

    async def post_event(
        self,
        url: str,
        event: dict[str, Any],
        *,
        secret: str | None = None,
        signature: str | None = None,
    ) -> int:
        raw = json.dumps(event, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-ZEvent-Signature": signature
            if signature is not None
            else self.signature(raw, secret),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=raw, headers=headers) as response,
        ):
            return response.status

    # -- the API -------------------------------------------------------------------------------
    async def _send(self, request: web.Request) -> web.Response:
        token = request.headers.get("access_token", "")
        if token not in self.valid_access:
            self.token_rejections += 1
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        user = str((body.get("recipient") or {}).get("user_id") or "")
        message = body.get("message") or {}
        problem = _invalid_message(message)
        if not user or problem:
            self.rejected.append((user, -201))
            return web.json_response({"error": -201, "message": problem or "no recipient"})
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            self.rejected.append((user, -32))
            return web.json_response({"error": -32, "message": "Exceeded rate limit"})
        if user in self.outside_window:
            self.rejected.append((user, -230))
            return web.json_response(
                {"error": -230, "message": "User has not interacted with the OA in 7 days"}
            )
        buttons = ((message.get("attachment") or {}).get("payload") or {}).get("buttons") or []
        self._record(ZaloMessage(user, message["text"], buttons=buttons))
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": secrets.token_hex(8)}}
        )

    async def _refresh(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.headers.get("secret_key") != self.app_secret:
            return web.json_response({"error": -14002, "error_name": "Invalid secret key"})
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14003, "error_name": "Invalid parameters"})
        token = str(form.get("refresh_token", ""))
        if token not in self.valid_refresh:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self.valid_refresh.discard(token)  # single use
        self.refreshes += 1
        self.access_token = "oa-access-" + secrets.token_hex(16)
        self.refresh_token = "oa-refresh-" + secrets.token_hex(16)
        self.valid_access = {self.access_token}
        self.valid_refresh.add(self.refresh_token)
        return web.json_response(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": "90000",
            }
        )


def _invalid_message(message: dict[str, Any]) -> str | None:
    text = message.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= 2000:
        return "text must be 1-2000 characters"
    attachment = message.get("attachment")
    if attachment is None:
        return None
    if attachment.get("type") != "template":
        return "unsupported attachment"
    buttons = (attachment.get("payload") or {}).get("buttons") or []
    if not buttons or len(buttons) > 5:
        return "template needs 1-5 buttons"
    for button in buttons:
        if button.get("type") != "oa.query.show":
            return "unsupported button type"
        if not 1 <= len(button.get("title", "")) <= 100:
            return "button title must be 1-100 characters"
        if not 1 <= len(button.get("payload", "")) <= 1000:
            return "button payload must be 1-1000 characters"
    return None
