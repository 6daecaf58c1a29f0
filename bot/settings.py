"""Runtime configuration from environment variables and an optional ``.env`` file.

The environment variable names are a contract with deployments (see README): each field is read
from exactly the name in its ``validation_alias``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_TELEGRAM_API = "https://api.telegram.org"
DEFAULT_ZALO_BOT_API = "https://bot-api.zaloplatforms.com"
DEFAULT_ZALO_OA_API = "https://openapi.zalo.me"
DEFAULT_ZALO_OAUTH = "https://oauth.zaloapp.com"


class ConfigError(Exception):
    """A setting has a bad value; the message is one line that names the variable."""


def _env(name: str) -> Any:
    return Field(validation_alias=AliasChoices(name))


TOKEN_SECRET = re.compile(r"[A-Za-z0-9_-]+")
ZALO_ADMIN_ID = re.compile(r"(?:(?:bot|oa):)?[A-Za-z0-9_.-]{1,64}")


def _split_ids(value: object) -> object:
    """Accept ``"1, 2,3"`` (the documented form) as well as a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _check_postgresql_url(url: str) -> None:
    """What the driver would only refuse with a traceback at the first connection: a port
    that is no number or out of range, an unknown ``sslmode``. (The message never repeats the
    address: it holds the password.)"""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("cổng (port) phải là một số từ 1 đến 65535") from None
    if port == 0:
        raise ValueError("cổng (port) phải là một số từ 1 đến 65535")
    modes = parse_qs(parts.query).get("sslmode", [])
    if any(mode not in SSL_MODES for mode in modes):
        raise ValueError("sslmode phải là một trong: " + ", ".join(SSL_MODES))


class Settings(BaseSettings):
    """Every setting the bot reads. Unknown environment variables are ignored."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=False,
        case_sensitive=True,
    )

    # --- storage and data -------------------------------------------------------------------
    db_path: Path = Field(Path("./data/ntm.sqlite3"), validation_alias="NTM_DB_PATH")
    # ``sqlite:///path`` (the default: NTM_DB_PATH) or ``postgresql://user:pass@host/db``.
    database_url: SecretStr | None = Field(None, validation_alias="NTM_DATABASE_URL")
    knowledge_dir: Path | None = Field(None, validation_alias="NTM_KNOWLEDGE_DIR")

    # --- Telegram ----------------------------------------------------------------------------
    telegram_bot_token: SecretStr | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base: str = Field(DEFAULT_TELEGRAM_API, validation_alias="TELEGRAM_API_BASE")
    telegram_webhook_url: str | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(
        None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    webhook_host: str = Field("0.0.0.0", validation_alias="NTM_WEBHOOK_HOST")  # noqa: S104
    webhook_port: int = Field(8080, ge=1, le=65535, validation_alias="NTM_WEBHOOK_PORT")
    # The public HTTPS address of that server: Zalo fetches pictures and files from it (Zalo
    # cannot receive uploads) and the Zalo Bot webhook is registered there.
    public_url: str | None = Field(None, validation_alias="NTM_PUBLIC_URL")

    # Photos and files sent as evidence: the largest accepted (Telegram hands bots files up
    # to 20 MB) and the most pixels a picture may decode to (decompression bombs are refused).
    upload_max_mb: int = Field(20, ge=1, le=50, validation_alias="NTM_UPLOAD_MAX_MB")
    upload_max_megapixels: int = Field(
        50, ge=1, le=89, validation_alias="NTM_UPLOAD_MAX_MEGAPIXELS"
    )  # (89: Pillow's own limit, past which it refuses to decode)

    # This instance's name where several share a database (default host:pid): the instance
    # polling a platform holds a lease under it.
    instance_id: str | None = Field(None, max_length=80, validation_alias="NTM_INSTANCE_ID")
    # Replies an instance recorded but did not send (it died) are sent by another after this
    # many seconds; unsent replies are looked for every NTM_REPLY_RETRY_SECONDS.
    reply_lease_seconds: float = Field(
        60, ge=1, le=3600, validation_alias="NTM_REPLY_LEASE_SECONDS"
    )
    reply_retry_seconds: float = Field(
        30, ge=0.5, le=3600, validation_alias="NTM_REPLY_RETRY_SECONDS"
    )
    # Digest, reminder and announcement messages a sender claimed but did not send (its
    # instance died on another machine) are taken over by another sender after this long.
    delivery_lease_seconds: float = Field(
        300, ge=1, le=3600, validation_alias="NTM_DELIVERY_LEASE_SECONDS"
    )

    # --- the office's web view (served by the same HTTP server, signed in from the chat) ----
    web_enabled: bool = Field(True, validation_alias="NTM_WEB_ENABLED")
    web_session_hours: float = Field(
        12.0, gt=0, le=24 * 30, validation_alias="NTM_WEB_SESSION_HOURS"
    )
    web_link_minutes: int = Field(10, ge=1, le=60, validation_alias="NTM_WEB_LINK_MINUTES")
    # Behind a reverse proxy the client's address is the first of X-Forwarded-For (the sign-in
    # rate limit counts per client); leave off when the bot faces the internet directly.
    web_behind_proxy: bool = Field(False, validation_alias="NTM_WEB_BEHIND_PROXY")

    # --- Zalo ---------------------------------------------------------------------------------
    zalo_bot_token: SecretStr | None = Field(None, validation_alias="ZALO_BOT_TOKEN")
    zalo_bot_api_base: str = Field(DEFAULT_ZALO_BOT_API, validation_alias="ZALO_BOT_API_BASE")
    zalo_bot_mode: Literal["polling", "webhook"] = Field(
        "polling", validation_alias="ZALO_BOT_MODE"
    )
    zalo_bot_webhook_secret: SecretStr | None = Field(
        None, validation_alias="ZALO_BOT_WEBHOOK_SECRET"
    )
    zalo_oa_app_id: str | None = Field(None, validation_alias="ZALO_OA_APP_ID")
    zalo_oa_secret_key: SecretStr | None = Field(None, validation_alias="ZALO_OA_SECRET_KEY")
    zalo_oa_access_token: SecretStr | None = Field(None, validation_alias="ZALO_OA_ACCESS_TOKEN")
    zalo_oa_refresh_token: SecretStr | None = Field(None, validation_alias="ZALO_OA_REFRESH_TOKEN")
    zalo_oa_signature_secret: SecretStr | None = Field(
        None, validation_alias="ZALO_OA_SIGNATURE_SECRET"
    )
    zalo_oa_api_base: str = Field(DEFAULT_ZALO_OA_API, validation_alias="ZALO_OA_API_BASE")
    zalo_oauth_base: str = Field(DEFAULT_ZALO_OAUTH, validation_alias="ZALO_OAUTH_BASE")
    zalo_webhook_path_bot: str = Field("/zalo/bot", validation_alias="ZALO_WEBHOOK_PATH_BOT")
    zalo_webhook_path_oa: str = Field("/zalo/oa", validation_alias="ZALO_WEBHOOK_PATH_OA")
    zalo_admin_ids: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="NTM_ZALO_ADMIN_IDS"
    )
    # Where photos users send on Zalo may be fetched from: any public address by default
    # (never this machine or the local network); hosts listed here are allowed whatever
    # address they have (a test server, a proxy).
    zalo_file_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="NTM_ZALO_FILE_HOSTS"
    )

    # --- people, language, time -------------------------------------------------------------
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias="NTM_ADMIN_IDS"
    )
    lang: Literal["vi", "en"] = Field("vi", validation_alias="NTM_LANG")
    timezone: str = Field("Asia/Ho_Chi_Minh", validation_alias="NTM_TIMEZONE")
    today: dt.date | None = Field(None, validation_alias="NTM_TODAY")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", validation_alias="NTM_LOG_LEVEL"
    )

    # --- conversation behaviour -------------------------------------------------------------
    throttle_rate: float = Field(0.5, ge=0, le=60, validation_alias="NTM_THROTTLE_SECONDS")
    dialog_ttl_hours: float = Field(24.0, gt=0, le=24 * 30, validation_alias="NTM_DIALOG_TTL_HOURS")
    invite_ttl_days: int = Field(7, ge=1, le=365, validation_alias="NTM_INVITE_TTL_DAYS")

    # --- retention (the database stays bounded) ---------------------------------------------
    keep_updates_days: int = Field(30, ge=1, le=3650, validation_alias="NTM_KEEP_UPDATES_DAYS")
    keep_dead_letters_days: int = Field(
        90, ge=1, le=3650, validation_alias="NTM_KEEP_DEAD_LETTERS_DAYS"
    )

    # --- digests, reminders, sending --------------------------------------------------------
    digest_weekday: int = Field(0, ge=0, le=6, validation_alias="NTM_DIGEST_WEEKDAY")
    digest_time: dt.time = Field(dt.time(7, 30), validation_alias="NTM_DIGEST_TIME")
    reminder_days: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [7, 1], validation_alias="NTM_REMINDER_DAYS"
    )
    send_rate: float = Field(25.0, gt=0, le=1000, validation_alias="NTM_SEND_RATE")
    per_chat_interval: float = Field(1.0, ge=0, le=60, validation_alias="NTM_PER_CHAT_INTERVAL")

    @field_validator("admin_ids", "zalo_admin_ids", "zalo_file_hosts", "reminder_days",
                     mode="before")  # fmt: skip
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("reminder_days")
    @classmethod
    def _reminder_days_positive(cls, value: list[int]) -> list[int]:
        if any(day < 0 or day > 365 for day in value):
            raise ValueError("mỗi số ngày phải từ 0 đến 365")
        return sorted(set(value), reverse=True)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"múi giờ không tồn tại: {value!r}") from exc
        return value

    @field_validator(
        "telegram_api_base", "zalo_bot_api_base", "zalo_oa_api_base", "zalo_oauth_base"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("phải là địa chỉ http:// hoặc https://")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises for a port out of range
        except ValueError:
            raise ValueError("cổng (port) phải là số từ 1 đến 65535") from None
        if not parts.hostname:
            raise ValueError("thiếu tên máy chủ, ví dụ https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        """``<bot id>:<secret>``, as @BotFather gives it (the value itself is never shown)."""
        token = value.get_secret_value().strip() if value is not None else ""
        if not token:
            return None
        bot_id, colon, secret = token.partition(":")
        if not (colon and bot_id.isdigit() and secret and TOKEN_SECRET.fullmatch(secret)):
            raise ValueError("không đúng dạng <số>:<mã> mà @BotFather cấp")
        return SecretStr(token)

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        # Telegram sends webhooks to HTTPS addresses only: anything else never receives one.
        if value and not value.startswith("https://"):
            raise ValueError("phải là địa chỉ https:// (Telegram chỉ gửi webhook qua HTTPS)")
        return value or None

    @field_validator("zalo_admin_ids")
    @classmethod
    def _zalo_admin_form(cls, value: list[str]) -> list[str]:
        for item in value:
            if not ZALO_ADMIN_ID.fullmatch(item):
                raise ValueError(
                    f"“{item[:40]}” không hợp lệ: ghi bot:ID (Zalo Bot) hoặc oa:ID (Zalo OA)"
                )
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("phải là địa chỉ https://")
        return value.rstrip("/") if value else None

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        url = value.get_secret_value() if value is not None else ""
        if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("phải là sqlite:///đường/dẫn hoặc postgresql://người_dùng@máy/csdl")
        if url.startswith(("postgresql://", "postgres://")):
            _check_postgresql_url(url)
        return value

    @field_validator("zalo_bot_webhook_secret")
    @classmethod
    def _zalo_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else ""
        if secret and not 8 <= len(secret) <= 256:
            raise ValueError("phải dài từ 8 đến 256 ký tự")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if not 1 <= len(raw) <= 256 or not set(raw) <= allowed:
            raise ValueError("1–256 ký tự, chỉ gồm A-Z, a-z, 0-9, _ và - (quy định của Telegram)")
        return value

    @field_validator("zalo_webhook_path_bot", "zalo_webhook_path_oa")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("đường dẫn phải bắt đầu bằng /")
        return value

    @model_validator(mode="after")
    def _webhooks_need_secrets(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET là bắt buộc khi đặt TELEGRAM_WEBHOOK_URL "
                "(để từ chối yêu cầu giả mạo)"
            )
        if (
            self.zalo_bot_enabled
            and self.zalo_bot_mode == "webhook"
            and not _filled(self.zalo_bot_webhook_secret)
        ):
            raise ValueError(
                "ZALO_BOT_WEBHOOK_SECRET là bắt buộc khi ZALO_BOT_MODE=webhook "
                "(để từ chối yêu cầu giả mạo)"
            )
        plain = [i for i in self.zalo_admin_ids if ":" not in i]
        if plain and self.zalo_bot_enabled and self.zalo_oa_enabled:
            raise ValueError(
                "NTM_ZALO_ADMIN_IDS: khi bật cả Zalo Bot và Zalo OA, ghi rõ bot:ID hoặc oa:ID "
                f"(mã người dùng của hai kênh khác nhau), ví dụ bot:{plain[0][:20]}"
            )
        if self.zalo_oa_enabled and self.zalo_oa_signing_secret is None:
            raise ValueError(
                "Zalo OA cần ZALO_OA_SIGNATURE_SECRET hoặc ZALO_OA_SECRET_KEY "
                "để kiểm tra chữ ký X-ZEvent-Signature"
            )
        return self

    # --- derived ----------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and bool(
            self.telegram_bot_token.get_secret_value()
        )

    @property
    def postgresql_url(self) -> str | None:
        """The PostgreSQL address when that is the engine, else ``None`` (SQLite)."""
        url = self.database_url.get_secret_value() if self.database_url else ""
        return url if url.startswith(("postgresql://", "postgres://")) else None

    @property
    def sqlite_path(self) -> Path:
        url = self.database_url.get_secret_value() if self.database_url else ""
        if url.startswith("sqlite:///"):
            return Path(url.removeprefix("sqlite:///"))
        return self.db_path

    @property
    def web_view_enabled(self) -> bool:
        """The web view needs the public address its sign-in links point to."""
        return self.web_enabled and bool(self.public_url)

    @property
    def zalo_bot_enabled(self) -> bool:
        return self.zalo_bot_token is not None and bool(self.zalo_bot_token.get_secret_value())

    @property
    def zalo_oa_enabled(self) -> bool:
        return bool(self.zalo_oa_app_id) and _filled(self.zalo_oa_access_token)

    @property
    def zalo_admins(self) -> set[tuple[str, str]]:
        """(channel, user id) of Zalo administrators. Zalo Bot and Zalo OA number their users
        separately, so an id names one channel: ``bot:ID`` or ``oa:ID``; a plain ID belongs to
        the only Zalo channel configured (both configured: refused at start)."""
        channels = {"bot": "zalo_bot", "oa": "zalo_oa"}
        enabled = [
            name
            for name, on in (("zalo_bot", self.zalo_bot_enabled), ("zalo_oa", self.zalo_oa_enabled))
            if on
        ]
        admins: set[tuple[str, str]] = set()
        for item in self.zalo_admin_ids:
            prefix, _, rest = item.partition(":")
            if rest:
                admins.add((channels[prefix], rest))
            elif len(enabled) == 1:
                admins.add((enabled[0], item))
        return admins

    @property
    def zalo_oa_signing_secret(self) -> str | None:
        """What ``X-ZEvent-Signature`` is computed with (sources disagree: configurable)."""
        for secret in (self.zalo_oa_signature_secret, self.zalo_oa_secret_key):
            if secret is not None and secret.get_secret_value():
                return secret.get_secret_value()
        return None

    def secret_values(self) -> list[str]:
        """Every configured secret, so that logging can redact it wherever it appears."""
        secrets = [
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.zalo_bot_token,
            self.zalo_bot_webhook_secret,
            self.zalo_oa_secret_key,
            self.zalo_oa_access_token,
            self.zalo_oa_refresh_token,
            self.zalo_oa_signature_secret,
        ]
        values = [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]
        password = urlsplit(self.postgresql_url or "").password
        return values + ([password] if password else [])


def _filled(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value())


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a bad value raises :class:`ConfigError` naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line: the first bad variable, what is wrong with it, and how many more there are."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    name = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    extra = f" (và {len(errors) - 1} lỗi khác)" if len(errors) > 1 else ""
    where = f"{name}: " if name else ""  # a check across variables names them in its message
    return f"Cấu hình không hợp lệ: {where}{message}{extra}"
