"""The review card on a phone: the largest report there can be, in each language, with every button whole.

Button widths are measured as Telegram draws them (``handlers.keyboard_layout``), and the keyboards are laid
out by the Telegram adapter itself, so what is checked is what an officer's phone shows.
"""

from __future__ import annotations

import pytest

from bot.channels.console import ConsoleChannel
from bot.channels.telegram import keyboard
from handlers.core import Core
from handlers.events import Attachment, Reply
from handlers.i18n import Translator
from handlers.keyboard_layout import ROW, cell, fits, width
from handlers.measures import COUNT, DECIMAL, MEASURES, MONEY
from handlers.report_form import FIELDS
from storage.db import Database
from tests.conftest import TZ, Clock
from tests.test_report_console import all_reports, officer

# A unit with three Lao partners of long names ("Bản Thẩm Khướng, cụm bản Mường Dương, huyện Mường Quắn").
UNIT = "NAN-BAN-NHOT-LOT"
CHECK = {"vi": "Vui lòng kiểm tra lại báo cáo", "en": "Please check your report"}


def answers(locale: str) -> dict[str, str]:
    """What to type at each question: its prompt (in ``locale``) → an answer the form accepts."""
    t = Translator(locale, TZ)
    typed = {COUNT: "12", DECIMAL: "7,5", MONEY: "5 triệu"}
    found = {t(m.prompt): typed[m.kind] for m in MEASURES.values()}
    found.update({t(FIELDS[key].prompt): "Gạo, mì tôm, chăn ấm và sách vở cho học sinh hai bên biên giới"
                  for key in ("gift_items", "recipients")})
    found[t(FIELDS["description"].prompt)] = "Trao quà, khám bệnh và giao lưu văn nghệ với bà con bản kết nghĩa. " * 6
    found[t(FIELDS["date"].prompt)] = "hôm qua"
    return found


async def reply_to(me: ConsoleChannel, text: str | None = None, attachment: Attachment | None = None) -> Reply:
    replies, _ = await me.answer(text, attachment)
    assert replies, text
    return replies[-1]


def assert_fits(reply: Reply) -> None:
    """Every button of the reply whole on a phone: laid out by the Telegram adapter, no label cut."""
    markup = keyboard(reply)
    assert markup is not None
    labels = [option.label for option in reply.options]
    for row in markup.inline_keyboard:
        for button in row:
            assert button.text in labels, f"{button.text!r} was cut to fit"
            assert fits(button.text, len(row)), (button.text, width(button.text), cell(len(row)))


@pytest.mark.parametrize("locale", ["vi", "en"])
async def test_the_largest_report_fits_a_phone(core: Core, db: Database, clock: Clock, locale: str) -> None:
    t = Translator(locale, TZ)
    typed = answers(locale)
    me = await officer(core, db, clock, unit=UNIT, lang=locale)
    kinds = await reply_to(me, "/report")
    assert_fits(kinds)  # "Khám bệnh, cấp thuốc miễn phí" gets a row of its own rather than being cut
    reply = await reply_to(me, next(str(n) for n, o in enumerate(kinds.options, 1) if o.value == "f:donation"))
    for _ in range(40):
        text = reply.text
        if CHECK[locale] in text:
            break
        if reply.options and not reply.free_input:
            assert_fits(reply)
            reply = await reply_to(me, "1")
        elif t(FIELDS["photos"].prompt) in text:
            for n in range(20):
                await reply_to(me, attachment=Attachment("photo", file_id=f"photo-{n}", file_unique_id=f"u{n}"))
            reply = await reply_to(me, t("✅ Done").removeprefix("✅ "))
        elif t(FIELDS["location"].prompt) in text or t(FIELDS["location"].typed_prompt) in text:
            reply = await reply_to(me, attachment=Attachment("location", latitude=19.59, longitude=104.33))
        else:
            prompt = next((p for p in typed if p in text), None)
            assert prompt is not None, f"unexpected question:\n{text}"
            reply = await reply_to(me, typed[prompt])
            if "⚠️" in reply.text and reply.options:  # an amount read two ways: take the first reading
                reply = await reply_to(me, "1")
        if CHECK[locale] in reply.text and any(o.value == "rv:add" for o in reply.options):
            # Every set of figures the form offers, added one after the other.
            assert_fits(reply)
            menu = await reply_to(me, next(str(n) for n, o in enumerate(reply.options, 1) if o.value == "rv:add"))
            assert_fits(menu)
            reply = await reply_to(me, "1")
    card = reply
    assert CHECK[locale] in card.text and not any(o.value == "rv:add" for o in card.options)
    assert_fits(card)
    # Key figures first: the kind and the date, the partner, then the figures, then what describes it.
    lines = card.text.splitlines()
    lines = lines[next(i for i, line in enumerate(lines) if CHECK[locale] in line) + 1:]
    assert lines[0].startswith("<b>") and "·" in lines[0]
    figures = [i for i, line in enumerate(lines) if t(MEASURES["gift_packages"].label) in line]
    description = [i for i, line in enumerate(lines) if t(FIELDS["description"].label) in line]
    assert figures and description and figures[0] < description[0]
    assert "—" not in card.text  # nothing empty is shown
    assert len(card.text) < 2000

    fields = await reply_to(me, next(str(n) for n, o in enumerate(card.options, 1) if o.value == "rv:fields"))
    assert len(fields.options) > 20 and fields.columns == 1
    assert_fits(fields)
    # Back from a field opened on the card returns to the card.
    date = await reply_to(me, next(str(n) for n, o in enumerate(fields.options, 1) if o.value == "rv:fix:date"))
    assert_fits(date)
    back = await reply_to(me, t("⬅️ Back to the report").removeprefix("⬅️ "))
    assert CHECK[locale] in back.text
    fields = await reply_to(me, next(str(n) for n, o in enumerate(back.options, 1) if o.value == "rv:fields"))
    partner = await reply_to(me, next(str(n) for n, o in enumerate(fields.options, 1) if o.value == "rv:fix:pair"))
    assert_fits(partner)  # long partner names lose their last parts, not their ends
    assert any(o.label.startswith("Bản Thẩm Khướng, cụm bản Mường Dương") for o in partner.options)
    back = await reply_to(me, "1")
    submitted = await reply_to(me, next(str(n) for n, o in enumerate(back.options, 1) if o.value == "rv:submit"))
    assert "#1" in submitted.text
    [report] = await all_reports(db)
    assert len(report.photos) == 20 and report.latitude == 19.59
    assert {m.measure for m in report.measures} == set(MEASURES)


def test_widths_are_measured_not_counted() -> None:
    assert width("iiiiiiiiii") < width("mmmmmmmmmm") / 2  # ten narrow letters against ten wide ones
    assert width("✏️") == 2 and width("ắ") == width("a")  # emoji double, accents nothing
    assert fits("Khám bệnh, cấp thuốc miễn phí") and not fits("Khám bệnh, cấp thuốc miễn phí", 2)
    assert not fits("x" * int(ROW))
