"""The report form, declared as data: the activity kinds, every field, and which kind asks which field.

Add a kind or a field here; the engine in ``flows`` walks whatever this table says. Keys are
stored in drafts and reports: rename one only with a data migration.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import N_
from handlers.measures import FIGURE_SETS, MEASURES, Measure


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
    typed_prompt: str = ""  # the prompt where the channel cannot share a location

    @property
    def measure(self) -> Measure | None:
        return MEASURES.get(self.key)


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    details: tuple[str, ...] = ()  # what only this kind asks (the type of exchange, the occasion)
    sets: tuple[str, ...] = ()  # the figures it usually has (``measures.FIGURE_SETS``)


KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("exchange", N_("Exchange (giao lưu)"), ("exchange_type",)),
    Kind("donation", N_("Donation / gifts"), sets=("gifts",)),
    Kind("visit", N_("Visit / greetings"), ("occasion",)),
    Kind("delegation", N_("Delegation in / out"), sets=("delegation",)),
    Kind("patrol", N_("Joint patrol"), sets=("patrol",)),
    Kind("medical", N_("Free medical care"), sets=("medical",)),
    Kind("outreach", N_("Legal / border-marker outreach"), ("outreach_topic",), ("sessions",)),
    Kind("twinning_signing", N_("Twinning signing")),
    Kind("twinning_review", N_("Twinning review (sơ kết / tổng kết)")),
    Kind("other", N_("Other activity")),
)}

COUNTRIES = (("CN", N_("China")), ("LA", N_("Laos")), ("KH", N_("Cambodia")))

_FORM_FIELDS = (
    Field("unit", "unit", N_("Unit"), N_("Which unit is this report for? Type part of its name."),
          N_("e.g. Pha Long")),
    Field("kind", "choice", N_("Kind"), N_("What kind of activity was it?"),
          choices=tuple((k.key, k.label) for k in KINDS.values())),
    Field("date", "date", N_("Date"), N_("When did it take place?"),
          N_("e.g. 24/11 or 24/11/2026, or “hôm qua”.")),
    Field("pair", "pair", N_("Partner"), N_("Which twinned partner was it with?")),
    Field("partner_name", "text", N_("Partner name"), N_("Type the partner's name (unit, village or commune)."),
          N_("e.g. Bản Thà Láu, huyện Sầm Tớ")),
    Field("partner_country", "choice", N_("Partner country"), N_("Which country is the partner in?"),
          choices=COUNTRIES),
    Field("venue", "choice", N_("Held"), N_("Where was it held?"), choices=(
        ("ours", N_("On our side")), ("partner", N_("On the partner's side")),
        ("both", N_("On both sides")), ("border", N_("At the border line")),
    )),
    Field("exchange_type", "choice", N_("Type of exchange"), N_("What kind of exchange?"), choices=(
        ("culture", N_("Culture / arts")), ("sport", N_("Sport")), ("people", N_("People's exchange")),
        ("festival", N_("Festival / border fair")),
    )),
    Field("gift_items", "text", N_("What was given"), N_("What was given?"),
          N_("e.g. 200 suất quà: gạo, mì tôm, chăn ấm")),
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
    Field("outreach_topic", "choice", N_("Topic"), N_("What was the outreach about?"), choices=(
        ("law", N_("Law and border regulations")), ("markers", N_("Protecting the border line and markers")),
        ("crime", N_("Preventing crime and trafficking")), ("other", N_("Another topic")),
    )),
    Field("description", "longtext", N_("Description"), N_("Describe the activity in a few sentences."),
          N_("What happened, who led it, any results."), limit=1000),
    Field("photos", "photos", N_("Photos"), N_("Send photos of the activity (several at once is fine), "
                                               "then choose Done."), optional=True),
    Field("location", "location", N_("Location"), N_("Where exactly? Send your location, or type the place."),
          N_("e.g. Cửa khẩu Lào Cai, mốc 102"), optional=True, limit=200,
          typed_prompt=N_("Where exactly? Type the place.")),
)

FIELDS: dict[str, Field] = {
    **{f.key: f for f in _FORM_FIELDS},
    **{m.key: Field(m.key, m.kind, m.label, m.prompt, m.example, optional=m.optional) for m in MEASURES.values()},
}

# Fields that describe one kind only: changing the kind asks before they are dropped.
KIND_DETAILS = frozenset(key for kind in KINDS.values() for key in kind.details)
HEAD = ("unit", "kind", "date", "pair", "partner_name", "partner_country", "venue",
        "participants_ours", "participants_partner")
TAIL = ("description", "photos", "location")
MAX_PHOTOS = 20


def figure_sets(values: dict[str, object]) -> list[str]:
    """The sets of figures this draft asks: its kind's, then those the officer added, in that order."""
    kind = KINDS.get(str(values.get("kind")))
    sets = list(kind.sets) if kind else []
    added = values.get("sets") or []
    assert isinstance(added, list)
    return sets + [s for s in added if s not in sets and s in FIGURE_SETS]


def field_keys(values: dict[str, object]) -> list[str]:
    """The fields this draft asks, in order, given what it holds so far."""
    kind = KINDS.get(str(values.get("kind")))
    keys = [*HEAD, *(kind.details if kind else ())]
    for name in figure_sets(values):
        keys += [k for k in FIGURE_SETS[name].fields if k not in keys]
    keys += TAIL
    if values.get("pair") != "other":
        keys = [k for k in keys if k not in ("partner_name", "partner_country")]
    if values.get("unit_fixed"):
        keys.remove("unit")
    return keys
