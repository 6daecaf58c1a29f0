"""The Telegram session keeps each parsed-response model it uses alive (pydantic only holds
them weakly, so aiogram rebuilt ``Response[Message]`` after garbage collections)."""

from __future__ import annotations

import gc
import json
import weakref

import pydantic._internal._generics as generics
from aiogram import Bot
from aiogram.methods import GetMyDescription, Response
from aiogram.types import BotDescription

from bot.channels.telegram.session import PinnedResponseSession


def test_the_response_model_is_held_and_reused() -> None:
    session = PinnedResponseSession()
    bot = Bot("42:TEST", session=session)
    answer = json.dumps({"ok": True, "result": {"description": "Trợ lý NTM"}})
    parsed = session.check_response(bot, GetMyDescription(), 200, answer)
    assert isinstance(parsed.result, BotDescription)
    assert parsed.result.description == "Trợ lý NTM"
    model = weakref.ref(type(parsed))
    assert type(parsed) in PinnedResponseSession._pinned.values()  # held strongly
    del parsed
    gc.collect()
    assert model() is Response[BotDescription]  # still alive: the same class, not a rebuild
    again = session.check_response(bot, GetMyDescription(), 200, answer)
    assert type(again) is model()


def test_pydantic_holds_parametrised_models_weakly_which_is_why_the_session_exists() -> None:
    # If a newer pydantic keeps them by itself, this fails: bot/channels/telegram/session.py
    # can then go.
    assert isinstance(generics._GENERIC_TYPES_CACHE, weakref.WeakValueDictionary)
