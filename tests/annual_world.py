"""Known reports for the half-year and annual tables: the first half of 2026 and of 2025, in clusters 1, 2 and 4,
with every figure the tables count, filed at known times (on time or not), and two "nothing to report"
answers. ``tests/test_annual.py`` counts what the tables must hold from this list by hand."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import select

from storage import people
from storage.db import Database
from storage.models import Person, Report, ReportMeasure, TwinningPair, UnitWeek
from storage.periods import IsoWeek
from tests.conftest import TZ


async def add(db: Database, unit_code: str, day: dt.date, kind: str, venue: str, *, pair: str | None = "first",
              figures: dict[str, int | str] | None = None, money: tuple[str, str, str] | None = None,
              direction: str | None = None, filed: dt.datetime | None = None, status: str = "submitted",
              partner: tuple[str, str | None] = ("CN", "Vân Nam")) -> int:
    """A report of ``unit_code`` with its twinning pair (``pair``: "first", a pair code, or None for a partner
    outside the registry), the figures given, one value (measure, currency, amount), filed at ``filed`` (noon of
    the day, local time, by default)."""
    async with db.unit_of_work() as uow:
        session = uow.session
        unit = await people.unit_by_code(session, unit_code)
        assert unit is not None, unit_code
        pairs = (await session.scalars(select(TwinningPair).where(TwinningPair.unit_id == unit.id)
                                       .order_by(TwinningPair.id))).all()
        chosen = None
        if pair == "first":
            chosen = pairs[0]
        elif pair is not None:
            [chosen] = [p for p in pairs if p.code == pair]
        author = await session.scalar(select(Person).where(Person.display_name == f"Officer {unit_code}"))
        if author is None:
            author = Person(display_name=f"Officer {unit_code}", role="officer", unit_id=unit.id)
            session.add(author)
            await session.flush()
        at = filed or dt.datetime.combine(day, dt.time(12), tzinfo=TZ)
        measures = [ReportMeasure(measure=name, currency="", amount=Decimal(str(n)))
                    for name, n in (figures or {}).items()]
        if money:
            measures.append(ReportMeasure(measure=money[0], currency=money[1], amount=Decimal(money[2])))
        report = Report(
            draft_token=str(uuid.uuid4()), unit_id=unit.id, author_person_id=author.id, channel="telegram",
            kind=kind, activity_date=day, pair_id=chosen.id if chosen else None,
            partner_name=chosen.partner_name if chosen else "Bản đối diện",
            partner_country=chosen.partner_country if chosen else partner[0],
            partner_province=chosen.partner_province if chosen else partner[1], venue=venue,
            description="Hoạt động kết nghĩa", details={"direction": direction} if direction else {},
            status=status, created_at=at, updated_at=at, measures=measures,
        )
        session.add(report)
        await session.commit()
        return report.id


async def nothing_to_report(db: Database, unit_code: str, week: IsoWeek, at: dt.datetime) -> None:
    async with db.unit_of_work() as uow:
        unit = await people.unit_by_code(uow.session, unit_code)
        assert unit is not None
        uow.session.add(UnitWeek(unit_id=unit.id, week=str(week), nothing_to_report_at=at))
        await uow.commit()


async def set_rhythm(db: Database, pair_code: str, rhythm: str | None) -> None:
    async with db.unit_of_work() as uow:
        pair = await uow.session.scalar(select(TwinningPair).where(TwinningPair.code == pair_code))
        assert pair is not None
        pair.rhythm = rhythm
        await uow.commit()


D = dt.date


async def known_half_years(db: Database) -> None:
    # --- cluster 2, first half of 2026 --------------------------------------------------------------------
    # R1 Tuesday 20/1 (W04), filed the same day: on time.
    await add(db, "LCA-DBP-CKQT-LAO-CAI", D(2026, 1, 20), "donation", "partner",
              figures={"participants_ours": 10, "participants_partner": 50, "gift_packages": 100},
              money=("value_gifts", "VND", "50000000"))
    # R2 Tuesday 10/2 (W07): an outgoing delegation, on time.
    await add(db, "LCA-DBP-CKQT-LAO-CAI", D(2026, 2, 10), "delegation", "partner",
              figures={"delegations": 1, "delegation_people": 12}, direction="out")
    # R3 Thursday 5/3 (W10), filed the Monday after: late.
    await add(db, "LCA-THON-COC-PHUONG", D(2026, 3, 5), "exchange", "ours",
              figures={"participants_ours": 30, "participants_partner": 40},
              filed=dt.datetime(2026, 3, 9, 8, tzinfo=TZ))
    # R4 Sunday 12/4 (W15), filed that Sunday: after Friday's reminder.
    await add(db, "TQG-CUM-THUONG-PHUNG", D(2026, 4, 12), "medical", "ours", figures={"patients": 150},
              money=("value_medicines", "VND", "20000000"))
    # R5 Saturday 2/5 (W18): an incoming delegation with Laos.
    await add(db, "DBN-DBP-MUONG-NHA", D(2026, 5, 2), "delegation", "ours",
              figures={"delegations": 2, "delegation_people": 25}, direction="in")
    # R6 Tuesday 30/6 (W27, whose Thursday is 2/7: a week of the second half): a patrol at the border line.
    await add(db, "DBN-DBP-MUONG-NHA", D(2026, 6, 30), "patrol", "border", figures={"markers": 3, "km": "15.3"})
    # R7 1/7: the second half.
    await add(db, "LCA-DBP-SI-MA-CAI", D(2026, 7, 1), "visit", "ours")
    # R8 withdrawn: never counted.
    await add(db, "LCA-DBP-PHA-LONG", D(2026, 3, 1), "exchange", "ours", status="withdrawn",
              figures={"participants_ours": 999})
    # R9 Sunday 15/2 (W07): the province's union, with a partner outside the registry.
    await add(db, "LCA-LHHN", D(2026, 2, 15), "visit", "partner", pair=None)
    # R10 Wednesday 20/5 (W21): gifts valued in dollars only, held on both sides; on time.
    await add(db, "TQG-CUM-THUONG-PHUNG", D(2026, 5, 20), "donation", "both", figures={"gift_packages": 30},
              money=("value_gifts", "USD", "500"))
    # "Nothing to report": Y Tý for W10 on Thursday (on time), Pha Long for W11 on Saturday (late).
    await nothing_to_report(db, "LCA-DBP-Y-TY", IsoWeek(2026, 10), dt.datetime(2026, 3, 5, 9, tzinfo=TZ))
    await nothing_to_report(db, "LCA-DBP-PHA-LONG", IsoWeek(2026, 11), dt.datetime(2026, 3, 14, 9, tzinfo=TZ))

    # --- cluster 4 and cluster 1 ---------------------------------------------------------------------------
    await add(db, "TNI-DBP-SONG-TRANG", D(2026, 1, 5), "donation", "ours",  # R11, pair X16 (Svay Rieng)
              figures={"participants_ours": 12, "participants_partner": 40, "gift_packages": 200},
              money=("value_gifts", "VND", "350000000"))
    await add(db, "TNI-DBP-SONG-TRANG", D(2026, 3, 10), "patrol", "border",  # R12, Prey Veng
              pair="TNI-SONG-TRANG-SVAY-ANGONG")
    await add(db, "THO-BAN-KHEO", D(2026, 2, 2), "visit", "partner")  # R13, Hủa Phăn
    await add(db, "NAN-DBP-THONG-THU", D(2026, 5, 15), "twinning_review", "ours")  # R14, Hủa Phăn

    # --- the first half of 2025 ------------------------------------------------------------------------------
    await add(db, "LCA-DBP-CKQT-LAO-CAI", D(2025, 3, 3), "exchange", "ours",  # P1
              figures={"participants_ours": 5, "participants_partner": 5})
    await add(db, "TNI-DBP-SONG-TRANG", D(2025, 6, 30), "donation", "ours", figures={"gift_packages": 50},  # P2
              money=("value_gifts", "VND", "10000000"))
    await add(db, "LCA-DBP-CKQT-LAO-CAI", D(2025, 7, 1), "exchange", "ours")  # P3: the second half of 2025
