"""Both Zalo channels end to end: the real bot against the fake Zalo servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.channels.zalo.text import split_text, text_with_numbered_choices
from bot.runner import Runtime
from handlers.broadcast import create_digest_job
from handlers.richtext import Doc
from handlers.types import Choice, Reply
from storage.reports import ReportRepo
from storage.sending import SendingRepo, SubscriptionRepo
from tests.fakes.zalo import FakeZaloBot, FakeZaloOA, post_bot_webhook
from tests.zalo_util import (
    ZALO_ADMIN,
    invite_code,
    number_of,
    running_zalo,
    webhook_url,
    zalo_env,
)

pytestmark = pytest.mark.slow  # real servers on 127.0.0.1 or the bot as its own process

OFFICER = "6ede9afa66b88fe6d6a9"


async def add_officers(app: App, channel: str, ids: list[str]) -> None:
    communes = await app.deps.communes.all()
    for n, who in enumerate(ids):
        user = await app.deps.users.ensure(channel, who, chat_id=who, display_name=who)
        await app.deps.users.register(user.id, "officer", communes[n].id)


async def send_digest(runtime: Runtime, key: str) -> tuple[int, SendingRepo]:
    """Create a digest send-out and wait until the running sender has dealt with all of it."""
    assert runtime.app is not None
    job = await create_digest_job(runtime.app.deps, runtime.app.clock.today(), key)
    assert job is not None
    runtime.sender.poke()
    sending = SendingRepo(runtime.app.db)
    for _ in range(100):
        if not (await sending.outcome(job)).get("pending"):
            break
        await asyncio.sleep(0.1)
    return job, sending


# -- Zalo Bot API ------------------------------------------------------------------------------


async def test_bot_api_question_invite_and_a_full_report_by_numbers(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    z = zalo_bot

    async def say(user: str, text: str) -> str:
        before = len(z.messages.get(user, []))
        z.push_text(user, text)
        return await z.answer(user, before)

    async with running_zalo(monkeypatch, tmp_path, bot=z) as runtime:
        answer = await say(OFFICER, "ai phu trach tieu chi 17.4")
        assert "Chỉ tiêu 17.4" in answer and "Phòng Kinh tế và Hạ tầng" in answer
        # a long answer: a phone screen, then the rest by the option's number or "xem thêm"
        duties = await say(OFFICER, "phong kinh te ha tang phu trach gi")
        assert "Xem thêm (2/" in duties
        second = await say(OFFICER, number_of(duties, "Xem thêm"))
        assert second.startswith("(tiếp theo, phần 2/")
        assert "(tiếp theo, phần 3/" in await say(OFFICER, "xem them")

        confirm = await say(ZALO_ADMIN, "/moi Dân Lực")
        created = await say(ZALO_ADMIN, number_of(confirm, "Tạo mã"))
        assert "t.me" not in created  # no Telegram link on Zalo
        welcome = await say(OFFICER, invite_code(created))  # on Zalo just the code will do
        assert "bạn là cán bộ xã Dân Lực" in welcome

        forms = await say(OFFICER, "/baocao")
        first = await say(OFFICER, number_of(forms, "Tỷ lệ người dân tham gia BHYT"))
        assert "Câu 1/2" in first
        assert "Câu 2/2" in await say(OFFICER, "12.500")
        summary = await say(OFFICER, "11.000")
        assert "Tỷ lệ tham gia BHYT: 88%" in summary
        # the option's words work as well as its number
        receipt = await say(OFFICER, "gui bao cao")
        assert "Đã nhận báo cáo số BC-000001" in receipt
        assert runtime.app is not None
        [report] = await ReportRepo(runtime.app.db).all()
        assert report.channel == "zalo_bot" and report.answers == {
            "population": 12500,
            "insured": 11000,
        }
    assert all(len(m.text) <= 2000 for chat in z.messages.values() for m in chat)
    assert z.calls.count("getUpdates") > 5  # idle long polls ended with 408 and went on


async def test_bot_api_redelivered_message_takes_effect_once(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    z = zalo_bot
    async with running_zalo(monkeypatch, tmp_path, bot=z):
        first = z.update(OFFICER, "hạn BHYT")
        z.deliver_twice.add(first["message"]["message_id"])
        z.push(first)
        await z.wait_for(OFFICER, 1)
        z.push_text(OFFICER, "/help")
        await z.wait_for(OFFICER, 2)
        await asyncio.sleep(0.3)
        assert len(z.messages[OFFICER]) == 2
        assert "30/09/2021" in z.messages[OFFICER][0].text


async def test_bot_api_webhook_checks_the_secret_and_takes_both_shapes(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    z = zalo_bot
    secret = "s3cret-webhook-token"
    env = zalo_env(
        tmp_path,
        bot=z,
        ZALO_BOT_MODE="webhook",
        ZALO_BOT_WEBHOOK_SECRET=secret,
        NTM_PUBLIC_URL="https://ntm.example.vn",
    )
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        assert z.webhook == {"url": "https://ntm.example.vn/zalo/bot", "secret_token": secret}
        url = webhook_url(runtime, "/zalo/bot")
        update = z.update(OFFICER, "/help")
        assert await post_bot_webhook(url, update, "wrong-secret-value") == 403
        assert await post_bot_webhook(url, update, None) == 403
        await asyncio.sleep(0.2)
        assert OFFICER not in z.messages
        assert await post_bot_webhook(url, update, secret, wrapped=True) == 200
        await z.wait_for(OFFICER, 1)
        assert await post_bot_webhook(url, update, secret, wrapped=False) == 200  # again
        bare = z.update(OFFICER, "hạn BHYT")
        assert await post_bot_webhook(url, bare, secret, wrapped=False) == 200
        await z.wait_for(OFFICER, 2)
        await asyncio.sleep(0.2)
        assert len(z.messages[OFFICER]) == 2  # the repeated /help was answered once
        sticker = z.update(OFFICER, event="message.sticker.received")
        assert await post_bot_webhook(url, sticker, secret) == 200
        await z.wait_for(OFFICER, 3)
        assert "dạng chữ" in z.last(OFFICER).text


async def test_bot_api_quota_exhaustion_is_recorded_not_lost(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    z = zalo_bot
    z.quota = 2  # the free plan's monthly messages run out during the digest
    async with running_zalo(monkeypatch, tmp_path, bot=z) as runtime:
        app = runtime.app
        zalo_bot = runtime.channel("zalo_bot")
        assert app is not None and zalo_bot is not None
        zalo_bot.transport.quota_wait = 0.05  # type: ignore[attr-defined]
        await add_officers(app, "zalo_bot", ["o0", "o1", "o2"])
        job, sending = await send_digest(runtime, "digest:quota")
        assert await sending.outcome(job) == {"sent": 2, "failed": 1}
        [missed] = await sending.not_reached(job)
        assert "429" in missed["last_error"]
    assert sum(len(m) for m in z.messages.values()) == 2


async def test_the_token_never_reaches_the_logs(
    monkeypatch: pytest.MonkeyPatch,
    zalo_bot: FakeZaloBot,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    z = zalo_bot
    caplog.set_level(logging.DEBUG)
    env = zalo_env(tmp_path, bot=z, NTM_LOG_LEVEL="DEBUG")
    async with running_zalo(monkeypatch, tmp_path, env=env):
        z.push_text(OFFICER, "/help")
        await z.wait_for(OFFICER, 1)
        await z.stop()  # the API goes away: connection errors are logged
        await asyncio.sleep(1.5)
    assert "getUpdates failed" in caplog.text
    assert z.token not in caplog.text
    assert z.token.split(":")[1] not in caplog.text


# -- Zalo OA -----------------------------------------------------------------------------------


async def test_oa_rejects_bad_signatures_and_answers_signed_events_once(
    monkeypatch: pytest.MonkeyPatch, zalo_oa: FakeZaloOA, tmp_path: Path
) -> None:
    oa = zalo_oa
    async with running_zalo(monkeypatch, tmp_path, oa=oa) as runtime:
        url = webhook_url(runtime, "/zalo/oa")
        event = oa.text_event(OFFICER, "ai phụ trách tiêu chí 17.4")
        assert await oa.post_event(url, event, secret="not-the-secret") == 401
        assert await oa.post_event(url, event, signature="") == 401
        await asyncio.sleep(0.2)
        assert OFFICER not in oa.messages
        assert await oa.post_event(url, event) == 200
        assert await oa.post_event(url, event) == 200  # Zalo retries: same msg_id
        [answer] = await oa.wait_for(OFFICER, 1)
        assert "Phòng Kinh tế và Hạ tầng" in answer.text
        await asyncio.sleep(0.3)
        assert len(oa.messages[OFFICER]) == 1


async def test_oa_report_with_buttons_and_a_token_refresh(
    monkeypatch: pytest.MonkeyPatch, zalo_oa: FakeZaloOA, tmp_path: Path
) -> None:
    oa = zalo_oa
    async with running_zalo(monkeypatch, tmp_path, oa=oa) as runtime:
        url = webhook_url(runtime, "/zalo/oa")

        async def say(user: str, text: str) -> str:
            before = len(oa.messages.get(user, []))
            assert await oa.post_event(url, oa.text_event(user, text)) == 200
            return await oa.answer(user, before)

        await say(ZALO_ADMIN, "/moi Thọ Dân")
        buttons = oa.last(ZALO_ADMIN).buttons
        assert [b["title"] for b in buttons][:1] == ["Tạo mã"]
        assert all(b["type"] == "oa.query.show" for b in buttons)
        created = await say(ZALO_ADMIN, buttons[0]["payload"])  # a tap sends the payload
        welcome = await say(OFFICER, f"/start {invite_code(created)}")
        assert "bạn là cán bộ xã Thọ Dân" in welcome and "họ và tên" in welcome
        await say(OFFICER, "Phạm Văn Dũng")
        check = await say(OFFICER, "Công chức Địa chính - Xây dựng")
        assert "Họ tên: Phạm Văn Dũng" in check
        assert [b["title"] for b in oa.last(OFFICER).buttons] == ["Đúng, lưu lại", "Nhập lại"]
        saved = await say(OFFICER, oa.last(OFFICER).buttons[0]["payload"])
        assert "Đã lưu: Phạm Văn Dũng (Công chức Địa chính - Xây dựng)" in saved

        forms = await say(OFFICER, "/baocao")
        oa.expire_access_token()  # the access token dies in the middle of the dialog
        await say(OFFICER, number_of(forms, "Tỷ lệ người dân tham gia BHYT"))
        assert oa.refreshes == 1
        await say(OFFICER, "8.000")
        summary = await say(OFFICER, "7.000")
        assert "Tỷ lệ tham gia BHYT: 87,5%" in summary
        send = next(b for b in oa.last(OFFICER).buttons if b["title"] == "Gửi báo cáo")
        receipt = await say(OFFICER, send["payload"])
        assert "Đã nhận báo cáo số BC-000001" in receipt
        assert runtime.app is not None
        row = await runtime.app.db.fetchone("SELECT * FROM oauth_tokens")
        assert row is not None
        assert (row["access_token"], row["refresh_token"]) == (oa.access_token, oa.refresh_token)


async def test_oa_keeps_the_refreshed_pair_across_restarts_and_refreshes_before_expiry(
    monkeypatch: pytest.MonkeyPatch, zalo_oa: FakeZaloOA, tmp_path: Path
) -> None:
    oa = zalo_oa
    env = zalo_env(tmp_path, oa=oa)  # the first pair, as the operator configured it
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        url = webhook_url(runtime, "/zalo/oa")
        oa.expire_access_token()
        assert await oa.post_event(url, oa.text_event(OFFICER, "/help")) == 200
        await oa.wait_for(OFFICER, 1)
        assert oa.refreshes == 1  # the first refresh token is now spent
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        url = webhook_url(runtime, "/zalo/oa")
        assert await oa.post_event(url, oa.text_event(OFFICER, "hạn BHYT")) == 200
        await oa.wait_for(OFFICER, 2)
        assert oa.refreshes == 1  # the stored pair worked; the spent one was not tried
        assert runtime.app is not None
        soon = (runtime.app.clock.now() + dt.timedelta(minutes=3)).astimezone(dt.UTC)
        await runtime.app.db.execute("UPDATE oauth_tokens SET expires_at = ?", (soon.isoformat(),))
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        url = webhook_url(runtime, "/zalo/oa")
        assert await oa.post_event(url, oa.text_event(OFFICER, "/help")) == 200
        await oa.wait_for(OFFICER, 3)
        assert oa.refreshes == 2  # refreshed ahead of expiry, before sending
        assert oa.token_rejections == 1  # only the very first expiry was met by a send


async def test_oa_digest_records_users_outside_the_messaging_window(
    monkeypatch: pytest.MonkeyPatch, zalo_oa: FakeZaloOA, tmp_path: Path
) -> None:
    oa = zalo_oa
    oa.outside_window = {"quiet-officer"}
    async with running_zalo(monkeypatch, tmp_path, oa=oa) as runtime:
        app = runtime.app
        assert app is not None
        await add_officers(app, "zalo_oa", ["officer-a", "officer-b", "quiet-officer"])
        await SubscriptionRepo(app.db).add("zalo_oa", ZALO_ADMIN, "vi", 1, app.clock.now())
        job, sending = await send_digest(runtime, "digest:zalo")
        assert await sending.outcome(job) == {"sent": 3, "unreachable": 1}
        district = "\n".join(oa.texts(ZALO_ADMIN))
        assert "Bản tin tuần" in district and "huyện Triệu Sơn" in district
        assert all(len(m.text) <= 2000 for m in oa.messages[ZALO_ADMIN])
        quiet = await app.deps.users.get("zalo_oa", "quiet-officer")
        assert quiet is not None and quiet.unreachable_at is not None
        url = webhook_url(runtime, "/zalo/oa")
        before = len(oa.messages[ZALO_ADMIN])
        assert await oa.post_event(url, oa.text_event(ZALO_ADMIN, "/tonghop")) == 200
        summary = await oa.wait_for_text(ZALO_ADMIN, before, "-230")
        assert "không đến được 1" in summary and "quiet-officer" in summary and "-230" in summary


async def test_files_reach_zalo_as_expiring_links(
    monkeypatch: pytest.MonkeyPatch, zalo_bot: FakeZaloBot, tmp_path: Path
) -> None:
    z = zalo_bot
    env = zalo_env(tmp_path, bot=z, NTM_PUBLIC_URL="https://ntm.example.vn")
    async with running_zalo(monkeypatch, tmp_path, env=env) as runtime:
        z.push_text(ZALO_ADMIN, "/xuat")
        messages = await z.wait_for(ZALO_ADMIN, 2)
        links = [line for m in messages for line in m.text.splitlines() if "/files/" in line]
        assert links and all(link.startswith("https://ntm.example.vn/files/") for link in links)
        local = links[0].replace("https://ntm.example.vn", f"http://127.0.0.1:{runtime.web.port}")
        async with aiohttp.ClientSession() as session:
            async with session.get(local) as response:
                assert response.status == 200
                body = await response.read()
            async with session.get(local.replace("/files/", "/files/x")) as response:
                assert response.status == 404
        assert body[:2] == b"PK"  # an .xlsx (zip) workbook


def test_long_texts_are_split_at_line_ends_and_choices_numbered() -> None:
    lines = [f"Dòng {n}: " + " ".join(["nội dung kế hoạch"] * 6) for n in range(60)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1 and all(len(p) <= 2000 for p in pieces)
    assert all(p.startswith("Dòng ") for p in pieces)  # cut between lines, not inside one
    assert "".join(pieces).replace("\n", "") == "".join(lines)
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]
    reply = Reply(
        Doc.of("Chọn mẫu báo cáo:"), [[Choice("Đạt", "a:1")], [Choice("Chưa đạt", "a:2")]]
    )
    assert text_with_numbered_choices(reply) == ["Chọn mẫu báo cáo:\n\n1. Đạt\n2. Chưa đạt"]


async def test_two_instances_never_spend_the_refresh_token_twice(
    zalo_oa: FakeZaloOA, tmp_path: Path
) -> None:
    """Zalo's refresh token works once: of two instances on one database whose token expires
    at the same moment, one refreshes and the other takes the pair it stored."""
    import aiohttp

    from bot.channels.zalo.oa_api import TokenKeeper
    from storage.db import Database
    from storage.migrate import migrate
    from storage.oauth import TokenPair, TokenRepo

    oa = zalo_oa
    seed = TokenPair(oa.access_token, oa.refresh_token, None)
    path = tmp_path / "shared.sqlite3"
    async with (
        Database(path) as first_db,
        Database(path) as second_db,
        aiohttp.ClientSession() as http,
    ):
        await migrate(first_db)
        keepers = []
        for n, db in enumerate((first_db, second_db)):
            keeper = TokenKeeper(
                TokenRepo(db, "zalo_oa"), seed, session=http, oauth_base=oa.base_url,
                app_id=oa.app_id, secret_key=oa.app_secret,
                now=lambda: dt.datetime.now(dt.UTC), instance=f"instance-{n}",
            )  # fmt: skip
            await keeper.load()
            keepers.append(keeper)
        stale = seed.access_token
        await asyncio.gather(*(k.refresh(stale) for k in keepers))
        assert oa.refreshes == 1  # spent once
        assert keepers[0].pair.access_token == keepers[1].pair.access_token == oa.access_token
        assert keepers[0].pair.refresh_token == oa.refresh_token
        assert await first_db.fetchval("SELECT count(*) FROM leases") == 0  # released
