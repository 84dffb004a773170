"""`twinbot webhook --workers 2`, for real: two processes on one port, every update answered once, and a
SIGTERM that stops them all cleanly (exit 0)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from bot.serve import SECRET_HEADER
from storage.db import Database
from tests.botapi_stub import BotApiStub
from tests.telegram_harness import TOKEN

SECRET = "workers-webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_two_workers_share_the_port_and_stop_cleanly(db: Database, db_url: str, tmp_path: Path) -> None:
    port = free_port()
    async with BotApiStub() as stub:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TWINBOT_")}
        env.update(TWINBOT_TELEGRAM_TOKEN=TOKEN, TWINBOT_TELEGRAM_API_BASE=stub.base_url,
                   TWINBOT_DATABASE_URL=db_url, TWINBOT_WEBHOOK_URL="https://bot.example.org",
                   TWINBOT_WEBHOOK_SECRET=SECRET, TWINBOT_PORT=str(port), TWINBOT_LOG_LEVEL="WARNING")
        supervisor = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "webhook", "--workers", "2", cwd=tmp_path, env=env,
            stderr=asyncio.subprocess.PIPE)
        try:
            await stub.wait_for_calls("setWebhook", 2, timeout=60)  # each worker, once it listens
            async with aiohttp.ClientSession() as http:
                for user in range(12):
                    update = stub.make_message(7000 + user, "/start", language_code="en")
                    async with http.post(f"http://127.0.0.1:{port}/telegram/webhook", json=update,
                                         headers={SECRET_HEADER: SECRET}) as answer:
                        assert answer.status == 200
            sent = await stub.wait_for_calls("sendMessage", 12, timeout=30)
            assert sorted(c.params["chat_id"] for c in sent) == [7000 + user for user in range(12)]
        finally:
            if supervisor.returncode is None:
                supervisor.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(supervisor.communicate(), 60)
        assert supervisor.returncode == 0, err.decode()
        assert stub.violations == []
        await asyncio.sleep(0.2)
        assert len(stub.calls_of("sendMessage")) == 12  # nothing answered twice
