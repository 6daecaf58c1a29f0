"""End to end through the real aiogram client polling the fake Telegram server."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.telegram.render import html_chunks
from handlers.richtext import Doc, b
from handlers.types import Reply
from storage.db import Database
from tests.fakes.telegram import FakeTelegram, parse_html
from tests.telegram_util import running_bot, text_update

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1 or the bot as its own process

USER = 501


async def test_question_gets_the_owner(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "ai phụ trách tiêu chí 17.4")
        [answer] = await fake_telegram.wait_for(USER, 1)
    assert "Phòng Kinh tế và Hạ tầng" in answer.text
    assert "30/10/2021" in answer.text and "15/11/2021" in answer.text
    assert "<b>" in answer.html  # HTML parse mode, accepted by the strict parser
    assert ("sendMessage", "application/json") in fake_telegram.content_types


async def test_commands_are_registered_in_both_languages(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        pass
    default = json.dumps({"type": "default"}, sort_keys=True)
    vi = {c["command"]: c["description"] for c in fake_telegram.commands[(default, "")]}
    en = {c["command"]: c["description"] for c in fake_telegram.commands[(default, "en")]}
    assert {"start", "help", "tieuchi", "donvi", "hanchot", "lang"} <= set(vi)
    assert vi.keys() == en.keys()
    assert vi["tieuchi"] != en["tieuchi"] and "criteria" in en["tieuchi"].lower()
    admin_scope = json.dumps({"type": "chat", "chat_id": 9001}, sort_keys=True)
    assert (admin_scope, "") in fake_telegram.commands
    assert fake_telegram.calls[0][0] == "getMe"  # the token is checked before anything else


async def test_browsing_criteria_with_buttons(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "/tieuchi")
        [menu] = await fake_telegram.wait_for(USER, 1)
        assert [label for label, _ in menu.buttons] == [
            "Cấp xã (19 tiêu chí)",
            "Cấp huyện (9 tiêu chí)",
        ]
        assert all(len(data.encode()) <= 64 for _, data in menu.buttons)

        fake_telegram.press(USER, menu, "Cấp xã")
        await fake_telegram.wait_until(lambda: menu.edits == 1)
        assert "Tiêu chí cấp xã" in menu.text
        assert len(menu.buttons) == 20  # 19 criteria and Back

        fake_telegram.press(USER, menu, "17.")
        await fake_telegram.wait_until(lambda: menu.edits == 2)
        assert "Tiêu chí 17 (cấp xã)" in menu.text

        fake_telegram.press(USER, menu, "17.4")
        await fake_telegram.wait_until(lambda: menu.edits == 3)
        assert "Phòng Kinh tế và Hạ tầng" in menu.text

        fake_telegram.press(USER, menu, "Thời hạn")
        await fake_telegram.wait_until(lambda: menu.edits == 4)
        assert "Thời hạn — Chỉ tiêu 17.4" in menu.text

        fake_telegram.press(USER, menu, "◀")
        await fake_telegram.wait_until(lambda: menu.edits == 5)
        assert "Chỉ tiêu 17.4 (cấp xã)" in menu.text
        await fake_telegram.wait_until(lambda: len(fake_telegram.answered_callbacks) == 5)
    assert len(fake_telegram.sent(USER)) == 1  # every step edited the same message


async def test_units_and_deadlines_menus(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "/donvi")
        [units] = await fake_telegram.wait_for(USER, 1)
        fake_telegram.press(USER, units, "Phòng Tư pháp")
        await fake_telegram.wait_until(lambda: units.edits == 1)
        assert "18.5" in units.text

        fake_telegram.push_text(USER, "/hanchot")
        messages = await fake_telegram.wait_for(USER, 2)
        due = messages[-1]
        assert "Việc đến hạn trong 30 ngày tới (15/10/2021 – 14/11/2021)" in due.text
        assert "Đã quá hạn" in due.text  # 30/09/2021 items
        fake_telegram.press(USER, due, "11/2021")
        await fake_telegram.wait_until(lambda: due.edits == 1)
        assert "tháng 11/2021" in due.text
        fake_telegram.press(USER, due, "12/2021 ▶")
        await fake_telegram.wait_until(lambda: due.edits == 2)
        assert "tháng 12/2021" in due.text


async def test_a_long_answer_has_a_more_button(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "Phòng Kinh tế và Hạ tầng phụ trách gì")
        [first] = await fake_telegram.wait_for(USER, 1)
        assert len(first.text) <= 600
        [(label, _)] = first.buttons
        assert label.startswith("Xem thêm (2/")
        fake_telegram.press(USER, first, label)
        second = (await fake_telegram.wait_for(USER, 2))[-1]
    assert second.text.startswith("(tiếp theo, phần 2/")
    assert second.text not in first.text


async def test_ambiguous_question_offers_level_buttons(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "tiêu chí 6")
        [answer] = await fake_telegram.wait_for(USER, 1)
        assert [label for label, _ in answer.buttons] == ["Cấp xã", "Cấp huyện"]
        fake_telegram.press(USER, answer, "Cấp huyện")
        await fake_telegram.wait_until(lambda: answer.edits == 1)
    assert "Tiêu chí 6 (cấp huyện): Sản xuất" in answer.text


async def test_language_switch_is_stored(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        fake_telegram.push_text(USER, "/lang")
        [menu] = await fake_telegram.wait_for(USER, 1)
        fake_telegram.press(USER, menu, "English")
        await fake_telegram.wait_for(USER, 2)
        assert fake_telegram.last(USER).text.startswith("Switched to English.")
        fake_telegram.push_text(USER, "tiêu chí 17.4")
        await fake_telegram.wait_for(USER, 3)
        assert "Lead unit" in fake_telegram.last(USER).text
        assert runtime.app is not None
        user = await runtime.app.deps.users.get("telegram", str(USER))
        assert user is not None and user.lang == "en"
    # The choice survives a restart (it is in the database, not in FSM data).
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "/help")
        await fake_telegram.wait_for(USER, 4)
        assert "How to use the bot" in fake_telegram.last(USER).text


async def test_redelivered_update_is_handled_once(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        update_id = fake_telegram.push_text(USER, "hạn BHYT")
        await fake_telegram.wait_for(USER, 1)
        await fake_telegram.wait_until(lambda: fake_telegram.confirmed >= update_id)
        fake_telegram.redeliver(update_id)
        fake_telegram.push_text(USER, "tiêu chí 17.4")  # a marker that the redelivery was read
        await fake_telegram.wait_for(USER, 2)
        await asyncio.sleep(0.2)
        assert runtime.app is not None
        assert await runtime.app.deps.updates.seen("telegram", str(update_id))
    texts = [m.text for m in fake_telegram.sent(USER)]
    assert len(texts) == 2 and "BHYT" in texts[0] and "17.4" in texts[1]


async def test_flood_control_is_honoured(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_text(USER, "hạn BHYT")
        [answer] = await fake_telegram.wait_for(USER, 1, timeout=10)
    assert "30/09/2021" in answer.text
    send_calls = [c for c in fake_telegram.calls if c[0] == "sendMessage"]
    assert len(send_calls) == 2


async def test_server_errors_and_network_faults_do_not_stop_polling(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.fail_next("getUpdates", 502, "Bad Gateway", count=2)
        fake_telegram.fail_next("sendMessage", 500, "Internal Server Error")
        fake_telegram.push_text(USER, "hạn BHYT")
        [answer] = await fake_telegram.wait_for(USER, 1, timeout=15)
    assert "30/09/2021" in answer.text


async def test_stickers_get_a_polite_text_only_answer(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.push_sticker(USER)
        [answer] = await fake_telegram.wait_for(USER, 1)
    assert "chỉ đọc được tin nhắn dạng chữ" in answer.text


async def test_throttling_drops_floods_with_one_notice(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path, NTM_THROTTLE_SECONDS="5"):
        for _ in range(10):
            fake_telegram.push_text(USER, "hạn BHYT")
        await fake_telegram.wait_for(USER, 6)
        await asyncio.sleep(0.3)
    texts = [m.text for m in fake_telegram.sent(USER)]
    notices = [t for t in texts if "gửi tin nhắn hơi nhanh" in t]
    assert len(notices) == 1
    assert len([t for t in texts if "30/09/2021" in t]) == 5  # the burst allowance


async def test_updates_are_answered_while_their_batch_is_stored_and_confirmed_only_after(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    release = asyncio.Event()
    execute = Database.execute

    async def slow_inbox_row(self: Database, sql: str, params: Any = ()) -> Any:
        if sql.startswith("INSERT INTO inbox"):
            await release.wait()  # the batch's row is written late: after its answer
        return await execute(self, sql, params)

    monkeypatch.setattr(Database, "execute", slow_inbox_row)
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        update_id = fake_telegram.push_text(USER, "hạn BHYT")
        [answer] = await fake_telegram.wait_for(USER, 1)  # not kept waiting for the write
        assert "30/09/2021" in answer.text
        await asyncio.sleep(0.2)  # (handled; its inbox row would be deleted now if it could)
        assert fake_telegram.confirmed < update_id  # not confirmed before it is stored
        release.set()
        await fake_telegram.wait_until(lambda: fake_telegram.confirmed >= update_id)
        assert runtime.app is not None
        db = runtime.app.db

        async def inbox_rows() -> list[Any]:
            return list(await db.fetchall("SELECT update_key FROM inbox"))

        for _ in range(100):  # handled, then written: the row is not left behind
            if not await inbox_rows():
                break
            await asyncio.sleep(0.02)
        assert await inbox_rows() == []


async def test_an_answer_telegram_refuses_as_html_goes_out_as_plain_text(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    # the answer's echo is not read, but a refusal still raises aiogram's error
    async with running_bot(monkeypatch, fake_telegram, tmp_path):
        fake_telegram.fail_next(
            "sendMessage", 400, "Bad Request: can't parse entities: unsupported start tag"
        )
        fake_telegram.push_text(USER, "ai phụ trách tiêu chí 17.4")
        [answer] = await fake_telegram.wait_for(USER, 1)
    assert "Phòng Kinh tế và Hạ tầng" in answer.text
    assert "<b>" not in answer.html  # sent again without markup
    sent = [params for method, params in fake_telegram.calls if method == "sendMessage"]
    assert "parse_mode" in sent[0] and "parse_mode" not in sent[-1]


async def test_the_flood_notice_is_in_the_persons_language(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path, NTM_THROTTLE_SECONDS="5"):
        fake_telegram.push_text(USER, "/lang")
        [menu] = await fake_telegram.wait_for(USER, 1)
        fake_telegram.press(USER, menu, "English")
        await fake_telegram.wait_for(USER, 2)
        for _ in range(10):
            fake_telegram.push_text(USER, "hạn BHYT")
        await fake_telegram.wait_for(USER, 6)
        await asyncio.sleep(0.3)
    texts = [m.text for m in fake_telegram.sent(USER)]
    assert len([t for t in texts if "a little fast" in t]) == 1
    assert not [t for t in texts if "hơi nhanh" in t]


async def test_errors_are_apologised_and_logged_with_the_update_id(
    monkeypatch: pytest.MonkeyPatch,
    fake_telegram: FakeTelegram,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_bot(monkeypatch, fake_telegram, tmp_path) as runtime:
        assert runtime.app is not None

        async def broken(ctx: object, text: str) -> bool:
            raise RuntimeError("simulated bug")

        runtime.app.conversation.free_text = [broken]
        with caplog.at_level(logging.ERROR):
            update_id = fake_telegram.push_text(USER, "câu hỏi bất kỳ")
            [answer] = await fake_telegram.wait_for(USER, 1)
    assert "đã có lỗi" in answer.text
    assert "Traceback" not in answer.text and "simulated bug" not in answer.text
    assert any(f"update {update_id} failed" in r.getMessage() for r in caplog.records)


async def test_webhook_checks_the_secret(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    secret = "the-webhook-secret_42"
    async with running_bot(
        monkeypatch,
        fake_telegram,
        tmp_path,
        TELEGRAM_WEBHOOK_URL="https://ntm.example.org/tg/hook",
        TELEGRAM_WEBHOOK_SECRET=secret,
    ) as runtime:
        assert fake_telegram.webhook["url"] == "https://ntm.example.org/tg/hook"
        assert fake_telegram.webhook["secret_token"] == secret
        url = f"http://127.0.0.1:{runtime.web.port}/tg/hook"
        update = {
            "update_id": 77,
            "message": {
                "message_id": 5,
                "date": 1634000000,
                "text": "hạn BHYT",
                "chat": {"id": USER, "type": "private", "first_name": "A"},
                "from": {"id": USER, "is_bot": False, "first_name": "A"},
            },
        }
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as missing:
                assert missing.status == 401
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as wrong:
                assert wrong.status == 401
            assert fake_telegram.sent(USER) == []
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
            ) as right:
                assert right.status == 200
            [answer] = await fake_telegram.wait_for(USER, 1)
            assert "30/09/2021" in answer.text
            async with http.get(f"http://127.0.0.1:{runtime.web.port}/healthz") as health:
                assert health.status == 200
                assert (await health.json())["status"] == "ok"


async def test_a_button_tap_delivered_twice_by_webhook_is_handled_once_and_quietly(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Telegram retries a tap whose webhook call it thinks failed: one reply, the button
    answered once, no apology, nothing set aside for the office. (Two instances receiving it
    at once, where the second finds out only in the unit of work and its answer to the tap
    is refused, is in ``test_instances``.)"""
    secret = "the-webhook-secret_42"
    async with running_bot(
        monkeypatch,
        fake_telegram,
        tmp_path,
        TELEGRAM_WEBHOOK_URL="https://ntm.example.org/tg/hook",
        TELEGRAM_WEBHOOK_SECRET=secret,
    ) as runtime:
        url = f"http://127.0.0.1:{runtime.web.port}/tg/hook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        question = text_update(USER, "/tieuchi", 80)
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=question, headers=headers) as response:
                assert response.status == 200
            [menu] = await fake_telegram.wait_for(USER, 1)
            _, data = menu.buttons[0]
            tap = {"update_id": 81, **fake_telegram.callback_query(USER, menu, data)}

            async def deliver() -> int:
                async with http.post(url, json=tap, headers=headers) as response:
                    return response.status

            assert await asyncio.gather(deliver(), deliver()) == [200, 200]
        assert runtime.app is not None
        dead = await runtime.app.db.fetchall("SELECT * FROM dead_letters")
    assert len(fake_telegram.answered_callbacks) == 1
    assert not any("lỗi" in m.text for m in fake_telegram.sent(USER))
    assert dead == []
    assert menu.edits + len(fake_telegram.sent(USER)) == 2  # one reply to the tap


def test_webhook_url_without_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.settings import ConfigError, load_settings

    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://ntm.example.org/tg")
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings()


def test_long_replies_are_split_into_valid_messages() -> None:
    doc = Doc()
    for i in range(600):
        doc.bullet(b(f"Mục {i} <&>"), " — nội dung có dấu & ký tự <đặc biệt> 🙂")
    chunks = html_chunks(Reply(doc))
    assert len(chunks) > 1
    for chunk in chunks:
        plain = parse_html(chunk)  # raises like Telegram on malformed HTML
        assert len(plain.encode("utf-16-le")) // 2 <= 4096


async def test_the_web_link_is_sent_without_a_preview(
    monkeypatch: pytest.MonkeyPatch, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Telegram fetches a link to draw its preview; the one-time sign-in link goes without."""
    from tests.telegram_util import ADMIN

    env = {"NTM_PUBLIC_URL": "https://ntm.example.vn"}
    async with running_bot(monkeypatch, fake_telegram, tmp_path, **env):
        fake_telegram.push_text(ADMIN, "hạn BHYT")
        [answer] = await fake_telegram.wait_for(ADMIN, 1)
        assert answer.preview_disabled is False  # other answers keep previews
        fake_telegram.push_text(ADMIN, "/web")
        link = (await fake_telegram.wait_for(ADMIN, 2))[-1]
        assert "https://ntm.example.vn/web/login?t=" in link.text
        assert link.preview_disabled is True
