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
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast(TelegramType, response.result)
