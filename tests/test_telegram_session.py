"""The Telegram session keeps each parsed-response model it uses alive (pydantic only holds
them weakly, so aiogram rebuilt ``Response[Message]`` after garbage collections), and sends a
call without files as a JSON body rather than a percent-encoded form."""

from __future__ import annotations

import gc
import json
import weakref

import pydantic._internal._generics as generics
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import GetMyDescription, Response, SendMessage, SendPhoto
from aiogram.types import (
    BotDescription,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
)

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


def test_a_call_without_files_is_one_json_body_as_aiogram_would_send_it() -> None:
    session = PinnedResponseSession()
    bot = Bot("42:TEST", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Cấp xã", callback_data="lv:xa")]]
    )
    method = SendMessage(
        chat_id=7,
        text="Chỉ tiêu <b>17.4</b>",
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    body = session.json_body(bot, method)
    assert body is not None
    sent = json.loads(body)
    assert sent["chat_id"] == 7 and sent["text"] == "Chỉ tiêu <b>17.4</b>"
    assert sent["parse_mode"] == "HTML"  # the bot's default, resolved
    assert sent["reply_markup"] == {
        "inline_keyboard": [[{"text": "Cấp xã", "callback_data": "lv:xa"}]]
    }
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert None not in sent.values() and "message_thread_id" not in sent  # unset: left out


def test_a_call_with_a_file_goes_as_a_form() -> None:
    session = PinnedResponseSession()
    bot = Bot("42:TEST", session=session)
    photo = SendPhoto(chat_id=7, photo=BufferedInputFile(b"\xff\xd8", filename="a.jpg"))
    assert session.json_body(bot, photo) is None
