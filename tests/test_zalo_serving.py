"""`twinbot run` and `twinbot webhook` with a Zalo token, over real HTTP on loopback: Zalo alone, and Zalo
beside Telegram."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.channels.zalo import receiving as zalo_serve
from bot.channels.zalo import service as zalo_service
from bot.serve import serve
from bot.settings import Settings, ZaloSettings
from storage.db import Database
from tests.botapi_stub import BotApiStub
from tests.telegram_harness import TOKEN as TELEGRAM_TOKEN
from tests.zalo_stub import TOKEN, ZaloApiStub

SECRET = "zalo-webhook-secret-0123"


def settings(db_url: str, tmp_path: Path, zalo: ZaloApiStub, *, zalo_webhook_secret: str | None = None,
             **extra: object) -> Settings:
    own = ZaloSettings(_env_file=None, token=TOKEN, api_base=zalo.base_url,  # type: ignore[call-arg]
                       webhook_secret=zalo_webhook_secret)
    return Settings(_env_file=None, zalo=own, database_url=db_url, media_dir=tmp_path / "media",  # type: ignore[call-arg]
                    **extra)


async def test_run_polls_zalo_alone(db: Database, db_url: str, tmp_path: Path) -> None:
    async with ZaloApiStub() as zalo:
        stop = asyncio.Event()
        running = asyncio.create_task(serve(settings(db_url, tmp_path, zalo), "polling", stop=stop))
        try:
            zalo.push(zalo.text("6ede9afa66b88fe6d6a9", "/start"))
            [sent] = await zalo.wait_for("sendMessage", 1, timeout=10)
            assert "Bot này dùng để báo cáo" in sent.params["text"]
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 10) == 0
        assert zalo.calls_of("getMe") and zalo.calls_of("deleteWebhook") and zalo.violations == []


async def test_run_serves_zalo_and_telegram_together(db: Database, db_url: str, tmp_path: Path) -> None:
    async with ZaloApiStub() as zalo, BotApiStub() as telegram:
        stop = asyncio.Event()
        config = settings(db_url, tmp_path, zalo, telegram_token=TELEGRAM_TOKEN, telegram_api_base=telegram.base_url)
        running = asyncio.create_task(serve(config, "polling", stop=stop))
        try:
            zalo.push(zalo.text("6ede9afa66b88fe6d6a9", "/start"))
            telegram.push_update(telegram.make_message(4242, "/start", language_code="en"))
            await zalo.wait_for("sendMessage", 1, timeout=10)
            [sent] = await telegram.wait_for_calls("sendMessage", 1, timeout=10)
            assert "This bot is for border officers" in sent.params["text"]
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 10) == 0
        assert zalo.violations == [] and telegram.violations == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_serves_zalo_alone(db: Database, db_url: str, tmp_path: Path) -> None:
    port = free_port()
    async with ZaloApiStub() as zalo:
        config = settings(db_url, tmp_path, zalo, webhook_url="https://bot.example.org",
                          zalo_webhook_secret=SECRET, port=port)
        stop = asyncio.Event()
        running = asyncio.create_task(serve(config, "webhook", stop=stop))
        try:
            await zalo.wait_for("setWebhook", 1, timeout=10)
            assert (zalo.webhook_url, zalo.webhook_secret) == ("https://bot.example.org/zalo/webhook", SECRET)
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{port}/zalo/webhook"
                update = zalo.text("6ede9afa66b88fe6d6a9", "/start")
                async with http.post(url, json=update) as refused:
                    assert refused.status == 401
                async with http.post(url, json=update, headers={zalo_serve.SECRET_HEADER: SECRET}) as ok:
                    assert ok.status == 200
                async with http.get(f"http://127.0.0.1:{port}/healthz") as health:
                    assert health.status == 200
            [sent] = await zalo.wait_for("sendMessage", 1, timeout=10)
            assert "Bot này" in sent.params["text"]
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 10) == 0
        assert zalo.violations == []


async def test_webhook_serves_both_and_registers_zalo_once_listening(
        db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    listening_when_registered: list[bool] = []
    register = zalo_serve.register_webhook

    async def probing_register(*args: object, **kwargs: object) -> object:
        # Zalo checks the URL when it is set: the server must already answer by then.
        with socket.socket() as probe:
            listening_when_registered.append(probe.connect_ex(("127.0.0.1", port)) == 0)
        return await register(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zalo_service, "register_webhook", probing_register)
    async with ZaloApiStub() as zalo, BotApiStub() as telegram:
        config = settings(db_url, tmp_path, zalo, webhook_url="https://bot.example.org", port=port,
                          webhook_secret="telegram-secret-0123456789", zalo_webhook_secret=SECRET,
                          telegram_token=TELEGRAM_TOKEN, telegram_api_base=telegram.base_url)
        stop = asyncio.Event()
        running = asyncio.create_task(serve(config, "webhook", stop=stop))
        try:
            await zalo.wait_for("setWebhook", 1, timeout=10)
            await telegram.wait_for_calls("setWebhook", 1, timeout=10)
            async with aiohttp.ClientSession() as http:
                update = zalo.text("6ede9afa66b88fe6d6a9", "/start")
                async with http.post(f"http://127.0.0.1:{port}/zalo/webhook", json=update,
                                     headers={zalo_serve.SECRET_HEADER: SECRET}) as ok:
                    assert ok.status == 200
            await zalo.wait_for("sendMessage", 1, timeout=10)
        finally:
            stop.set()
            assert await asyncio.wait_for(running, 10) == 0
        assert listening_when_registered == [True]
        assert zalo.violations == [] and telegram.violations == []
