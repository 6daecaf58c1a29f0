"""aiogram's HTTP session, with two costs of every call taken back.

1. aiogram validates every answer with ``Response[method.__returning__]``. pydantic keeps such
   parametrised models in a *weak* cache, and nothing else holds them, so every garbage
   collection drops them and the next call builds ``Response[Message]`` (a new model class
   and its validator, ~4 ms on the event loop) again: under 100 reporting officers that
   happened dozens of times a minute (bench/reports.py, py-spy). One strong reference per
   return type, a handful in all, keeps them built.
2. aiogram posts every call as a form: each value percent-encoded in Python, byte by byte,
   and a multipart writer (with a random boundary) built for it. An answer is several hundred
   characters of Vietnamese, so that was the largest part of sending one (bench/telegram.py,
   cProfile). The Bot API takes the same parameters as a JSON body ("application/json, except
   for uploading files"), encoded in C: a call without files is sent so; one with files goes
   the form's way, as aiogram does it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

JSON_HEADERS = {"Content-Type": "application/json"}


class PinnedResponseSession(AiohttpSession):
    _pinned: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._pinned:
            self._pinned[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> str | None:
        """The call's parameters as a JSON body, or ``None`` when it uploads files. The
        values aiogram would leave out of its form (unset, empty) are left out here too."""
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":
                continue
            body[key] = prepared
        if files:
            return None
        return self.json_dumps(body)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        status, content = await self._post(bot, method, body, timeout)
        response = self.check_response(bot=bot, method=method, status_code=status, content=content)
        return cast(TelegramType, response.result)

    async def send_unread(self, bot: Bot, method: TelegramMethod[Any]) -> None:
        """Make a call whose result is not needed (the message Telegram echoes back, with
        every entity of a long answer: validating it was a fifth of sending one). Success is
        read from the answer's "ok"; a failure raises the API's error as aiogram does."""
        body = self.json_body(bot, method)
        if body is None:
            await bot(method)
            return
        status, content = await self._post(bot, method, body, None)
        if HTTPStatus.OK <= status <= HTTPStatus.IM_USED:
            try:
                answer = self.json_loads(content)
            except ValueError:
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is True:
                return
        self.check_response(bot=bot, method=method, status_code=status, content=content)

    async def _post(
        self, bot: Bot, method: TelegramMethod[Any], body: str, seconds: float | None
    ) -> tuple[int, str]:
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        limit = ClientTimeout(total=self.timeout if seconds is None else seconds)
        try:
            async with session.post(url, data=body, headers=JSON_HEADERS, timeout=limit) as resp:
                return resp.status, await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
