"""The report form, declared as data: the activity kinds, every field, and which kind asks which field.

Add a kind or a field here; the engine in ``flows`` walks whatever this table says. Keys are
stored in drafts and reports: rename one only with a data migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import N_


@dataclass(frozen=True)
class Field:
    key: str
    type: str  # choice | text | longtext | count | money | date | decimal | pair | unit | photos | location
    label: str
    prompt: str
    example: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    optional: bool = False
    limit: int = 200


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    fields: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("exchange", N_("Exchange (giao lưu)"), ("exchange_type",)),
    Kind("donation", N_("Donation / gifts"), ("gift_items", "gift_packages", "value", "recipients")),
    Kind("visit", N_("Visit / greetings"), ("occasion",)),
    Kind("delegation", N_("Delegation in / out"), ("direction", "delegations", "delegation_people")),
    Kind("patrol", N_("Joint patrol"), ("markers", "km")),
    Kind("medical", N_("Free medical care"), ("patients", "medicine_value")),
    Kind("outreach", N_("Legal / border-marker outreach"), ("outreach_topic", "sessions")),
    Kind("twinning", N_("Twinning signing / review"), ("twinning_event",)),
    Kind("other", N_("Other activity")),
)}

COUNTRIES = (("CN", N_("China")), ("LA", N_("Laos")), ("KH", N_("Cambodia")))

FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("unit", "unit", N_("Unit"), N_("Which unit is this report for? Type part of its name."),
          N_("e.g. Pha Long")),
    Field("kind", "choice", N_("Kind"), N_("What kind of activity was it?"),
          choices=tuple((k.key, k.label) for k in KINDS.values())),
    Field("date", "date", N_("Date"), N_("When did it take place?"),
          N_("Tap a button, or type the date, e.g. 24/11 or 24/11/2026, or “hôm qua”.")),
    Field("pair", "pair", N_("Partner"), N_("Which twinned partner was it with?")),
    Field("partner_name", "text", N_("Partner name"), N_("Type the partner's name (unit, village or commune)."),
          N_("e.g. Bản Thà Láu, huyện Sầm Tớ")),
    Field("partner_country", "choice", N_("Partner country"), N_("Which country is the partner in?"),
          choices=COUNTRIES),
    Field("venue", "choice", N_("Held"), N_("Where was it held?"), choices=(
        ("ours", N_("On our side")), ("partner", N_("On the partner's side")),
        ("both", N_("On both sides")), ("border", N_("At the border line")),
    )),
    Field("participants_ours", "count", N_("Participants (our side)"),
          N_("How many people took part on our side?"), N_("A whole number, e.g. 45."), optional=True),
    Field("participants_partner", "count", N_("Participants (partner side)"),
          N_("How many people took part on the partner's side?"), N_("A whole number, e.g. 30."), optional=True),
    Field("exchange_type", "choice", N_("Type of exchange"), N_("What kind of exchange?"), choices=(
        ("culture", N_("Culture / arts")), ("sport", N_("Sport")), ("people", N_("People's exchange")),
        ("festival", N_("Festival / border fair")),
    )),
    Field("gift_items", "text", N_("What was given"), N_("What was given?"),
          N_("e.g. 200 suất quà: gạo, mì tôm, chăn ấm")),
    Field("gift_packages", "count", N_("Gift packages"), N_("How many gift packages (suất quà)?"),
          N_("A whole number, e.g. 200."), optional=True),
    Field("value", "money", N_("Total value"), N_("What was the total value?"),
          N_("e.g. 1.500.000, 1,5tr, 2 tỷ, 500k, 200 USD, 5.000 tệ. Đồng unless you name the currency."),
          optional=True),
    Field("recipients", "text", N_("Received by"), N_("Who received it?"),
          N_("e.g. 120 households of bản Phu Cưa"), optional=True),
    Field("occasion", "choice", N_("Occasion"), N_("What was the occasion?"), choices=(
        ("new_year", N_("New Year (Tết, Bunpimay, Chol Chnam Thmay)")), ("national_day", N_("National day")),
        ("anniversary", N_("Anniversary")), ("condolence", N_("Illness, disaster or bereavement")),
        ("other", N_("Other occasion")),
    ), optional=True),
    Field("direction", "choice", N_("Direction"), N_("Was the delegation incoming or outgoing?"), choices=(
        ("in", N_("Incoming (đoàn vào)")), ("out", N_("Outgoing (đoàn ra)")),
    )),
    Field("delegations", "count", N_("Delegations"), N_("How many delegations?"), N_("A whole number, e.g. 1.")),
    Field("delegation_people", "count", N_("People in the delegations"), N_("How many people in all?"),
          N_("A whole number, e.g. 12.")),
    Field("markers", "count", N_("Border markers"), N_("How many border markers were checked?"),
          N_("A whole number, e.g. 3."), optional=True),
    Field("km", "decimal", N_("Distance (km)"), N_("How many kilometres were covered?"), N_("e.g. 15,3"),
          optional=True),
    Field("patients", "count", N_("People examined"), N_("How many people were examined or treated?"),
          N_("A whole number, e.g. 150.")),
    Field("medicine_value", "money", N_("Value of medicines"), N_("What was the value of the medicines given?"),
          N_("e.g. 20tr, 500 USD"), optional=True),
    Field("outreach_topic", "choice", N_("Topic"), N_("What was the outreach about?"), choices=(
        ("law", N_("Law and border regulations")), ("markers", N_("Protecting the border line and markers")),
        ("crime", N_("Preventing crime and trafficking")), ("other", N_("Another topic")),
    )),
    Field("sessions", "count", N_("Sessions"), N_("How many sessions were held?"), N_("A whole number, e.g. 2."),
          optional=True),
    Field("twinning_event", "choice", N_("Twinning event"), N_("Was it a signing or a review?"), choices=(
        ("signing", N_("Signing a twinning")), ("review", N_("Periodic review (sơ kết / tổng kết)")),
    )),
    Field("description", "longtext", N_("Description"), N_("Describe the activity in a few sentences."),
          N_("What happened, who led it, any results."), limit=1000),
    Field("photos", "photos", N_("Photos"), N_("Send photos of the activity (several at once is fine), "
                                               "then tap Done."), optional=True),
    Field("location", "location", N_("Location"), N_("Where exactly? Send your location, or type the place."),
          N_("e.g. Cửa khẩu Lào Cai, mốc 102"), optional=True, limit=200),
)}

KIND_FIELDS = frozenset(key for kind in KINDS.values() for key in kind.fields)
HEAD = ("unit", "kind", "date", "pair", "partner_name", "partner_country", "venue",
        "participants_ours", "participants_partner")
TAIL = ("description", "photos", "location")
MAX_PHOTOS = 20


def field_keys(values: dict[str, object]) -> list[str]:
    """The fields this draft asks, in order, given what it holds so far."""
    kind = KINDS.get(str(values.get("kind")))
    keys = [*HEAD, *(kind.fields if kind else ()), *TAIL]
    if values.get("pair") != "other":
        keys = [k for k in keys if k not in ("partner_name", "partner_country")]
    if values.get("unit_fixed"):
        keys.remove("unit")
    return keys
