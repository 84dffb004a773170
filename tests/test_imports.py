"""The bot process never draws a chart or writes a workbook or a document itself (``handlers.offload`` does,
in processes of its own), so it must not load the libraries that do: openpyxl alone brought numpy, PIL and lxml,
about 38 MB of every bot process's memory and 0.2 s of its start."""

import subprocess
import sys

DRAWING_LIBRARIES = ("openpyxl", "matplotlib", "docx", "numpy", "PIL")


def test_the_bot_starts_without_the_drawing_libraries() -> None:
    probe = ("import sys, bot.serve, bot.app\n"
             f"print(' '.join(m for m in {DRAWING_LIBRARIES!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "", f"imported with the bot: {done.stdout.strip()}"
