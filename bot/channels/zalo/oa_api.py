"""Zalo Official Account API v3: tokens, sending, webhook signatures, events, the transport.

Errors come back with HTTP 200 and a non-zero ``error``. An expired or invalid access token
(−216, −220) is refreshed once and the message retried; the refresh token is single-use, so the
new pair is stored before the new access token is used. −32 is a rate limit (wait), −230 a user
outside the 7-day messaging window (recorded as not reached).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.channels.zalo.names import OA_CHANNEL
from bot.channels.zalo.shape import obj
from bot.channels.zalo.text import NO_FILES, TEXT_LIMIT, split_text, text_with_numbered_choices
from bot.files import FileLinks
from bot.logging_setup import redacting_filter
from bot.sender import Rejected, RetryLater, Unreachable
from handlers.types import Attachment, Incoming, Reply
from storage.leases import LeaseRepo, instance_name
from storage.oauth import TokenPair, TokenRepo

CHANNEL = OA_CHANNEL
log = logging.getLogger(__name__)

TOKEN_EXPIRED = frozenset({-216, -220})
RATE_LIMITED = -32
OUTSIDE_WINDOW = -230
REFRESH_AHEAD = dt.timedelta(minutes=10)  # refresh before expiry rather than fail a send
REFRESH_LEASE = "zalo_oa:refresh"
LEASE_TTL = dt.timedelta(seconds=30)
REFRESH_WAITS = 100  # × 0.2 s: how long another instance's refresh is waited for
MAX_BUTTONS = 5  # more choices read better as a numbered list on a phone
BUTTON_TITLE = 100
BUTTON_PAYLOAD = 1000


class ZaloOAError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo OA {code}: {message}")
        self.code = code
        self.message = message


class ZaloOANetworkError(Exception):
    """No usable answer (connection failed, timed out, not JSON)."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _post(
    session: aiohttp.ClientSession, url: str, *, headers: dict[str, str], **kwargs: Any
) -> dict[str, Any]:
    try:
        async with session.post(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=30), **kwargs
        ) as response:
            raw = await response.read()
            status = response.status
    except TimeoutError:
        raise ZaloOANetworkError("no answer within 30 s") from None
    except aiohttp.ClientError as exc:
        raise ZaloOANetworkError(type(exc).__name__) from None
    try:
        body = json.loads(raw)
    except ValueError:
        raise ZaloOANetworkError(f"HTTP {status}, answer is not JSON") from None
    if not isinstance(body, dict):
        raise ZaloOANetworkError(f"HTTP {status}, unexpected answer")
    return body


class TokenKeeper:
    """The current access token; refreshes it once for everyone when it expires."""

    def __init__(
        self,
        repo: TokenRepo,
        seed: TokenPair,
        *,
        session: aiohttp.ClientSession,
        oauth_base: str,
        app_id: str,
        secret_key: str | None,
        now: Callable[[], dt.datetime],
        instance: str | None = None,
    ) -> None:
        self.repo = repo
        self.seed = seed
        self.session = session
        self.url = f"{oauth_base.rstrip('/')}/v4/oa/access_token"
        self.app_id = app_id
        self.secret_key = secret_key
        self.now = now
        self.pair = seed
        self._lock = asyncio.Lock()
        self.instance = instance_name(instance)

    async def load(self) -> None:
        self.pair = await self.repo.current(self.seed, self.now())
        self._redact(self.pair)

    async def token(self) -> str:
        pair = self.pair
        if pair.expires_at is not None and pair.expires_at - self.now() < REFRESH_AHEAD:
            await self.refresh(pair.access_token)
        return self.pair.access_token

    async def refresh(self, stale: str) -> None:
        """Replace ``stale``; if another task, or another instance sharing the database,
        already did, take its pair. The refresh token works once: one instance at a time
        refreshes (a lease), the others wait for the pair it stores."""
        async with self._lock:
            if self.pair.access_token != stale:
                return
            leases = LeaseRepo(self.repo.db)
            for _ in range(REFRESH_WAITS):
                if await leases.acquire(REFRESH_LEASE, self.instance, _utcnow(), LEASE_TTL) is None:
                    try:
                        if not await self._taken_from_store(stale):
                            await self._refresh_now()
                    finally:
                        await leases.release(REFRESH_LEASE, self.instance)
                    return
                if await self._taken_from_store(stale):  # the other instance has refreshed
                    return
                await asyncio.sleep(0.2)
            raise ZaloOAError(-1, "another instance is still refreshing the Zalo OA token")

    async def _taken_from_store(self, stale: str) -> bool:
        """Take the stored pair if it is newer than ``stale`` (refreshed elsewhere)."""
        stored = await self.repo.current(self.seed, self.now())
        if stored.access_token == stale:
            return False
        self._redact(stored)
        self.pair = stored
        return True

    async def _refresh_now(self) -> None:
        """Spend the refresh token for a new pair, stored before it is ever used."""
        if not self.pair.refresh_token or not self.secret_key:
            raise ZaloOAError(
                -216,
                "access token expired and cannot be refreshed "
                "(ZALO_OA_REFRESH_TOKEN / ZALO_OA_SECRET_KEY missing)",
            )
        body = await _post(
            self.session,
            self.url,
            headers={"secret_key": self.secret_key},
            data={
                "refresh_token": self.pair.refresh_token,
                "app_id": self.app_id,
                "grant_type": "refresh_token",
            },
        )
        access, refresh = body.get("access_token"), body.get("refresh_token")
        if not access:
            code = int(body.get("error", -1) or -1)
            reason = str(body.get("error_name") or body.get("message") or "no access_token")
            log.error("Zalo OA token refresh failed (%s): %s", code, reason)
            raise ZaloOAError(code, f"token refresh failed: {reason}")
        try:
            lifetime = dt.timedelta(seconds=int(str(body.get("expires_in", "90000"))))
        except ValueError:
            lifetime = dt.timedelta(hours=25)
        pair = TokenPair(
            str(access), str(refresh or self.pair.refresh_token), self.now() + lifetime
        )
        self._redact(pair)
        await self.repo.replace(pair, self.now())  # stored before it is ever used
        self.pair = pair
        log.info("Zalo OA access token refreshed; valid until %s", pair.expires_at)

    @staticmethod
    def _redact(pair: TokenPair) -> None:
        redacting_filter().add([pair.access_token, pair.refresh_token or ""])


class ZaloOAClient:
    def __init__(self, api_base: str, tokens: TokenKeeper, session: aiohttp.ClientSession) -> None:
        self.url = f"{api_base.rstrip('/')}/v3.0/oa/message/cs"
        self.tokens = tokens
        self.session = session

    async def send(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send one message; an expired token is refreshed and the message retried once."""
        body = {"recipient": {"user_id": user_id}, "message": message}
        token = await self.tokens.token()
        answer = await _post(self.session, self.url, headers={"access_token": token}, json=body)
        if int(answer.get("error", 0) or 0) in TOKEN_EXPIRED:
            log.info("Zalo OA access token rejected (%s); refreshing", answer.get("error"))
            try:
                await self.tokens.refresh(token)
            except ZaloOAError as exc:
                raise ZaloOAError(-216, f"access token expired; {exc.message}") from None
            token = await self.tokens.token()
            answer = await _post(self.session, self.url, headers={"access_token": token}, json=body)
        code = int(answer.get("error", 0) or 0)
        if code != 0:
            raise ZaloOAError(code, str(answer.get("message") or ""))
        return answer


def signature_ok(raw: bytes, header: str | None, app_id: str, secret: str) -> bool:
    """``X-ZEvent-Signature: mac=<sha256(app_id + body + timestamp + secret)>``."""
    if not header:
        return False
    mac = header.strip().removeprefix("mac=").strip().lower()
    try:
        event = json.loads(raw)
    except ValueError:
        return False
    timestamp = str(event.get("timestamp", "")) if isinstance(event, dict) else ""
    expected = hashlib.sha256(
        app_id.encode() + raw + timestamp.encode() + secret.encode()
    ).hexdigest()
    return hmac.compare_digest(mac.encode(), expected.encode())


_KINDS = {
    "user_send_text": "text",
    "user_send_image": "photo",
    "user_send_gif": "photo",
    "user_send_sticker": "sticker",
}
_OTHER = {
    "user_send_file",
    "user_send_audio",
    "user_send_video",
    "user_send_location",
    "user_send_link",
    "user_send_business_card",
}


def event_key(event: dict[str, Any]) -> str:
    message = event.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    if msg_id:
        return str(msg_id)
    person = event.get("sender") or event.get("follower") or {}
    who = person.get("id", "") if isinstance(person, dict) else ""
    return f"{event.get('event_name')}:{who}:{event.get('timestamp', '')}"


def incoming_of(event: dict[str, Any]) -> Incoming | None:
    """The core's view of a webhook event; ``None`` for events the bot does not answer."""
    name = str(event.get("event_name", ""))
    if name == "follow":  # a new follower is greeted as if they had typed /start
        follower = str(obj(event.get("follower") or {}, "follower").get("id") or "")
        if not follower:
            return None
        return Incoming(CHANNEL, follower, follower, text="/start", update_key=event_key(event))
    if name not in _KINDS and name not in _OTHER:
        return None
    sender = str(obj(event.get("sender") or {}, "sender").get("id") or "")
    if not sender:
        return None
    message = obj(event.get("message") or {}, "message")
    kind = _KINDS.get(name, "other")
    text = message.get("text") if kind == "text" and isinstance(message, dict) else None
    return Incoming(
        channel=CHANNEL,
        user_id=sender,
        chat_id=sender,
        text=text if isinstance(text, str) else None,
        update_key=event_key(event),
        kind=kind,
    )


@dataclass(frozen=True)
class Part:
    kind: str  # message | file
    message: dict[str, Any] | None = None
    file: Attachment | None = None


def messages_of(reply: Reply) -> list[dict[str, Any]]:
    """Text messages; a few choices become buttons whose payload (sent back as the user's text)
    is the label itself, which the core matches like a typed answer."""
    choices = reply.flat_choices()
    if not choices or len(choices) > MAX_BUTTONS or not reply.text.strip():
        return [{"text": piece} for piece in text_with_numbered_choices(reply)]
    pieces = split_text(reply.text, TEXT_LIMIT)
    messages: list[dict[str, Any]] = [{"text": piece} for piece in pieces]
    messages[-1]["attachment"] = {
        "type": "template",
        "payload": {
            "buttons": [
                {
                    "title": choice.label[:BUTTON_TITLE],
                    "type": "oa.query.show",
                    "payload": choice.label[:BUTTON_PAYLOAD],
                }
                for choice in choices
            ]
        },
    }
    return messages


class ZaloOATransport:
    channel = CHANNEL
    max_rate = 60.0  # quoted limit: 4,000 requests a minute per OA

    def __init__(self, client: ZaloOAClient, links: FileLinks | None) -> None:
        self.client = client
        self.links = links
        self.rate_limit_wait = 60.0  # after −32: the limit is counted per minute

    def parts(self, reply: Reply) -> list[Any]:
        parts: list[Any] = [Part("message", message=m) for m in messages_of(reply)]
        for attachment in (reply.photo, reply.document):
            if attachment is not None:
                parts.append(Part("file", file=attachment))
        return parts

    async def send_part(self, chat_id: str, part: Any) -> None:
        assert isinstance(part, Part)
        message = part.message
        if part.file is not None:
            if self.links is None:
                message = {"text": NO_FILES.format(name=part.file.filename)}
            else:
                url = await self.links.url_for(part.file)
                message = {"text": f"{part.file.caption or part.file.filename}\n{url}"}
        assert message is not None
        try:
            await self.client.send(chat_id, message)
        except ZaloOAError as exc:
            raise _outcome(exc, self.rate_limit_wait) from None
        except ZaloOANetworkError as exc:
            raise RetryLater(2.0, str(exc)) from None


def _outcome(exc: ZaloOAError, rate_limit_wait: float) -> Exception:
    if exc.code == OUTSIDE_WINDOW:
        return Unreachable(f"{exc.code}: ngoài thời hạn nhắn tin 7 ngày của Zalo ({exc.message})")
    if exc.code == RATE_LIMITED:
        return RetryLater(rate_limit_wait, f"{exc.code}: {exc.message or 'rate limit'}")
    if exc.code in TOKEN_EXPIRED:
        return RetryLater(30.0, f"{exc.code}: {exc.message}")
    return Rejected(f"{exc.code}: {exc.message}")
