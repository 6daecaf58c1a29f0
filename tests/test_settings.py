"""Settings come from the documented environment variables; bad values fail in one line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


def test_defaults() -> None:
    settings = load_settings()
    assert settings.db_path == Path("data/ntm.sqlite3")
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base == "https://api.telegram.org"
    assert settings.webhook_port == 8080
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.today is None
    assert settings.admin_ids == []
    assert settings.lang == "vi"
    assert settings.log_level == "INFO"
    assert not settings.telegram_enabled


def test_contract_names_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "NTM_DB_PATH": str(tmp_path / "x.sqlite3"),
        "TELEGRAM_BOT_TOKEN": "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678",
        "TELEGRAM_API_BASE": "http://127.0.0.1:9999/",
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-Token_1",
        "NTM_WEBHOOK_HOST": "127.0.0.1",
        "NTM_WEBHOOK_PORT": "8443",
        "NTM_TIMEZONE": "Asia/Bangkok",
        "NTM_TODAY": "2021-10-15",
        "NTM_ADMIN_IDS": "11, 22,33",
        "NTM_LANG": "en",
        "NTM_LOG_LEVEL": "DEBUG",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.db_path == tmp_path / "x.sqlite3"
    assert settings.telegram_enabled
    assert settings.telegram_api_base == "http://127.0.0.1:9999"  # trailing slash removed
    assert settings.telegram_webhook_url == "https://bot.example.org/tg"
    assert settings.webhook_host == "127.0.0.1"
    assert settings.webhook_port == 8443
    assert settings.timezone == "Asia/Bangkok"
    assert settings.today == dt.date(2021, 10, 15)
    assert settings.admin_ids == [11, 22, 33]
    assert settings.lang == "en"
    assert settings.log_level == "DEBUG"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NTM_LANG=en\nNTM_ADMIN_IDS=7\n", encoding="utf-8")
    settings = load_settings()  # the working directory is tmp_path (see conftest)
    assert settings.lang == "en"
    assert settings.admin_ids == [7]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NTM_WEBHOOK_PORT", "eighty"),
        ("NTM_WEBHOOK_PORT", "70000"),
        ("NTM_TIMEZONE", "Mars/Olympus"),
        ("NTM_TODAY", "15/10/2021"),
        ("NTM_ADMIN_IDS", "12,abc"),
        ("NTM_LANG", "fr"),
        ("NTM_LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_BASE", "ftp://example.org"),
        ("TELEGRAM_WEBHOOK_SECRET", "has spaces!"),
        ("NTM_DATABASE_URL", "postgresql://ntm:pw-secret@db:99999/ntm"),
        ("NTM_DATABASE_URL", "postgresql://ntm:pw-secret@db:54x/ntm"),
        ("NTM_DATABASE_URL", "postgresql://ntm:pw-secret@db/ntm?sslmode=strict"),
        ("NTM_DATABASE_URL", "mysql://ntm:pw-secret@db/ntm"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message
    assert "\n" not in message
    assert "pw-secret" not in message  # a database address is never repeated: it holds one


def test_a_malformed_database_url_stops_the_cli_with_one_line() -> None:
    from tests.cli_util import run_cli

    done = run_cli("db", "migrate", env={"NTM_DATABASE_URL": "postgresql://u:pw-secret@h:70000/x"})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "Cấu hình không hợp lệ: NTM_DATABASE_URL: cổng (port) phải là một số từ 1 đến 65535"
    ]
    assert "Traceback" not in done.stderr + done.stdout and "pw-secret" not in done.stderr


def test_secrets_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "webhook-secret-value")
    settings = load_settings()
    assert token not in repr(settings)
    assert token not in str(settings.model_dump())
    assert "webhook-secret-value" not in repr(settings)
    assert token in settings.secret_values()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ZALO_BOT_TOKEN": "1:abc", "ZALO_BOT_MODE": "webhook"}, "ZALO_BOT_WEBHOOK_SECRET"),
        ({"ZALO_BOT_WEBHOOK_SECRET": "short"}, "8 đến 256"),
        ({"ZALO_OA_APP_ID": "1", "ZALO_OA_ACCESS_TOKEN": "t"}, "ZALO_OA_SIGNATURE_SECRET"),
        ({"NTM_PUBLIC_URL": "ntm.example.vn"}, "NTM_PUBLIC_URL"),
        ({"ZALO_BOT_MODE": "push"}, "ZALO_BOT_MODE"),
    ],
)
def test_zalo_settings_that_cannot_work_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_zalo_channels_are_enabled_by_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZALO_BOT_TOKEN", "1234:abc-xyz")
    monkeypatch.setenv("ZALO_OA_APP_ID", "42")
    monkeypatch.setenv("ZALO_OA_ACCESS_TOKEN", "access")
    monkeypatch.setenv("ZALO_OA_SECRET_KEY", "app-secret")
    monkeypatch.setenv("NTM_PUBLIC_URL", "https://ntm.example.vn/")
    settings = load_settings()
    assert settings.zalo_bot_enabled and settings.zalo_oa_enabled
    assert settings.zalo_bot_mode == "polling"
    assert settings.zalo_oa_signing_secret == "app-secret"  # the secret key, unless set apart
    assert settings.public_url == "https://ntm.example.vn"
    monkeypatch.setenv("ZALO_OA_SIGNATURE_SECRET", "oa-secret")
    assert load_settings().zalo_oa_signing_secret == "oa-secret"


ZALO_BOT = {"ZALO_BOT_TOKEN": "12345:abcdef"}
ZALO_OA = {"ZALO_OA_APP_ID": "app1", "ZALO_OA_ACCESS_TOKEN": "at", "ZALO_OA_SECRET_KEY": "sk"}


@pytest.mark.parametrize(
    ("env", "admins"),
    [
        (
            {"NTM_ZALO_ADMIN_IDS": "bot:111, oa:222"} | ZALO_BOT | ZALO_OA,
            {("zalo_bot", "111"), ("zalo_oa", "222")},
        ),
        ({"NTM_ZALO_ADMIN_IDS": "111"} | ZALO_BOT, {("zalo_bot", "111")}),
        ({"NTM_ZALO_ADMIN_IDS": "222"} | ZALO_OA, {("zalo_oa", "222")}),
        ({"NTM_ZALO_ADMIN_IDS": "oa:222"} | ZALO_BOT, {("zalo_oa", "222")}),
    ],
)
def test_zalo_admins_belong_to_one_zalo_channel(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], admins: set[tuple[str, str]]
) -> None:
    """Zalo Bot and Zalo OA number their users separately: the same digits on the other
    channel are somebody else, who must not become an administrator."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings().zalo_admins == admins


@pytest.mark.parametrize("ids", ["111", "bot:1,222"])
def test_a_plain_zalo_admin_id_is_refused_when_both_zalo_channels_run(
    monkeypatch: pytest.MonkeyPatch, ids: str
) -> None:
    for name, value in ({"NTM_ZALO_ADMIN_IDS": ids} | ZALO_BOT | ZALO_OA).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "NTM_ZALO_ADMIN_IDS" in message and "bot:ID hoặc oa:ID" in message
    assert "\n" not in message and "?:" not in message


@pytest.mark.parametrize("ids", ["web:1", "bot:", "a b"])
def test_malformed_zalo_admin_ids_are_refused(monkeypatch: pytest.MonkeyPatch, ids: str) -> None:
    monkeypatch.setenv("NTM_ZALO_ADMIN_IDS", ids)
    with pytest.raises(ConfigError, match="NTM_ZALO_ADMIN_IDS"):
        load_settings()


@pytest.mark.parametrize("url", ["http://bot.example.org/tg", "ftp://x", "bot.example.org"])
def test_a_telegram_webhook_must_be_https(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", url)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "s3cret")
    with pytest.raises(ConfigError, match=r"TELEGRAM_WEBHOOK_URL.*https://"):
        load_settings()
