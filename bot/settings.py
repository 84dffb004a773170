"""Settings from the environment (prefix ``TWINBOT_``) and an optional ``.env``.

Built once in the entry point and passed down; nothing imports a global instance.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_BASE = "https://api.telegram.org"
DEFAULT_ZALO_API_BASE = "https://bot-api.zaloplatforms.com"
# setWebhook's secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed."
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ZaloSettings(BaseSettings):
    """The Zalo channel's own settings, ``TWINBOT_ZALO_*``."""

    model_config = SettingsConfigDict(
        env_prefix="TWINBOT_ZALO_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    token: SecretStr | None = None
    api_base: str = DEFAULT_ZALO_API_BASE
    webhook_secret: SecretStr | None = None
    webhook_path: str = "/zalo/webhook"

    @field_validator("token", "webhook_secret", mode="before")
    @classmethod
    def _zalo_blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("token")
    @classmethod
    def _zalo_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        bot_id, colon, rest = token.partition(":")
        if not colon or not bot_id.isdigit() or not rest or any(ch.isspace() for ch in token):
            raise ValueError("does not look like a Zalo bot token (digits, a colon, then the secret)")
        return SecretStr(token)

    @field_validator("webhook_secret")
    @classmethod
    def _zalo_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and (not 8 <= len(value.get_secret_value()) <= 256
                                  or any(ch.isspace() for ch in value.get_secret_value())):
            raise ValueError("Zalo accepts 8-256 characters without spaces")
        return value

    @field_validator("api_base")
    @classmethod
    def _zalo_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TWINBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,
    )

    telegram_token: SecretStr | None = None
    telegram_api_base: str = DEFAULT_API_BASE
    database_url: str = "sqlite+aiosqlite:///twinbot.db"
    timezone: str = "Asia/Ho_Chi_Minh"
    default_locale: Literal["vi", "en"] = "vi"
    webhook_secret: SecretStr | None = None
    webhook_url: str | None = None
    webhook_path: str = "/telegram/webhook"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    bot_username: str | None = None
    invite_days: int = Field(default=7, ge=1, le=365)
    report_max_age_days: int = Field(default=90, ge=1, le=3650)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Five cron fields in TWINBOT_TIMEZONE: weekly digests (Monday 07:30) and reminders (Friday 16:00).
    digest_schedule: str = "30 7 * * 1"
    reminder_schedule: str = "0 16 * * 5"
    # Zalo Bot Platform (TWINBOT_ZALO_*): served beside Telegram when its token is set (see README, "Zalo").
    zalo: ZaloSettings = Field(default_factory=lambda: ZaloSettings())
    media_dir: Path = Path("media")
    # Serving: updates handled at once by one process, and the database connections kept for them.
    concurrency: int = Field(default=16, ge=1, le=256)
    db_pool_size: int | None = Field(default=None, ge=1, le=500)
    # Names this worker's claims on stored work; stable across restarts (default: host, mode and port).
    worker_id: str | None = Field(default=None, max_length=100)
    # Several `twinbot webhook` processes may share one port (the kernel spreads the connections).
    reuse_port: bool = False
    # The bot's public address: files go by signed link where a messenger cannot send them (Zalo).
    public_url: str | None = None
    link_secret: SecretStr | None = None  # signs the links (default: TWINBOT_WEBHOOK_SECRET)
    link_days: int = Field(default=7, ge=1, le=90)

    @field_validator("digest_schedule", "reminder_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from bot.scheduler import Cron, CronError

        try:
            return Cron.parse(value).expression
        except CronError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("telegram_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # The same shape aiogram checks, so a pasted token with a stray space or half missing is
        # named here, without echoing it, rather than failing later inside the Bot constructor.
        if value is None:
            return None
        token = value.get_secret_value().strip()
        bot_id, colon, rest = token.partition(":")
        if not colon or not bot_id.isdigit() or not rest or any(ch.isspace() for ch in token):
            raise ValueError("does not look like a bot token from @BotFather (digits, a colon, then letters)")
        return SecretStr(token)

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("Telegram accepts only 1-256 characters A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("telegram_api_base", "webhook_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite:///"):
            return "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///FILE or postgresql+asyncpg://USER@HOST/DB")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def link_signing_secret(self) -> str | None:
        """What signs file links: TWINBOT_LINK_SECRET, else TWINBOT_WEBHOOK_SECRET; None means no links."""
        secret = self.link_secret or self.webhook_secret
        return secret.get_secret_value() if secret is not None and len(secret.get_secret_value()) >= 16 else None

    def require_telegram_token(self) -> str:
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            raise SettingsError("TWINBOT_TELEGRAM_TOKEN is not set; ask @BotFather for a token")
        return self.telegram_token.get_secret_value().strip()

    def require_webhook(self) -> tuple[str, str]:
        if not self.webhook_url:
            raise SettingsError("TWINBOT_WEBHOOK_URL is not set; it is the public https URL Telegram posts to")
        if self.webhook_secret is None or len(self.webhook_secret.get_secret_value()) < 16:
            raise SettingsError(
                "TWINBOT_WEBHOOK_SECRET is not set or shorter than 16 characters "
                "(allowed: A-Z, a-z, 0-9, _ and -)"
            )
        return self.webhook_url, self.webhook_secret.get_secret_value()

    def require_zalo_token(self) -> str:
        if self.zalo.token is None:
            raise SettingsError("TWINBOT_ZALO_TOKEN is not set; create a bot with Zalo Bot Creator")
        return self.zalo.token.get_secret_value()

    def require_zalo_webhook(self) -> tuple[str, str]:
        """The public URL and the secret Zalo sends; TWINBOT_WEBHOOK_SECRET serves when no Zalo one is set."""
        if not self.webhook_url:
            raise SettingsError("TWINBOT_WEBHOOK_URL is not set; it is the public https URL Zalo posts to")
        secret = self.zalo.webhook_secret or self.webhook_secret
        if secret is None or len(secret.get_secret_value()) < 8:
            raise SettingsError("TWINBOT_ZALO_WEBHOOK_SECRET (or TWINBOT_WEBHOOK_SECRET) is not set: "
                                "8-256 characters Zalo sends with each webhook")
        return self.webhook_url + self.zalo.webhook_path, secret.get_secret_value()


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable and never its value."""


def load_settings(env_file: Path | str | None = ".env") -> Settings:
    """Settings from the environment and ``env_file``; any problem is one ``SettingsError`` line naming the
    variables, never their values."""
    problems: list[str] = []
    try:
        zalo = ZaloSettings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems += _named(exc, "TWINBOT_ZALO_")
        zalo = ZaloSettings.model_construct()  # so that the other settings are checked too
    except (UnicodeDecodeError, OSError):
        zalo = ZaloSettings.model_construct()  # said once, below
    try:
        settings = Settings(_env_file=env_file, zalo=zalo)  # type: ignore[call-arg]
    except ValidationError as exc:
        problems += _named(exc, "TWINBOT_")
    except UnicodeDecodeError:
        raise SettingsError(f"{env_file} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {env_file} ({exc.strerror})") from None
    if problems:
        raise SettingsError("; ".join(problems)) from None
    return settings


def _named(error: ValidationError, prefix: str) -> list[str]:
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        field = str(item["loc"][0]) if item["loc"] else "?"
        reason = " ".join(str(item["msg"]).removeprefix("Value error, ").split())
        problems.append(f"{prefix}{field.upper()} is invalid: {reason}")
    return problems
