"""The figures a report carries, each declared once, here, with everything about it.

One event has one main kind and any number of measures: participants on each side, gift packages, values
(each for one purpose, in its own currency), people examined, delegations and their people, markers and
kilometres, sessions, households, scholarships. The kind suggests its usual measures (``report_form``);
the officer may add any other set of them before submitting.

A ``Measure`` owns how it is asked and read (its prompt, the unit words it accepts or refuses, the range
outside which a figure is confirmed), how it is shown (its label, in every locale), its column in every
spreadsheet and its line in /stats and the digest (in the order declared here), and how it sums: counts
add up, values add up per currency and never across currencies. Adding a measure is a declaration here
and its translations; ``tests/test_measures.py`` walks every one through the form, the exports, /stats,
the digest, the correction menu and the catalogs.

Keys are stored (``report_measures.measure``, drafts): rename one only with a data migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from handlers.i18n import N_

COUNT, DECIMAL, MONEY = "count", "decimal", "money"

# Unit words after a number that never mean a count of people or packages (folded, without accents).
GOODS = ("tan", "kg", "ta", "yen", "thung", "bao", "hop", "cai", "chiec", "bo", "con", "tui", "goi", "lit", "chai")


@dataclass(frozen=True)
class Measure:
    key: str
    kind: str  # count | decimal | money
    label: str  # message id: the field, the spreadsheet column, the line in /stats and the digest
    prompt: str
    example: str
    # A figure outside [low, high] is read but confirmed ("Is 120 ₫ right?"); money limits are in đồng and
    # apply to VND only (a value of 50 USD is plausible, 50 ₫ is not).
    low: Decimal | None = None
    high: Decimal | None = None
    # Unit words (folded) that say the officer counted something else: each with what to answer.
    refused_units: dict[str, str] = field(default_factory=dict)
    optional: bool = True
    correctable: bool = True


_NOT_PACKAGES = N_("Households, tonnes, boxes and items are not gift packages (suất quà). How many gift packages "
                   "were given? The goods themselves go in “What was given”.")
_NOT_PEOPLE = N_("That is a count of goods or households, not of people. How many people?")
_PEOPLE_UNITS = dict.fromkeys((*GOODS, "ho", "suat", "phan", "suat qua", "phan qua"), _NOT_PEOPLE)
_PACKAGE_UNITS = dict.fromkeys((*GOODS, "ho", "ho dan", "nguoi", "luot", "luot nguoi", "khau"), _NOT_PACKAGES)
_VALUE_LOW, _VALUE_HIGH = Decimal(1_000), Decimal(10) ** 12  # đồng
_PEOPLE_HIGH = Decimal(100_000)

MEASURES: dict[str, Measure] = {m.key: m for m in (
    Measure("participants_ours", COUNT, N_("Participants (our side)"),
            N_("How many people took part on our side?"), N_("A whole number, e.g. 45."),
            low=Decimal(1), high=_PEOPLE_HIGH, refused_units=_PEOPLE_UNITS),
    Measure("participants_partner", COUNT, N_("Participants (partner side)"),
            N_("How many people took part on the partner's side?"), N_("A whole number, e.g. 30."),
            low=Decimal(1), high=_PEOPLE_HIGH, refused_units=_PEOPLE_UNITS),
    Measure("gift_packages", COUNT, N_("Gift packages"), N_("How many gift packages (suất quà)?"),
            N_("A whole number, e.g. 200."), low=Decimal(1), high=Decimal(100_000), refused_units=_PACKAGE_UNITS),
    Measure("value_gifts", MONEY, N_("Value of gifts"), N_("What were the gifts worth in all?"),
            N_("e.g. 1.500.000, 1,5tr, 2 tỷ, 500k, 200 USD, 5.000 tệ. Đồng unless you name the currency."),
            low=_VALUE_LOW, high=_VALUE_HIGH),
    Measure("value_cash", MONEY, N_("Support in cash"), N_("How much was given in cash?"),
            N_("e.g. 20tr, 5 triệu rưỡi, 1.000 USD"), low=_VALUE_LOW, high=_VALUE_HIGH),
    Measure("patients", COUNT, N_("People examined"), N_("How many people were examined or treated?"),
            N_("A whole number, e.g. 150."), optional=False, low=Decimal(1), high=_PEOPLE_HIGH,
            refused_units=_PEOPLE_UNITS),
    Measure("value_medicines", MONEY, N_("Value of medicines"), N_("What was the value of the medicines given?"),
            N_("e.g. 20tr, 500 USD"), low=_VALUE_LOW, high=_VALUE_HIGH),
    Measure("delegations", COUNT, N_("Delegations"), N_("How many delegations?"), N_("A whole number, e.g. 1."),
            optional=False, low=Decimal(1), high=Decimal(100)),
    Measure("delegation_people", COUNT, N_("People in the delegations"), N_("How many people in all?"),
            N_("A whole number, e.g. 12."), optional=False, low=Decimal(1), high=Decimal(10_000),
            refused_units=_PEOPLE_UNITS),
    Measure("markers", COUNT, N_("Border markers"), N_("How many border markers were checked?"),
            N_("A whole number, e.g. 3."), low=Decimal(1), high=Decimal(200)),
    Measure("km", DECIMAL, N_("Distance (km)"), N_("How many kilometres were covered?"), N_("e.g. 15,3"),
            low=Decimal("0.1"), high=Decimal(500)),
    Measure("sessions", COUNT, N_("Sessions"), N_("How many sessions were held?"), N_("A whole number, e.g. 2."),
            low=Decimal(1), high=Decimal(500)),
    Measure("households", COUNT, N_("Households reached"), N_("How many households were reached?"),
            N_("A whole number, e.g. 120."), low=Decimal(1), high=Decimal(50_000)),
    Measure("scholarships", COUNT, N_("Scholarships"), N_("How many scholarships (suất học bổng)?"),
            N_("A whole number, e.g. 20."), low=Decimal(1), high=Decimal(10_000)),
    Measure("value_works", MONEY, N_("Value of works built"),
            N_("What were the works built or handed over worth (a house, a road, a classroom)?"),
            N_("e.g. 350 triệu, 1,2 tỷ"), low=_VALUE_LOW, high=_VALUE_HIGH),
)}


@dataclass(frozen=True)
class FigureSet:
    """What the officer adds in one go ("➕ Add figures: gifts"): measures, with the details that belong
    to them (what was given, and to whom), in the order they are asked."""

    key: str
    label: str
    fields: tuple[str, ...]


FIGURE_SETS: dict[str, FigureSet] = {s.key: s for s in (
    FigureSet("gifts", N_("🎁 Gifts"), ("gift_items", "gift_packages", "value_gifts", "recipients")),
    FigureSet("cash", N_("💵 Support in cash"), ("value_cash",)),
    FigureSet("medical", N_("🩺 Medical care"), ("patients", "value_medicines")),
    FigureSet("delegation", N_("🚩 Delegation"), ("direction", "delegations", "delegation_people")),
    FigureSet("patrol", N_("🗺 Markers and distance"), ("markers", "km")),
    FigureSet("sessions", N_("📣 Sessions"), ("sessions",)),
    FigureSet("households", N_("🏠 Households"), ("households",)),
    FigureSet("scholarships", N_("🎓 Scholarships"), ("scholarships",)),
    FigureSet("works", N_("🏗 Works built"), ("value_works",)),
)}

ORDER = tuple(MEASURES)
