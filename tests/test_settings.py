"""Settings from the environment and .env, their errors, and the logging filter that keeps tokens out of logs."""

from __future__ import annotations

import io
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot import cli, subcommands
from bot.redaction import MASK, RedactingFilter, setup_logging
from bot.settings import Settings, SettingsError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
WEBHOOK_SECRET = "s3cret-webhook_value-42"  # not shaped like a token: masked because it is a known secret


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_clean: None) -> Path:
    """An empty working directory (no .env) and no TWINBOT_* variables."""
    monkeypatch.chdir(tmp_path)
    return tmp_path



def settings_error(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    error = caught.value
    # Nothing of pydantic's error (which may quote the input) rides along in the traceback.
    assert error.__cause__ is None and error.__suppress_context__
    text = "".join(traceback.format_exception(error))
    for value in (TOKEN, WEBHOOK_SECRET, "hunter2"):
        assert value not in text
    message = str(error)
    assert "\n" not in message
    return message


# --- values ------------------------------------------------------------------------------------


def test_defaults(workdir: Path) -> None:
    settings = load_settings()

    assert settings.telegram_token is None and settings.webhook_secret is None
    assert settings.telegram_api_base == "https://api.telegram.org"
    url = make_url(settings.database_url)
    assert url.drivername == "sqlite+aiosqlite" and url.database == "twinbot.db"  # relative: the working dir
    assert settings.timezone == "Asia/Ho_Chi_Minh" and settings.tz.key == "Asia/Ho_Chi_Minh"
    assert settings.default_locale == "vi"
    assert (settings.host, settings.port, settings.webhook_path) == ("127.0.0.1", 8080, "/telegram/webhook")
    assert (settings.invite_days, settings.report_max_age_days, settings.log_level) == (7, 90, "INFO")
    assert settings.bot_username is None and settings.webhook_url is None


def test_values_from_the_environment(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "TWINBOT_TELEGRAM_TOKEN": f"  {TOKEN}\n",
        "TWINBOT_TELEGRAM_API_BASE": "http://127.0.0.1:8081/",
        "TWINBOT_DATABASE_URL": "postgresql://twinbot@127.0.0.1/twinbot",
        "TWINBOT_TIMEZONE": "Asia/Bangkok",
        "TWINBOT_DEFAULT_LOCALE": "en",
        "TWINBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TWINBOT_PORT": "9000",
        "TWINBOT_BOT_USERNAME": "twinbot_test_bot",
    }.items():
        monkeypatch.setenv(key, value)

    settings = load_settings()

    assert settings.require_telegram_token() == TOKEN
    assert settings.telegram_api_base == "http://127.0.0.1:8081"
    assert settings.database_url == "postgresql+asyncpg://twinbot@127.0.0.1/twinbot"
    assert settings.tz.key == "Asia/Bangkok" and settings.default_locale == "en"
    assert settings.webhook_secret is not None and settings.webhook_secret.get_secret_value() == WEBHOOK_SECRET
    assert settings.port == 9000 and settings.bot_username == "twinbot_test_bot"
    # Secrets stay out of the settings' own repr.
    assert TOKEN not in repr(settings) and WEBHOOK_SECRET not in repr(settings)


def test_values_from_a_dotenv_file_and_the_environment_wins(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / ".env").write_text(
        "# twinbot settings\n"
        f'TWINBOT_TELEGRAM_TOKEN="{TOKEN}"\n'
        "TWINBOT_DATABASE_URL=sqlite:///data/twinbot.db\n"
        "TWINBOT_DEFAULT_LOCALE=en\n"
        "TWINBOT_PORT=8443\n"
        "OTHER_TOOL_SETTING=ignored\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.require_telegram_token() == TOKEN
    assert settings.database_url == "sqlite+aiosqlite:///data/twinbot.db"
    assert (settings.default_locale, settings.port) == ("en", 8443)

    monkeypatch.setenv("TWINBOT_PORT", "9443")
    assert load_settings().port == 9443
    assert load_settings(env_file=None).telegram_token is None


def test_blank_secrets_count_as_not_set(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINBOT_TELEGRAM_TOKEN", "")
    monkeypatch.setenv("TWINBOT_WEBHOOK_SECRET", " ")
    settings = load_settings()
    assert settings.telegram_token is None and settings.webhook_secret is None
    with pytest.raises(SettingsError, match=r"^TWINBOT_TELEGRAM_TOKEN is not set"):
        settings.require_telegram_token()


# --- malformed settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("TWINBOT_PORT", "abc", "integer"),
        ("TWINBOT_PORT", "70000", "65535"),
        ("TWINBOT_TIMEZONE", "Mars/Base", "unknown time zone"),
        ("TWINBOT_DEFAULT_LOCALE", "fr", "'vi' or 'en'"),
        ("TWINBOT_DATABASE_URL", "mysql://admin:hunter2@db.example.org/twinbot", "sqlite+aiosqlite"),
        ("TWINBOT_TELEGRAM_API_BASE", "api.telegram.org", "http"),
        ("TWINBOT_LOG_LEVEL", "LOUD", "DEBUG"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_the_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    message = settings_error(monkeypatch, TWINBOT_TELEGRAM_TOKEN=TOKEN, TWINBOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
                             **{variable: value})
    assert message.startswith(f"{variable} is invalid: ")
    assert reason in message
    assert "Value error" not in message


@pytest.mark.parametrize(
    "token",
    [
        "123456789 AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # space for colon
        "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # the id half is missing
        "123456789:",  # the secret half is missing
        "123456789:AAHdqTcvCH1vGWJx fSeofSAs0K5PALDsaw",  # a space inside
        f"bot{TOKEN}",  # pasted from a URL
    ],
)
def test_a_malformed_token_is_named_and_never_echoed(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    message = settings_error(monkeypatch, TWINBOT_TELEGRAM_TOKEN=token)
    assert message.startswith("TWINBOT_TELEGRAM_TOKEN is invalid: ")
    assert token not in message and "AAHdqTcvCH1vGWJx" not in message and "123456789" not in message


def test_several_malformed_settings_are_all_named_on_one_line(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = settings_error(monkeypatch, TWINBOT_PORT="abc", TWINBOT_DEFAULT_LOCALE="fr",
                             TWINBOT_TELEGRAM_TOKEN=TOKEN)
    assert "TWINBOT_PORT is invalid" in message and "TWINBOT_DEFAULT_LOCALE is invalid" in message


def test_a_malformed_dotenv_setting_names_the_variable(workdir: Path) -> None:
    (workdir / ".env").write_text(f"TWINBOT_TELEGRAM_TOKEN={TOKEN}\nTWINBOT_PORT=eighty\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("TWINBOT_PORT is invalid") and TOKEN not in str(caught.value)


def test_a_dotenv_that_is_not_utf8_is_a_settings_error(workdir: Path) -> None:
    (workdir / ".env").write_bytes(f"TWINBOT_TELEGRAM_TOKEN={TOKEN}\n# Hà Nội\n".encode("utf-16"))
    with pytest.raises(SettingsError, match=r"^\.env is not UTF-8 text"):
        load_settings()


@pytest.mark.parametrize(
    "secret",
    ["has spaces in it", "semi;colon", "dấu-tiếng-việt", "slash/in/it", "x" * 257],
)
def test_a_webhook_secret_telegram_would_refuse_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    message = settings_error(monkeypatch, TWINBOT_WEBHOOK_SECRET=secret)
    assert message.startswith("TWINBOT_WEBHOOK_SECRET is invalid: ")
    assert "A-Z, a-z, 0-9, _ and -" in message
    assert secret not in message


@pytest.mark.parametrize("secret", ["A", "abc-DEF_123", "x" * 256])
def test_a_webhook_secret_telegram_accepts_is_kept(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                   secret: str) -> None:
    monkeypatch.setenv("TWINBOT_WEBHOOK_SECRET", secret)
    settings = load_settings()
    assert settings.webhook_secret is not None and settings.webhook_secret.get_secret_value() == secret


def test_require_webhook_names_what_is_missing(workdir: Path) -> None:
    settings = Settings(_env_file=None, webhook_url="https://bot.example.org/")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match=r"^TWINBOT_WEBHOOK_SECRET is not set"):
        settings.require_webhook()
    short = Settings(_env_file=None, webhook_url="https://bot.example.org", webhook_secret="abc")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="shorter than 16"):
        short.require_webhook()
    with pytest.raises(SettingsError, match=r"^TWINBOT_WEBHOOK_URL is not set"):
        Settings(_env_file=None).require_webhook()  # type: ignore[call-arg]
    ok = Settings(_env_file=None, webhook_url="https://bot.example.org/", webhook_secret=WEBHOOK_SECRET)  # type: ignore[call-arg]
    assert ok.require_webhook() == ("https://bot.example.org", WEBHOOK_SECRET)


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "webhook"])
def test_serving_without_a_token_says_so_in_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging: None,
    command: str,
) -> None:
    monkeypatch.setenv("TWINBOT_DATABASE_URL", f"sqlite+aiosqlite:///{workdir / 'twinbot.db'}")

    code = cli.main([command])

    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert err.splitlines() == ["twinbot: TWINBOT_TELEGRAM_TOKEN is not set; ask @BotFather for a token"]


def test_a_malformed_setting_stops_the_command_in_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging: None,
) -> None:
    monkeypatch.setenv("TWINBOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TWINBOT_TIMEZONE", "Mars/Base")

    code = cli.main(["run"])

    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.splitlines() == ["twinbot: TWINBOT_TIMEZONE is invalid: unknown time zone 'Mars/Base'"]


def test_an_unexpected_crash_is_logged_without_the_token(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging: None,
) -> None:
    monkeypatch.setenv("TWINBOT_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("TWINBOT_WEBHOOK_SECRET", WEBHOOK_SECRET)

    async def crash(args: object, settings: Settings) -> int:
        try:
            raise OSError(f"cannot reach https://api.telegram.org/bot{settings.require_telegram_token()}/getMe")
        except OSError as exc:
            raise RuntimeError(f"polling failed, secret {WEBHOOK_SECRET}") from exc

    monkeypatch.setattr(subcommands, "run", crash)

    code = cli.main(["run"])

    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "twinbot stopped by an unexpected error" in err
    assert "Traceback" in err and "RuntimeError" in err and "OSError" in err
    assert TOKEN not in err and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in err and WEBHOOK_SECRET not in err
    assert f"/bot{MASK}/getMe" in err


# --- the logging filter ----------------------------------------------------------------------


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter([WEBHOOK_SECRET]))
    logger = logging.getLogger("twinbot.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_a_token_in_the_message_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    log.info(f"calling https://api.telegram.org/bot{TOKEN}/getMe")
    assert stream.getvalue() == f"INFO twinbot.test.redaction: calling https://api.telegram.org/bot{MASK}/getMe\n"


def test_a_token_in_the_arguments_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    log.warning("token %s, secret %s, mapping %r", TOKEN, WEBHOOK_SECRET, {"token": TOKEN})
    text = stream.getvalue()
    assert TOKEN not in text and WEBHOOK_SECRET not in text
    assert text.count(MASK) == 3


def test_a_token_in_an_exception_and_its_traceback_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged

    def call_api(token: str) -> None:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{token}/getUpdates")

    try:
        try:
            call_api(TOKEN)
        except ConnectionError as exc:
            raise RuntimeError(f"polling stopped for {TOKEN}") from exc
    except RuntimeError:
        log.exception("polling failed with %s", TOKEN)
    text = stream.getvalue()
    assert "Traceback (most recent call last)" in text
    assert "ConnectionError" in text and "RuntimeError" in text
    assert TOKEN not in text and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text
    assert f"polling failed with {MASK}" in text and f"/bot{MASK}/getUpdates" in text


def test_stack_info_is_masked(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged

    def deep(token: str) -> None:
        log.info("here", stack_info=True)

    deep(TOKEN)
    assert "Stack (most recent call last)" in stream.getvalue()
    assert TOKEN not in stream.getvalue()


def test_a_token_the_filter_was_not_told_about_is_masked_by_its_shape() -> None:
    redactor = RedactingFilter()
    assert redactor.redact(f"a {TOKEN} b 7654321:AAAA-bbbb_CCCCdddd1234567 c") == f"a {MASK} b {MASK} c"
    assert redactor.redact("report 12/2025: 3 visits, time 10:30") == "report 12/2025: 3 visits, time 10:30"


def test_a_malformed_log_call_does_not_crash_the_caller(logged: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = logged
    log.error("two placeholders %s %s, one argument", TOKEN)
    text = stream.getvalue()
    assert "two placeholders" in text and TOKEN not in text


def test_setup_logging_masks_secrets_on_the_root_logger(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    setup_logging("INFO", [TOKEN, WEBHOOK_SECRET])
    try:
        raise ValueError(f"bad secret {WEBHOOK_SECRET} for bot {TOKEN}")
    except ValueError:
        logging.getLogger("aiogram.dispatcher").exception("update failed: %s", TOKEN)
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    err = capsys.readouterr().err
    assert "ERROR aiogram.dispatcher: update failed: ***" in err
    assert f"ValueError: bad secret {MASK} for bot {MASK}" in err
    assert TOKEN not in err and WEBHOOK_SECRET not in err
    assert "SQLiteImpl" not in err  # alembic's chatter stays out


def test_a_token_percent_encoded_in_an_upstream_page_is_masked() -> None:
    redactor = RedactingFilter([WEBHOOK_SECRET])
    bot_id, secret = TOKEN.split(":")
    page = f"<html>404: /bot{bot_id}%3A{secret}/getMe and /bot{bot_id}%3a{secret}/x, hook {WEBHOOK_SECRET}</html>"
    masked = redactor.redact(page)
    assert secret not in masked and WEBHOOK_SECRET not in masked
    assert masked.count(MASK) == 3
    spaced = RedactingFilter(["pass word/with:odd+chars"])
    encoded = "url=https://x/?s=pass%20word%2Fwith%3Aodd%2Bchars and s=pass+word%2Fwith%3Aodd%2Bchars"
    assert "odd" not in spaced.redact(encoded)


@pytest.mark.parametrize("url", [
    "sqlite+aiosqlite:///{workdir}/no/such/folder/twinbot.db",
    "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/test",  # nothing listens on port 1
])
def test_a_database_that_cannot_be_opened_is_one_line_naming_the_setting(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging: None,
    url: str,
) -> None:
    monkeypatch.setenv("TWINBOT_DATABASE_URL", url.format(workdir=workdir))

    code = cli.main(["invite", "--role", "admin"])

    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("twinbot: TWINBOT_DATABASE_URL: cannot open the database (")
    assert "hunter2" not in err
