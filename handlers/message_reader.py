"""Reading one free-text message as the report of an activity.

Officers text what happened in one message, as they would to a colleague, often without diacritics:
``Hôm qua đồn phối hợp khám bệnh, cấp thuốc cho 150 người dân cụm bản La Cồ (Sê Pôn), trao 1.000 suất quà trị
giá 500tr``. ``read_message`` says whether such a message reports an activity (yes, no, or unsure), returns the
draft values of the report form that it states (the formats of ``report_values``), and the questions its
doubtful parts raise, each with the readings to offer when there are any.

What it holds to:

* It never invents. A field the message does not state stays out of the values; one it states in a way that
  reads two ways is a question, never a guess ("tuần trước" gives no day, "hai bên 60 người" no split).
* A number is a figure only when a unit word follows it (``150 người``, ``1.000 suất quà``, ``3 mốc``,
  ``7,5 km``) or it is an amount (a scale word or a currency with it, or ``trị giá`` before it), and not when
  it names something: ``mốc 102``, ``Đại đội 163``, ``đồn 5``, ``Chỉ thị 12-CT/TW``, years, dates, times,
  telephone numbers, percentages. Amounts and counts are read by ``handlers.amounts``, so a figure means the
  same here as typed at the form's own question.
* Words are matched without accents (officers often type without them) but with them where they were typed:
  ``tặng`` (give) is not ``tăng`` (increase), ``thăm`` (visit) is not ``tham`` (take part).

Pure and deterministic: no I/O, no model, a few hundred microseconds a message.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from handlers.amounts import Money, read_count, read_decimal, read_money, spoken_number
from handlers.i18n import N_
from handlers.measures import FIGURE_SETS, MEASURES, MONEY
from handlers.parsing import Invalid, clean_text
from handlers.report_form import KINDS
from storage.provinces import PARTNER_PROVINCES

YES, NO, UNSURE = "yes", "no", "unsure"
_MAX_LENGTH = 4000  # what is read of a pasted text; the description keeps the form's own limit


@dataclass(frozen=True)
class PairRef:
    """One of the unit's twinning pairs, as the reader needs it."""

    id: int
    name: str
    country: str
    province: str | None = None


@dataclass(frozen=True)
class Question:
    """A field to ask because the message states it doubtfully: ``why`` is a message id (with ``values``,
    raw: numbers, dates, ``Money``) saying what is unclear, ``readings`` the draft values to offer."""

    key: str  # the field asked
    why: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    readings: tuple[Any, ...] = ()
    approx: bool = False


@dataclass(frozen=True)
class MessageReading:
    report: str  # YES, NO or UNSURE
    values: dict[str, Any]
    questions: tuple[Question, ...] = ()
    # Named in the message without naming one of the unit's partners.
    partner_country: str | None = None
    partner_province: str | None = None
    reason: str = ""  # why it is (not) taken for a report: for tests and logs


# --- text to tokens ---------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\u061c]")
_TOKEN = re.compile(r"(?P<num>[0-9]+(?:[.,][0-9]+)*)|(?P<word>[a-z]+)|(?P<sym>\S)")


def _marks(raw: str) -> str:
    """The accents a word was typed with, in a fixed order (tone placement differs: hoà and hòa)."""
    marks = sorted(c for c in unicodedata.normalize("NFD", raw) if unicodedata.combining(c))
    return "".join(marks) + ("đ" if "đ" in raw else "")


@cache
def _letter(ch: str) -> tuple[str, str]:
    """One character lowercased, and folded (accents dropped, đ → d)."""
    low = ch.lower() if len(ch.lower()) == 1 else ch
    if low == "đ":
        return low, "d"
    if low.isascii():
        return low, low
    base = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
    return low, base if len(base) == 1 else low


def _align(text: str) -> tuple[str, str]:
    """The text lowercased (accents kept) and folded (accents dropped, đ → d), character for character."""
    pairs = [_letter(ch) for ch in text]
    return "".join(low for low, _ in pairs), "".join(base for _, base in pairs)


@dataclass(slots=True)
class _Tok:
    kind: str  # num | word | sym
    raw: str  # lowercase, as typed
    key: str  # folded
    marks: str
    start: int
    end: int
    role: str = ""  # a non-figure the masks found: date, time, doc, phone, percent, ratio


def _tokens(raw: str, key: str) -> list[_Tok]:
    toks = []
    for m in _TOKEN.finditer(key):
        kind = m.lastgroup or "sym"
        piece = raw[m.start():m.end()]
        toks.append(_Tok(kind, piece, m.group(), _marks(piece) if kind == "word" else "", m.start(), m.end()))
    return toks


# --- the vocabulary -----------------------------------------------------------------------------
# Each line: tags, a colon, phrases separated by "|". Phrases are written as they are spelled; a word typed
# without accents matches whatever its accents would have been, a word typed with them only its own spelling.

_VOCABULARY = """
kind=exchange: giao lưu | sang giao lưu | giao hữu | giao lưu hữu nghị | exchange | exchanges | \
    friendship exchange | exchanged
kind=exchange exchange_type=culture: giao lưu văn nghệ | giao lưu văn hóa | văn nghệ | văn hóa văn nghệ | \
    biểu diễn văn nghệ | liên hoan | cultural exchange | cultural | performance | performances | art performance
kind=exchange exchange_type=sport: giao lưu bóng đá | giao lưu thể thao | bóng đá | bóng chuyền | thể thao | \
    thể dục thể thao | thi đấu | kéo co | đá bóng | football | volleyball | sports | sport | friendly match
kind=exchange exchange_type=festival: ngày hội | lễ hội | hội chợ | ngày hội biên giới | festival | fair | \
    border fair
kind=exchange exchange_type=people: giao lưu nhân dân | people - to - people | people to people
kind=donation give: tặng | trao tặng | biếu | ủng hộ | quyên góp | donated | donate | donation | donations | \
    gave | presented | handed over
kind=donation give gifts: tặng quà | trao quà | trao tặng quà | biếu quà | gave gifts | presented gifts
kind=donation: suất quà | phần quà | quà tặng | gifts | gift | gift packages | relief | nhu yếu phẩm
give: trao | hỗ trợ | trao hỗ trợ | supported | provided
kind=visit: thăm | thăm hỏi | đến thăm | sang thăm | sang chúc mừng | chúc mừng | visit | visited | visiting | \
    greetings | greeted | paid a visit | thăm và chúc mừng
kind=visit occasion=new_year: chúc tết | sang chúc tết | thăm chúc tết | sang thăm chúc tết | \
    sang thăm và chúc tết | thăm và chúc tết | chúc mừng năm mới | bunpimay | bun pi may | chol chnam thmay | \
    new year greetings | new year
kind=visit occasion=national_day: chúc mừng quốc khánh | mừng quốc khánh | national day
kind=visit occasion=anniversary: chúc mừng kỷ niệm | dự lễ kỷ niệm | dự kỷ niệm | anniversary
kind=visit: dự lễ | attended the ceremony
kind=visit occasion=condolence: viếng | chia buồn | thăm hỏi ốm đau | đám tang | condolences | condolence
occasion=new_year: tết | tết nguyên đán | quà tết
occasion=national_day: quốc khánh
occasion=anniversary: kỷ niệm | ngày thành lập | ngày truyền thống
occasion=condolence: lũ lụt | thiên tai | bão lũ | hỏa hoạn | ốm đau | floods | disaster
kind=delegation direction=out subject: đoàn ra | dẫn đoàn | outgoing delegation | led a delegation | \
    sent a delegation
kind=delegation direction=in subject: đoàn vào | đón đoàn | đón tiếp đoàn | tiếp đoàn | đón tiếp | tiếp đón | \
    incoming delegation | received a delegation | welcomed a delegation | hosted a delegation
kind=delegation subject: đoàn công tác | đoàn đại biểu | đoàn khách | delegation | delegations
subject: đoàn
kind=patrol: tuần tra | tuần tra song phương | tuần tra chung | tuần tra liên hợp | patrol | patrols | patrolled | \
    joint patrol | joint patrols | patrolling
kind=medical: gave free medicines | gave medicines | provided medicines | distributed medicines | \
    free medical care | khám bệnh | khám chữa bệnh | khám sức khỏe | khám | thăm khám | cấp thuốc | \
    cấp phát thuốc | phát thuốc | tặng thuốc | chữa bệnh | khám và cấp thuốc | medical | medical check | \
    medical checks | health check | health checks | check - ups | medical examination | examined | free medicine | \
    medicines | treated | treatment
kind=outreach: tuyên truyền | outreach | propaganda | awareness | disseminated | raised awareness
kind=outreach topic=law: phổ biến pháp luật | phổ biến giáo dục pháp luật | tuyên truyền pháp luật | \
    tuyên truyền phổ biến pháp luật | legal awareness | legal outreach
topic=law: pháp luật | luật | law | laws | regulations
topic=markers: mốc giới | cột mốc | đường biên | biên giới | đường biên giới | bảo vệ mốc | ba văn kiện | \
    3 văn kiện | nghị định thư | border markers | border line | markers
topic=crime: ma túy | buôn bán người | tội phạm | buôn lậu | xuất nhập cảnh trái phép | drugs | trafficking | \
    crime
kind=twinning_signing: ký kết nghĩa | lễ kết nghĩa | ký kết kết nghĩa | ký biên bản kết nghĩa | lễ ký kết nghĩa | \
    ký kết | twinning ceremony | twinning signing | signed a twinning | signing ceremony | signed the twinning | \
    signed twinning | twinning agreement | signed the twinning agreement
kind=twinning_review: sơ kết | tổng kết | sơ kết kết nghĩa | tổng kết kết nghĩa | twinning review | \
    review meeting | review conference
kind=other: hội đàm | gặp gỡ | giao ban | hội nghị | họp | trao trả | bàn giao | trồng cây | cứu hộ | cứu nạn | \
    khánh thành | talks | meeting | handover | rescue | tree planting
:
date=0: hôm nay | sáng nay | trưa nay | chiều nay | tối nay | ngày hôm nay | today | this morning | \
    this afternoon | this evening
date=1: hôm qua | sáng qua | trưa qua | chiều qua | tối qua | đêm qua | sáng hôm qua | chiều hôm qua | \
    tối hôm qua | ngày hôm qua | yesterday | last night | yesterday morning | yesterday afternoon
date=2: hôm kia | ngày hôm kia | day before yesterday | the day before yesterday
vague: tuần trước | tuần rồi | tuần qua | hôm trước | mấy hôm trước | mấy ngày trước | vài ngày trước | hôm nọ | \
    tháng trước | tháng rồi | tháng qua | gần đây | đầu tuần | cuối tuần | đầu tháng | cuối tháng | last week | \
    last month | recently | the other day | earlier this week | this week | this month
lastweek: tuần trước | tuần rồi | last week
thisweek: tuần này | this week
weekday=0: thứ hai | thứ 2 | t2 | monday
weekday=1: thứ ba | thứ 3 | t3 | tuesday
weekday=2: thứ tư | thứ 4 | t4 | wednesday
weekday=3: thứ năm | thứ 5 | t5 | thursday
weekday=4: thứ sáu | thứ 6 | t6 | friday
weekday=5: thứ bảy | thứ 7 | t7 | saturday
weekday=6: chủ nhật | sunday
planword: kế hoạch | dự án | plan | lịch | lên lịch | xếp lịch | sắp xếp lịch | schedule
request: cho biết | đề nghị | yêu cầu | vui lòng | đề nghị các đồn | nhắc | please | kindly
document: công văn | văn bản | thông báo | quyết định | chỉ thị | hướng dẫn | kế hoạch số | tờ trình | giấy mời | \
    về việc | circular | letter | notice
transmit: nhận được | đã nhận | gửi | xin gửi | gửi kèm | chuyển | received | sent | attached | forwarded
future: sẽ | dự kiến | có kế hoạch | lên kế hoạch | theo kế hoạch sẽ | sắp | sắp tới | chuẩn bị | tuần sau | \
    tuần tới | tháng sau | tháng tới | năm sau | năm tới | ngày mai | sáng mai | chiều mai | tối mai | will | \
    plan | plans | planned | planning | next week | next month | tomorrow | upcoming | going to | scheduled | \
    to be held
past: đã | vừa | vừa qua | vừa rồi | mới đây | xong | đã tổ chức | hoàn thành | held | organised | organized | \
    conducted | \
    carried out | took part | took place | attended | went | was | were | had | did
question: cho em hỏi | cho tôi hỏi | em hỏi | hỏi | làm sao | làm thế nào | như thế nào | thế nào | có phải | \
    bao giờ | khi nào | ở đâu | tại sao | vì sao | cho hỏi | xin hỏi | được không | có được không | không ạ | \
    chưa ạ | bao nhiêu | how | what | why | where | when | can i | could i | should i | do i | is it | how do
edit: sửa | sửa lại | chỉnh sửa | điều chỉnh | cập nhật | thay đổi | xóa | hủy | bổ sung | nhầm | bị nhầm | \
    ghi nhầm | sai | bị sai | correct | correction | change | edit | update | fix | delete | wrong | mistake
reportword: báo cáo | report | bc
thanks: chúc mừng đồng chí | chúc mừng anh | chúc mừng chị | congratulations | chúc mừng năm mới | cảm ơn | \
    cám ơn | thanks | thank you | chào | xin chào | hello | hi | ok | oke | okay | vâng | dạ | được rồi | \
    good morning
each: mỗi bên | mỗi phía | each side | per side | on each side
both: hai bên | cả hai bên | 2 bên | hai phía | cả 2 bên | tổng hai bên | của hai bên | both sides | \
    from both sides | on both sides | of both sides | in total from both sides
ours: phía ta | bên ta | của ta | ta | phía việt nam | our side | ours | of ours | của đồn | của đơn vị
theirs: phía bạn | bên bạn | của bạn | lực lượng bạn | bạn | nước bạn | bản bạn | đơn vị bạn | dân bản bạn | \
    their side | partner side | the partner side | the partners | partners | counterparts
at: tại | ở | at | in | on
to: sang | qua bên | sang bên | across to
place=ours: đồn | trụ sở | trụ sở đồn | doanh trại | việt nam | phía ta | bên ta | nhà văn hóa | trường | \
    our post | the post | our side | vietnam | viet nam
place=partner: bản bạn | phía bạn | bên bạn | nước bạn | đất bạn | đơn vị bạn | partner side | the partner's | \
    their side | their village
place=border: khu vực mốc | khu vực cửa khẩu | khu vực đường biên | cột mốc | mốc | vạch phân quản | đường biên | \
    đường biên giới | cửa khẩu | lối mở | khu vực biên giới | khu vực cột mốc | the border | border | marker | \
    border marker | border gate | border line
venue=both: ở cả hai bên | tại cả hai bên | on both sides
venue=partner: across the border | trên đất bạn
country=LA: lào | nước lào | laos | lao pdr | laotian | bạn lào
country=CN: trung quốc | tq | china | chinese
country=KH: campuchia | cam pu chia | cpc | cambodia | cambodian | khmer
worth: trị giá | giá trị | tổng trị giá | tổng giá trị | có giá trị | kinh phí | số tiền | tổng kinh phí | worth | \
    valued at | value of | a value of | total value | with a value of
each_one: mỗi | mỗi suất | mỗi phần | mỗi suất quà | mỗi phần quà | mỗi hộ | mỗi người | each | per | apiece
give_to: cho | tới | đến | to | for
purpose=value_medicines: thuốc | thuốc men | thuốc chữa bệnh | medicine | medicines | drugs | medical supplies
purpose=value_cash: tiền mặt | tiền | cash | học bổng | scholarship | scholarships
purpose=value_works: công trình | nhà | nhà ở | nhà văn hóa | nhà đại đoàn kết | xây | xây dựng | sửa chữa | \
    làm đường | đường điện | works | house | houses | building | classroom | road
purpose=value_gifts: quà | suất quà | phần quà | hàng | hàng hóa | gạo | nhu yếu phẩm | trang thiết bị | \
    thiết bị | gifts | gift | packages | goods | equipment
participate: tham gia | tham dự | dự | took part | participated | attended | participants | taking part
filler: có | gồm | gồm có | với | cùng | cùng với | phối hợp với | of | tổng | tổng cộng | tổng số | total | \
    in total | with | about
approx: hơn | trên | gần | khoảng | ước | ước tính | tầm | độ | cỡ | chừng | xấp xỉ | ngót | dưới | about | over | \
    nearly | approximately | approx | around | almost | roughly | more than | at least
ident: mốc | cột mốc | mốc số | mốc giới | mốc quốc giới | cọc | cọc dấu | đại đội | đđ | c | d | e | f | \
    tiểu đoàn | trung đội | trung đoàn | sư đoàn | đội | chi đội | đồn | trạm | số | thôn | bản | tổ | khóm | ấp | \
    xóm | khu | khu phố | phường | chỉ thị | quyết định | qđ | nghị định | nđ | nghị quyết | nq | thông tư | \
    công văn | cv | kế hoạch | kh | hướng dẫn | hd | quốc lộ | ql | tỉnh lộ | tl | đường | km | lý trình | lần | \
    lần thứ | đợt | khóa | năm | quý | tháng | tuần | ngày | mùng | mồng | phòng | lô | nhà | điện thoại | đt | \
    sđt | số điện thoại | hotline | zalo | marker | markers | company | post | no | number | platoon | battalion | \
    route | road | year | thứ | kỷ niệm | x | lớp | khối | tờ | trang | điều | khoản | mục | phụ lục | cấp | \
    hạng | bậc | size | top | tập | đại đội biên phòng | đại đội bp | bảo vệ biên giới | bvbg | bp | \
    trạm biên phòng
block: tăng cường | tăng thêm | tăng trưởng | tham gia | tham dự | tham quan | tham mưu | tham khảo | tham luận | \
    tham vấn | trao đổi | đoàn kết | đoàn viên | đoàn thanh niên | công đoàn | chi đoàn | đoàn thể | khám xét | \
    khám phá | đơn vị kết nghĩa | theo kế hoạch | thực hiện kế hoạch | kế hoạch số | sắp xếp | lần thứ hai | \
    lần thứ ba | lần thứ tư | lần thứ năm | nhà văn hóa | thôn bản | hỗ trợ nhau | sẽ được | đồng chí | đồng bào | \
    qua đó | thông qua | đi qua | vượt qua | bỏ qua
"""

# Counts: the unit word after a number says what was counted.
_UNITS = """
people: người | người dân | nhân dân | lượt | lượt người | bà con | đại biểu | khách | thành viên | ng | \
    học sinh | em | cháu | em học sinh | people | persons | person | villagers | residents | guests | members | \
    delegates | participants | pupils | students | children
ours: đ / c | cán bộ | chiến sĩ | cán bộ chiến sĩ | cán bộ , chiến sĩ | cbcs | cb , cs | đồng chí | đoàn viên | \
    thanh niên | officers | soldiers | border guards | guards | staff
theirs: counterparts
patients: bệnh nhân | ca | lượt khám | người bệnh | patients
households: hộ | hộ dân | hộ gia đình | gia đình | households | household | families
packages: suất quà | phần quà | suất | phần | gói quà | túi quà | gift packages | packages | parcels | gifts | \
    gift bags | gift parcels
scholarships: suất học bổng | học bổng | scholarships
delegations: đoàn | đoàn công tác | delegations | delegation
markers: mốc | cột mốc | mốc giới | mốc quốc giới | markers | border markers | marker
km: km | ki lô mét | kilômét | kilomet | cây số | kilometres | kilometers | kilometre | kilometer
sessions: buổi | buổi tuyên truyền | sessions | session
goods: tấn | kg | tạ | yến | thùng | bao | hộp | cái | chiếc | bộ | con | túi | gói | lít | chai | cặp | \
    khẩu trang | chăn | quyển | cuốn | bình | tấm | tonnes | tons | tonne | boxes | bags | sets | items | pieces
"""

_SCALES = frozenset({"k", "nghin", "ngan", "tr", "trieu", "cu", "ty", "ti", "thousand", "million", "millions",
                     "billion", "billions", "trd", "trdong", "kd", "tyd", "tid", "nghind"})
_CURRENCY_WORDS = frozenset({"d", "dong", "vnd", "te", "ndt", "rmb", "cny", "yuan", "kip", "lak", "riel", "rien",
                             "khr", "usd", "dollar", "dollars", "baht", "bat", "euro", "eur"})
_CURRENCY_SIGNS = frozenset({"$", "₫", "¥", "€"})
# Numbers in words, folded, with the spellings they have when typed with accents ("bà" is no "ba", "nam" no "năm").
_NUMBER_WORDS = {"mot": ("một", "mốt"), "hai": ("hai",), "ba": ("ba",), "bon": ("bốn",), "nam": ("năm",),
                 "sau": ("sáu",), "bay": ("bảy", "bẩy"), "tam": ("tám",), "chin": ("chín",), "muoi": ("mười", "mươi"),
                 "tram": ("trăm",), "lam": ("lăm",), "tu": ("tư",), "linh": ("linh",), "le": ("lẻ",),
                 "ruoi": ("rưỡi", "rưởi"), "nua": ("nửa",), "chuc": ("chục",)}


def _number_word(tok: _Tok) -> bool:
    spellings = _NUMBER_WORDS.get(tok.key) if tok.kind == "word" else None
    return spellings is not None and (not tok.marks or tok.raw in spellings)
_RECIPIENTS = frozenset({"ba", "nhan", "nguoi", "ho", "gia", "hoc", "tre", "can", "cac", "dan", "em", "chau", "ban",
                         "thon", "xa", "don", "dai", "tram", "cum", "villagers", "families", "the", "pupils",
                         "students", "children", "people", "residents"})
_MONEY_WORDS = _SCALES | _CURRENCY_WORDS | _CURRENCY_SIGNS | {"tien", "mat", "cash", "in", "dong"}
_OPENING = {"(": ")", '"': '"', "“": "”", "«": "»"}
_VAGUE = frozenset({"vai", "may", "dam", "nhieu", "several", "few"})
_STOPS = frozenset({",", ";", ".", "(", ")", "!", "?", ":", "\n", "-", "–", "—"})
_SENTENCE = frozenset({";", ".", "!", "?"})
_FOREIGN = {"lao": "theirs", "laotian": "theirs", "chinese": "theirs", "cambodian": "theirs", "khmer": "theirs",
            "vietnamese": "ours"}


_Word = tuple[str, str]  # folded key, accents


def _phrase(text: str) -> tuple[_Word, ...]:
    raw, key = _align(unicodedata.normalize("NFC", text.strip()))
    return tuple((m.group(), _marks(raw[m.start():m.end()])) for m in _TOKEN.finditer(key))


_Table = dict[str, list[tuple[tuple[_Word, ...], tuple[str, ...]]]]


def _table(spec: str) -> _Table:
    table: _Table = {}
    for line in spec.replace("\\\n", " ").strip().splitlines():
        tags, _, phrases = line.partition(":")
        for text in phrases.split("|"):
            words = _phrase(text)
            if not words:
                continue
            entries = table.setdefault(words[0][0], [])
            same = next((n for n, (w, _) in enumerate(entries) if w == words), None)
            if same is None:
                entries.append((words, tuple(tags.split())))
            else:  # one phrase, several meanings: "bản bạn" is a place and a side
                entries[same] = (words, entries[same][1] + tuple(tags.split()))
    for entries in table.values():
        entries.sort(key=lambda entry: -len(entry[0]))
    return table


_WORDS = _table(_VOCABULARY)
_UNIT_TABLE = _table(_UNITS)


def _fits(tok: _Tok, word: _Word) -> bool:
    return tok.key == word[0] and (not tok.marks or tok.marks == word[1])


def _match(toks: Sequence[_Tok], i: int, table: _Table) -> tuple[int, tuple[str, ...]] | None:
    """(end, tags) of the longest phrase of ``table`` at ``i``."""
    if i >= len(toks):
        return None
    for words, tags in table.get(toks[i].key, ()):
        end = i + len(words)
        if end <= len(toks) and all(_fits(toks[i + k], w) for k, w in enumerate(words)):
            return end, tags
    return None


@dataclass(frozen=True, slots=True)
class _Hit:
    """A phrase of the vocabulary found at tokens [start, end): its tags ("kind=donation", "give")."""

    start: int
    end: int
    tags: tuple[str, ...]
    values: dict[str, str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", dict(tag.partition("=")[::2] for tag in self.tags))

    def has(self, name: str) -> bool:
        return name in self.values

    def value(self, name: str) -> str | None:
        return self.values.get(name) or None


# --- numbers that are not figures ---------------------------------------------------------------------

_MONTHS = {"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
           "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
           "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM_EDGE = r"(?<![0-9.,/:])"
_DATE_RANGE = re.compile(
    _NUM_EDGE + r"(?:ngay\s+|tu\s+ngay\s+|tu\s+)?(\d{1,2})\s*(?:-|–|den|toi|va|and|to)\s*(?:ngay\s*)?(\d{1,2})\s*"
    r"([/.-])\s*(\d{1,2})(?:\s*\3\s*(\d{4}|\d{2}))?(?![0-9])")
_DATE_NUMERIC = re.compile(_NUM_EDGE + r"(\d{1,2})\s*([/.-])\s*(\d{1,2})(?:\s*\2\s*(\d{4}|\d{2}))?(?![0-9]|[.,][0-9])")
_DATE_WORDS = re.compile(_NUM_EDGE + r"(?:ngay\s+)?(\d{1,2})\s+thang\s+(\d{1,2})(?:\s*(?:nam|,)?\s*(\d{4}))?(?![0-9])")
_DATE_EN_DM = re.compile(r"(?<![0-9])(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + _MONTH_NAMES
                         + r")\b\.?(?:,?\s*(\d{4}))?")
_DATE_EN_MD = re.compile(r"\b(" + _MONTH_NAMES + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(\d{4}))?")
_DAY_ONLY = re.compile(r"\b(?:ngay|on the)\s+(\d{1,2})(?:st|nd|rd|th)?(?![0-9]|\s*[/.-]\s*[0-9]|\s+thang)")
_LUNAR = re.compile(r"\b(?:mung|mong)\s+\d{1,2}\b")
_MONTH_ONLY = re.compile(r"\bthang\s+(\d{1,2})(?:\s*[/.-]\s*(\d{4}))?(?![0-9])")
_YEAR_ONLY = re.compile(r"\b(?:nam|in)\s+(?:19|20)\d{2}\b")
_YEAR = re.compile(r"(?<![0-9.,/])(?:19|20)\d{2}(?![0-9.,/])")
_TIME = re.compile(r"(?<![0-9.,])\d{1,2}\s*(?:h|g|gio)(?:\s*\d{1,2})?(?:\s*(?:phut|p))?\b|(?<![0-9])\d{1,2}:\d{2}\b|"
                   r"\b\d{1,2}\s*(?:am|pm)\b")
_PHONE = re.compile(r"(?<![0-9])(?:\+?84|0)\d{2}(?:[\s.-]?\d){6,8}(?![0-9])")
_DOC = re.compile(_NUM_EDGE + r"\d+(?:\s*/\s*\d+)*\s*[/-]\s*(?!(?:suat|nguoi|ngay|ho|thang|nam|luot|phan|kg|tan|"
                  r"chiec|cai|em|goi|thung|bao|km|lan|buoi|doan|moc)\b)[a-z]{2,}[a-z0-9/-]*")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*(?:%|phan tram|percent)")
_RATIO = re.compile(_NUM_EDGE + r"\d+\s*/\s*\d+")


@dataclass(frozen=True)
class _DateMention:
    days: tuple[dt.date | None, ...]  # one, or a range; None: not a date in the calendar
    text: str
    start: int
    year_given: bool = False


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    return 2000 + int(text) if len(text) == 2 else int(text)


def _in_past(day: dt.date | None, year_given: bool, today: dt.date, max_age: int) -> dt.date | None:
    """A day and month without a year: this year's, or last year's when this year's is still to come and last
    year's recent enough to be reported (as ``parsing.parse_date`` reads them)."""
    if day is None or year_given or day <= today:
        return day
    last = _day(day.year - 1, day.month, day.day)
    return last if last is not None and (today - last).days <= max_age else day


class _Masks:
    """Where the numbers that are not figures are, and the dates the message gives."""

    def __init__(self, text: str, key: str, toks: list[_Tok], today: dt.date, max_age: int) -> None:
        self.dates: list[_DateMention] = []
        self.lunar = False
        self.month_only: str | None = None
        taken: list[tuple[int, int, str]] = []

        def free(start: int, end: int) -> bool:
            return all(end <= s or start >= e for s, e, _ in taken)

        def take(m: re.Match[str], role: str) -> None:
            taken.append((m.start(), m.end(), role))

        def next_word(end: int) -> str:
            m = re.match(r"\s*([a-z]+)", key[end:])
            return m.group(1) if m else ""

        for m in _DATE_RANGE.finditer(key):
            y = _year(m.group(5))
            year = y or today.year
            month = int(m.group(4))
            first, last = _day(year, month, int(m.group(1))), _day(year, month, int(m.group(2)))
            if first is None or last is None or first >= last:
                continue
            if m.group(3) == "." and next_word(m.end()) in _UNIT_KEYS:
                continue
            self.dates.append(_DateMention((_in_past(first, y is not None, today, max_age),
                                            _in_past(last, y is not None, today, max_age)),
                                           text[m.start():m.end()].strip(), m.start(), y is not None))
            take(m, "date")
        for pattern in (_DATE_WORDS, _DATE_NUMERIC):
            for m in pattern.finditer(key):
                if not free(m.start(), m.end()):
                    continue
                if pattern is _DATE_NUMERIC:
                    d, sep, mo, y_text = int(m.group(1)), m.group(2), int(m.group(3)), m.group(4)
                    after = next_word(m.end())
                    dated = re.search(r"(ngay|sang|chieu|toi|trua|hom|on)\s*$", key[:m.start()])
                    if sep in ".," and (after in _UNIT_KEYS or (y_text is None and not dated
                                                               and after in _SCALES | _CURRENCY_WORDS)):
                        continue  # "2.5 km", "1.5 tr": a decimal, not a day
                    if sep == "-" and not 1 <= mo <= 12:
                        continue
                else:
                    d, mo, y_text = int(m.group(1)), int(m.group(2)), m.group(3)
                if not (1 <= d <= 31 and 1 <= mo <= 12):
                    continue
                y = _year(y_text)
                day = _in_past(_day(y or today.year, mo, d), y is not None, today, max_age)
                self.dates.append(_DateMention((day,), text[m.start():m.end()].strip(), m.start(), y is not None))
                take(m, "date")
        for pattern, order in ((_DATE_EN_DM, "dm"), (_DATE_EN_MD, "md")):
            for m in pattern.finditer(key):
                if not free(m.start(), m.end()):
                    continue
                d_text, month_text = (m.group(1), m.group(2)) if order == "dm" else (m.group(2), m.group(1))
                y = _year(m.group(3))
                day = _in_past(_day(y or today.year, _MONTHS[month_text], int(d_text)), y is not None, today,
                               max_age)
                self.dates.append(_DateMention((day,), text[m.start():m.end()].strip(), m.start(), y is not None))
                take(m, "date")
        for m in _DAY_ONLY.finditer(key):
            if not free(m.start(), m.end()):
                continue
            d = int(m.group(1))
            if not 1 <= d <= 31:
                continue
            day = _day(today.year, today.month, d) if d <= today.day else None
            if day is None:
                previous = today.replace(day=1) - dt.timedelta(days=1)
                day = _day(previous.year, previous.month, d)
            self.dates.append(_DateMention((day,), text[m.start():m.end()].strip(), m.start()))
            take(m, "date")
        for m in _LUNAR.finditer(key):
            if free(m.start(), m.end()):
                self.lunar = True
                take(m, "date")
        for m in _YEAR_ONLY.finditer(key):
            if free(m.start(), m.end()):
                self.month_only = self.month_only or text[m.start():m.end()].strip()
        for m in _MONTH_ONLY.finditer(key):
            if free(m.start(), m.end()):
                self.month_only = text[m.start():m.end()].strip()
                take(m, "date")
        for pattern, role in ((_PHONE, "phone"), (_TIME, "time"), (_DOC, "doc"), (_PERCENT, "percent"),
                              (_RATIO, "ratio")):
            for m in pattern.finditer(key):
                if free(m.start(), m.end()):
                    take(m, role)
        for start, end, role in taken:
            for tok in toks:
                if tok.kind == "num" and tok.start < end and tok.end > start:
                    tok.role = role
        for tok in toks:
            if tok.kind == "num" and not tok.role and _YEAR.fullmatch(tok.key):
                tok.role = "year"  # unless a unit follows: decided with the units
        self.taken = taken


_UNIT_KEYS = frozenset(key for key in _UNIT_TABLE) | frozenset({"km"})


# --- partners -----------------------------------------------------------------------------------------

# Words that say what a partner is rather than which: "Trạm Công an La Cồ" is found as "La Cồ".
_GENERIC = _table("""
g: bản | cụm bản | cụm | thôn | tổ | xã | trấn | hương | phum | ấp | khóm | khum | huyện | mường | tỉnh | \
    trạm | phân trạm | công an | ca | đại đội | đđ | c | d | biên phòng | bp | bảo vệ biên giới | bvbg | ksbp | \
    ktbp | xnc | qlbg | đồn | cs | csbvbg | cảnh sát | cảnh sát bảo vệ biên giới | tiểu đoàn | trung đội | số | \
    tt | tp | khu | hội ngộ | hội đàm | khu vực | bchqs | bộ chỉ huy quân sự | chi đội | cửa khẩu | ck | ckqt | \
    quản lý biên giới | kiểm soát | kiểm tra | xuất nhập cảnh | đặc khu | thị trấn | thành phố | thị | các | \
    company | post | station | village | commune | district | province | the | kiểm soát biên phòng | \
    kiểm tra biên phòng | bảo vệ | biên giới | ty | thị xã | quận | nhân dân | bà con | dân
""")


def _sound(word: str) -> str:
    """One spelling for the ways Lao and Khmer names are written in Vietnamese: Xê Kông and Sê Kông,
    Phông Sa Lỳ and Phongsali."""
    if word.startswith("x"):
        word = "s" + word[1:]
    return word.replace("y", "i")


def _strip_generic(words: list[_Tok]) -> list[_Tok]:
    i = 0
    while i < len(words):
        hit = _match(words, i, _GENERIC)
        if hit is None:
            break
        i = hit[0]
    return words[i:]


@dataclass(frozen=True)
class _Name:
    joined: str  # sounds without spaces
    length: int  # words
    primary: bool  # the partner's own name, not its district or province
    needs_prefix: bool  # one word or a number: only after "bản", "đại đội"…


@cache
def _names_of(name: str) -> tuple[_Name, ...]:
    """What to look for of a partner's name: "Bản Densavan (Đen Sạ Vẳn), huyện Sê Pôn" is found as "Densavan" or
    "Đen Sạ Vẳn" (its own name) or, less surely, as "Sê Pôn" (where it is)."""
    raw, key = _align(unicodedata.normalize("NFC", name))
    names: list[_Name] = []
    offset = 0
    for index, part in enumerate(re.split(r"[,;]", key)):
        for piece in re.split(r"[()]", part):
            toks = [t for t in _tokens(raw[offset:offset + len(piece)], piece) if t.kind != "sym"]
            offset += len(piece) + 1
            core = _strip_generic(toks) or toks
            if core:
                names.append(_Name("".join(_sound(t.key) for t in core), len(core), index == 0,
                                   len(core) == 1 or all(t.kind == "num" for t in core)))
    return tuple(names)


_PARTNER_PROVINCE_NAMES: list[tuple[str, int, str, str]] = []
for _ref in PARTNER_PROVINCES:
    for _label in dict.fromkeys((_ref.name, _ref.english, *_ref.aliases)):
        _words = [t for t in _tokens(*_align(_label)) if t.kind != "sym"]
        _PARTNER_PROVINCE_NAMES.append(("".join(_sound(t.key) for t in _words), len(_words), _ref.name, _ref.country))


def _find(sounds: Sequence[str | None], starts: Mapping[str, list[int]], joined: str,
          words: int) -> Iterable[tuple[int, int]]:
    """Where the words of a message spell ``joined`` (spaces, apostrophes, hyphens and Lao spellings aside):
    (start, end) pairs. ``sounds`` are the message's tokens as ``_sound`` spells them (None for a sign, "" for a
    sign that joins the parts of a name), ``starts`` where each first letter begins a word."""
    n = len(sounds)
    for i in starts.get(joined[:1], ()):
        first = sounds[i]
        if not first or not joined.startswith(first):
            continue
        acc = ""
        for j in range(i, min(n, i + 2 * max(words, 1) + 4)):
            sound = sounds[j]
            if sound is None:
                break
            acc += sound
            if acc == joined:
                yield i, j + 1
                break
            if not joined.startswith(acc):
                break


_JOINERS = frozenset({"'", "’", "`", "-", "‐"})


# What names a partner unit or place when it is not one of the unit's pairs: "bản Na Xổm", "Đại đội 417".
_PARTNER_PREFIXES = _table("""
g: bản | cụm bản | thôn | tổ | trấn | hương | phum | ấp | khum | đại đội | phân trạm | trạm | đồn cảnh sát | \
    đồn ca | đồn csbvbg | tiểu đoàn | chi đội | company | village | station | cụm bản
""")


# --- the reader ----------------------------------------------------------------------------------------


@dataclass
class _Figure:
    measure: str
    value: Any  # draft value
    approx: bool
    start: int  # token index
    text: str
    question: Question | None = None  # read, but to be asked about


class _Reader:
    def __init__(self, text: str, today: dt.date, pairs: Sequence[PairRef], max_age: int) -> None:
        self.text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))[:_MAX_LENGTH]
        self.today = today
        self.pairs = pairs
        self.max_age = max_age
        self.raw, self.key = _align(self.text)
        self.toks = _tokens(self.raw, self.key)
        self.masks = _Masks(self.text, self.key, self.toks, today, max_age)
        words = [t for t in self.toks if t.kind == "word"]
        self.shouting = sum(self.text[t.start].isupper() for t in words) * 2 > len(words)
        self.sounds: list[str | None] = [
            _sound(t.key) if t.kind != "sym" else ("" if t.key in _JOINERS else None) for t in self.toks]
        self.starts: dict[str, list[int]] = {}
        for i, sound in enumerate(self.sounds):
            if sound:
                self.starts.setdefault(sound[0], []).append(i)
        self.sentences = self._sentences()
        self.hits = self._hits()
        self.hit_at: dict[int, _Hit] = {}
        for hit in self.hits:
            for i in range(hit.start, hit.end):
                self.hit_at[i] = hit
        self.promote()
        self.questions: list[Question] = []
        self.values: dict[str, Any] = {}
        self.partner_spans: list[tuple[int, int, PairRef | None]] = []  # where partners and their provinces are
        self.country: str | None = None
        self.province: str | None = None

    # -- helpers --

    def _hits(self) -> list[_Hit]:
        hits = []
        i = 0
        while i < len(self.toks):
            if self.toks[i].kind == "num" and self.toks[i].role:
                i += 1
                continue
            found = _match(self.toks, i, _WORDS)
            if found is None:
                i += 1
                continue
            end, tags = found
            if self.in_name(i) and any(tag.startswith(("kind", "give")) for tag in tags):
                i += 1  # "Ka Tang" is a village, not a gift ("tặng")
                continue
            hits.append(_Hit(i, end, tags))
            i = end
        return hits

    def in_name(self, i: int) -> bool:
        """Token ``i`` continues a capitalised name (in a message not typed in capitals throughout)."""
        if i == 0 or self.shouting or self.toks[i - 1].kind != "word":
            return False
        return all(self.text[t.start].isupper() for t in (self.toks[i - 1], self.toks[i]))

    def promote(self) -> None:
        """"Trao 2tr5", "hỗ trợ 200 suất", "hỗ trợ bà con 2 tấn gạo": a verb of giving followed, in its clause, by
        what was given (an amount, packages, goods) is a donation."""
        for n, hit in enumerate(self.hits):
            if not hit.has("give") or hit.has("kind"):
                continue
            for j in range(hit.end, min(len(self.toks), hit.end + 8)):
                tok = self.toks[j]
                other = self.hit_at.get(j)
                if (tok.kind == "sym" and tok.key in _STOPS) or (other is not None and other.has("kind")):
                    break
                if not ((tok.kind == "num" and not tok.role) or (_number_word(tok) and j not in self.hit_at)):
                    continue
                unit = self.unit_after(j + 1)
                if j == hit.end or self.money_span(j) is not None or (
                        unit is not None and unit[0] in ("goods", "packages", "scholarships")):
                    promoted = _Hit(hit.start, hit.end, (*hit.tags, "kind=donation"))
                    self.hits[n] = promoted
                    for i in range(hit.start, hit.end):
                        self.hit_at[i] = promoted
                break

    def tagged(self, name: str) -> list[_Hit]:
        return [hit for hit in self.hits if hit.has(name)]

    def hit_ending(self, end: int, skip: tuple[str, ...] = ("filler",)) -> _Hit | None:
        """The hit that ends right before token ``end``, across fillers ("có", "gồm", ":")."""
        i = end - 1
        while i >= 0:
            tok = self.toks[i]
            hit = self.hit_at.get(i)
            if hit is not None and any(hit.has(s) for s in skip):
                i = hit.start - 1
                continue
            if tok.kind == "sym" and tok.key == ":":
                i -= 1
                continue
            return hit if hit is not None and hit.end == i + 1 else None
        return None

    def sentence_start(self, i: int) -> int:
        """The first token of the sentence (or line) token ``i`` is in."""
        return self.sentences[min(i, len(self.sentences) - 1)] if self.sentences else 0

    def _sentences(self) -> list[int]:
        starts = []
        start = 0
        for i, tok in enumerate(self.toks):
            if i > 0 and ((self.toks[i - 1].kind == "sym" and self.toks[i - 1].key in _SENTENCE)
                          or "\n" in self.text[self.toks[i - 1].end:tok.start]):
                start = i
            starts.append(start)
        return starts

    def span(self, start: int, end: int) -> str:
        return self.text[self.toks[start].start:self.toks[end - 1].end]

    def kind_before(self, i: int) -> str | None:
        """The activity the words before token ``i`` (in its sentence) are about."""
        start = self.sentence_start(i)
        for hit in reversed(self.hits):
            if hit.end <= i and hit.start >= start and hit.has("kind"):
                return hit.value("kind")
        return None

    # -- figures --

    def number_at(self, i: int) -> tuple[int, int] | None:
        """(start, end) of the number at token ``i``: digits, or a number in words."""
        tok = self.toks[i]
        if tok.kind == "num":
            return (i, i + 1) if not tok.role or tok.role == "year" else None
        if not _number_word(tok) or i in self.hit_at:
            return None
        j = i
        while j < len(self.toks) and _number_word(self.toks[j]) and j not in self.hit_at:
            j += 1
        return i, j

    def ident_before(self, i: int) -> bool:
        """The number at ``i`` names something: "mốc 102", "Đại đội 163", "đồn số 5", "#12"."""
        if i == 0:
            return False
        prev = self.toks[i - 1]
        if prev.kind == "sym":
            return prev.key in ("#", "/", "+")
        j = i - 1
        if prev.kind == "word" and prev.key in ("so", "no", "number") and i >= 2:
            j = i - 2
        for start in range(max(0, j - 3), j + 1):
            found = _match(self.toks, start, _WORDS)
            if found and found[0] == j + 1 and "ident" in found[1]:
                return True
        hit = self.hit_at.get(j)
        return hit is not None and hit.end == j + 1 and hit.has("ident")

    def unit_after(self, end: int) -> tuple[str, int, str | None] | None:
        """(unit class, end, side named between) of the unit word after a number: "150 người dân",
        "30 Lao counterparts"."""
        side = None
        j = end
        of = [t.key for t in self.toks[j:j + 2]]
        if of in (["of", "our"], ["of", "their"], ["of", "the"]):  # "30 of our officers"
            side = {"our": "ours", "their": "theirs", "the": None}[of[1]]
            j += 2
        if j < len(self.toks) and self.toks[j].kind == "word" and self.toks[j].key in _FOREIGN:
            side = _FOREIGN[self.toks[j].key]
            j += 1
        found = _match(self.toks, j, _UNIT_TABLE)
        if found is None:
            return None
        stop, tags = found
        return tags[0], stop, side

    def approx_before(self, start: int) -> int:
        """Where an approximate word before the number begins ("hơn 150", "khoảng 2 tỷ"), else ``start``."""
        i = start - 1
        if i >= 0 and self.toks[i].kind == "sym" and self.toks[i].key in ("~", "≈"):
            return i
        hit = self.hit_at.get(i)
        if hit is not None and hit.end == start and hit.has("approx"):
            return hit.start
        return start

    def money_span(self, start: int) -> int | None:
        """The end of the amount that begins at ``start`` ("500tr", "1,5 tỷ đồng", "2tr5", "5.000 tệ"), or None
        when no scale word or currency goes with the number there."""
        toks = self.toks
        j = start
        scaled = named = False
        last = ""
        while j < len(toks):
            tok = toks[j]
            if tok.kind == "num" and not tok.role:
                if last == "num":
                    break
                last = "num"
            elif tok.kind == "num" and tok.role == "year" and last in ("", "scale"):
                last = "num"
            elif tok.kind == "word" and tok.key in _SCALES and last in ("num", "words"):
                scaled, last = True, "scale"
                if tok.key.endswith("d") and tok.key not in ("d",):
                    named = True
            elif tok.kind == "word" and tok.key in _CURRENCY_WORDS and last in ("num", "scale", "words") and \
                    self.is_currency(j):
                named, last = True, "cur"
            elif tok.kind == "word" and tok.key == "do" and tok.raw in ("đô", "do") and last in ("num", "scale") and (
                    tok.raw == "đô" or (j + 1 < len(toks) and toks[j + 1].key in ("la", "my"))):
                named, last = True, "cur"
                if j + 1 < len(toks) and toks[j + 1].key == "la":
                    j += 1
                    if j + 1 < len(toks) and toks[j + 1].key == "my":
                        j += 1
            elif tok.kind == "sym" and tok.key in _CURRENCY_SIGNS and last in ("num", "scale"):
                named, last = True, "cur"
            elif tok.kind == "word" and tok.key in _VAGUE and last == "" and j + 1 < len(toks) and \
                    toks[j + 1].key in _SCALES:
                last = "words"
            elif _number_word(tok) and last in ("scale", "words", "") and (
                    last != "" or (j + 1 < len(toks) and (toks[j + 1].key in _SCALES or _number_word(toks[j + 1])))):
                last = "words"
            elif tok.kind == "sym" and tok.key == "." and last == "scale" and j + 1 < len(toks) and \
                    toks[j + 1].key in ("d", "dong") and toks[j + 1].start == tok.end:
                pass
            else:
                break
            j += 1
        if j == start or not (scaled or named):
            return None
        return j

    def is_currency(self, j: int) -> bool:
        """The word at ``j``, after a number, names a currency: not "đồng chí" (comrades), "đ/c", "tế"."""
        toks = self.toks
        tok = toks[j]
        nxt = toks[j + 1].key if j + 1 < len(toks) else ""
        if tok.key == "dong":
            return nxt not in ("chi", "bao")
        if tok.key == "te":
            return not tok.marks or tok.raw == "tệ"
        if tok.key == "d":
            return (not tok.marks or tok.raw == "đ") and not (nxt == "/" and j + 2 < len(toks)
                                                               and toks[j + 2].key == "c")
        return True

    def figures(self) -> list[_Figure]:
        found: list[_Figure] = []
        toks = self.toks
        i = 0
        while i < len(toks):
            tok = toks[i]
            # A currency sign or code before the number: "$200", "USD 200", "VND 40 million".
            if (tok.kind == "sym" and tok.key in ("$", "₫", "¥")) or (
                    tok.kind == "word" and tok.key in ("usd", "vnd", "cny", "rmb", "lak", "khr") and i + 1 < len(toks)
                    and toks[i + 1].kind == "num"):
                if i + 1 < len(toks) and toks[i + 1].kind == "num" and not toks[i + 1].role:
                    end = self.money_span(i + 1) or i + 2
                    found.append(self.money(i, end, i))
                    i = end
                    continue
            if tok.kind == "word" and tok.key in _VAGUE and i + 1 < len(toks) and toks[i + 1].key in _SCALES:
                end = self.money_span(i) or i + 2
                found.append(self.money(i, end, i))  # "vài triệu": a figure, please
                i = end
                continue
            number = self.number_at(i)
            if number is None or self.ident_before(i):
                i = number[1] if number else i + 1
                continue
            start, end = number
            if tok.kind == "word" and start == end - 1 and tok.key in ("mot", "nam", "ba", "tu", "le", "nua"):
                # "một", "năm" (year), "ba" (father), "tư", "lẻ" alone are more often words than numbers.
                unit = self.unit_after(end)
                if tok.key != "mot" or unit is None or unit[0] != "delegations":
                    if not (unit and tok.key == "ba" and unit[0] != "goods"):
                        money_end = self.money_span(start) if tok.key == "nua" else None
                        if money_end is None:
                            i = end
                            continue
            money_end = self.money_span(start)
            if money_end is not None:
                found.append(self.money(self.approx_before(start), money_end, start))
                i = money_end
                continue
            unit = self.unit_after(end)
            if tok.kind == "num" and tok.role == "year" and unit is None:
                i = end
                continue
            worth = self.hit_ending(start, skip=("filler", "approx"))
            if unit is None and worth is not None and worth.has("worth") and tok.kind == "num":
                found.append(self.money(self.approx_before(start), end, start))
                i = end
                continue
            if unit is not None:
                figure = self.count(start, end, unit)
                if figure is not None:
                    found.append(figure)
                i = unit[1]
                continue
            cue = self.hit_ending(self.approx_before(start))
            just_before = self.hit_ending(start, skip=())
            if just_before is not None and just_before.has("filler") and tok.kind == "num" and \
                    self.in_delegation(start):
                number_read = self.read_number(start, end)  # "a delegation of 12", "đoàn gồm 12"
                if number_read is not None:
                    found.append(_Figure("delegation_people", number_read[0], number_read[1], start,
                                         self.span(start, end)))
                i = end
                continue
            if cue is not None and any(cue.has(s) for s in ("each", "both", "ours", "theirs")) and tok.kind == "num":
                figure = self.people(start, end, cue)
                if figure is not None:
                    found.append(figure)
            i = end
        return found

    def read_number(self, start: int, end: int) -> tuple[int, bool] | None:
        text = self.span(self.approx_before(start), end)
        try:
            if self.toks[start].kind == "word":
                value = spoken_number(self.span(start, end))
                return (value, self.approx_before(start) != start) if value is not None else None
            reading = read_count(text)
        except Invalid:
            return None
        return reading.value, reading.approx

    def count(self, start: int, end: int, unit: tuple[str, int, str | None]) -> _Figure | None:
        kind, stop, side = unit
        if kind == "goods":
            return None
        if kind == "km":
            try:
                km, estimated = read_decimal(self.span(self.approx_before(start), end))
            except Invalid:
                return None
            return _Figure("km", str(km), estimated, start, self.span(start, stop))
        read = self.read_number(start, end)
        if read is None:
            return None
        value, approx = read
        text = self.span(start, stop)
        simple = {"households": "households", "packages": "gift_packages", "scholarships": "scholarships",
                  "delegations": "delegations", "markers": "markers", "sessions": "sessions", "patients": "patients"}
        if kind == "packages" and stop < len(self.toks) and self.toks[stop].key == "hoc":
            kind = "scholarships"
        if kind in simple:
            return _Figure(simple[kind], value, approx, start, text)
        # People: examined, in a delegation, given gifts, or taking part (on which side?).
        if self.in_delegation(self.approx_before(start)):
            return _Figure("delegation_people", value, approx, start, text)
        after = self.side_after(stop)
        before = self.hit_ending(self.approx_before(start))
        about = self.kind_before(start)
        participating = after == "participate" or (stop < len(self.toks) and self.participates(stop))
        if about == "medical" and kind in ("people",) and not participating and after not in ("ours", "each",
                                                                                                "both"):
            return _Figure("patients", value, approx, start, text)
        if before is not None and before.has("give_to") and about == "donation" and not participating:
            return None  # the people given gifts: part of "Received by"
        cue = side or (after if after in ("ours", "theirs", "each", "both") else None)
        if cue is None and before is not None:
            cue = next((s for s in ("each", "both", "ours", "theirs") if before.has(s)), None)
        if cue is None and kind == "ours":
            cue = "ours"
        if cue is None and kind == "theirs":
            cue = "theirs"
        return self.sided(value, approx, start, text, cue)

    def in_delegation(self, start: int) -> bool:
        """People counted as a delegation's: "đoàn gồm 12 người", "tiếp đoàn Trạm Hà Khẩu 10 người",
        "a delegation of 12"."""
        sentence = self.sentence_start(start)
        for hit in reversed(self.hits):
            if hit.end > start or hit.start < max(sentence, start - 10):
                continue
            if hit.has("subject"):
                return True
            if any(hit.has(name) for name in ("kind", "give_to", "participate", "ours", "theirs", "each", "both",
                                              "give")):
                return False
        return False

    def participates(self, stop: int) -> bool:
        hit = self.hit_at.get(stop)
        return hit is not None and hit.start == stop and hit.has("participate")

    def side_after(self, stop: int) -> str | None:
        """A side named just after a count ("25 người phía ta", "30 người dân bản bạn"), or "participate"."""
        j = stop
        limit = min(len(self.toks), stop + 6)
        participate = False
        while j < limit:
            tok = self.toks[j]
            if (tok.kind == "sym" and tok.key in _STOPS) or tok.kind == "num":
                break
            hit = self.hit_at.get(j)
            if hit is not None and hit.start == j:
                for name in ("each", "both", "ours", "theirs"):
                    if hit.has(name):
                        return name
                if hit.has("country"):
                    return "theirs"
                if hit.has("participate") and j == stop:
                    participate = True
                    j = hit.end
                    continue
                if hit.has("filler") and self.toks[j].key == "of":  # "200 villagers of La Co"
                    j = hit.end
                    continue
                if any(hit.has(name) for name in ("to", "at", "give_to", "kind", "give", "date", "filler")):
                    return None  # "30 người sang bản La Cồ", "12 đồng chí với lực lượng bạn": not whose they are
            if self.partner_at(j):
                return "theirs"
            j += 1
        return "participate" if participate else None

    def people(self, start: int, end: int, cue: _Hit) -> _Figure | None:
        read = self.read_number(start, end)
        if read is None:
            return None
        side = next(s for s in ("each", "both", "ours", "theirs") if cue.has(s))
        return self.sided(read[0], read[1], start, self.span(cue.start, end), side)

    def sided(self, value: int, approx: bool, start: int, text: str, side: str | None) -> _Figure:
        if side == "ours":
            return _Figure("participants_ours", value, approx, start, text)
        if side == "theirs":
            return _Figure("participants_partner", value, approx, start, text)
        if side == "each":
            return _Figure("participants", value, approx, start, text)
        if side == "both":
            return _Figure("participants_ours", None, approx, start, text, Question(
                "participants_ours", N_("{n} is both sides together. How many on this side alone?"), {"n": value}))
        return _Figure("participants_ours", None, approx, start, text, Question(
            "participants_ours", N_("Your message says {n} people took part. Were they all on our side?"),
            {"n": value}, (value,), approx))

    def money(self, start: int, end: int, number: int) -> _Figure:
        text = self.span(start, end)
        purpose = self.purpose(start, end)
        per_unit = self.per_unit(start, end)
        try:
            reading = read_money(text)
        except Invalid as exc:
            return _Figure(purpose or "value_gifts", None, False, number, text,
                           Question(purpose or "value_gifts", exc.msgid, dict(exc.values)))
        readings = tuple([{"amount": str(m.amount), "currency": m.currency} for m in option]
                         for option in reading.options)
        approx = any(m.approx for option in reading.options for m in option)
        key = purpose or ""
        if per_unit:
            return _Figure(key, None, approx, number, text, Question(key, "per_unit", {"each": reading}))
        if len(readings) > 1:
            return _Figure(key, None, approx, number, text, Question(
                key, N_("“{text}” can be read in more than one way. Which did you mean?"), {"text": text.strip()[:60]},
                readings, approx))
        if reading.confirm:
            return _Figure(key, None, approx, number, text, Question(key, reading.confirm, {}, readings, approx))
        if len(readings[0]) > 1:
            return _Figure(key, readings[0], approx, number, text, Question(
                key, N_("Your message gives this value in two currencies. Which should be recorded?"), {},
                _currency_choices(readings[0]), approx))
        return _Figure(key, readings[0], approx, number, text)

    def purpose(self, start: int, end: int) -> str | None:
        """What an amount is the value of: the nearest word before it that says so ("thuốc trị giá 20tr",
        "tiền mặt 5 triệu"), an amount given straight ("ủng hộ 10 triệu"), or the activity it follows."""
        sentence = self.sentence_start(start)
        previous = self.hit_ending(start, skip=("filler", "approx"))
        if previous is not None and previous.has("give"):
            return "value_cash"
        after = self.hit_at.get(end)
        if after is not None and after.start == end and after.value("purpose") == "value_cash":
            return "value_cash"
        for hit in reversed(self.hits):
            if hit.end > start or hit.start < sentence:
                continue
            purpose = hit.value("purpose")
            if purpose:
                return purpose
            kind = hit.value("kind")
            if kind == "donation":
                return "value_gifts"
            if kind == "medical":
                return "value_medicines"
            if kind is not None and kind != "other":
                break
        kinds = {hit.value("kind") for hit in self.tagged("kind")}
        if "donation" in kinds:
            return "value_gifts"
        if "medical" in kinds:
            return "value_medicines"
        return None

    def per_unit(self, start: int, end: int) -> bool:
        before = self.hit_ending(start, skip=("filler", "approx", "worth"))
        if before is not None and before.has("each_one"):
            return True
        if end < len(self.toks):
            nxt = self.toks[end]
            if nxt.kind == "sym" and nxt.key == "/" and end + 1 < len(self.toks):
                return True
            hit = self.hit_at.get(end)
            if hit is not None and hit.start == end and hit.has("each_one"):
                return True
        return False

    def partner_at(self, j: int) -> bool:
        return any(s <= j < e for s, e, _ in self.partner_spans)

    # -- the parts of the report --

    def read(self) -> MessageReading:
        partner = self.partner()
        figures = self.figures()
        values = self.values
        kinds = [hit for hit in self.tagged("kind")]
        main = self.main_kind(kinds)
        if main is not None:
            values["kind"] = main
        self.place_figures(figures)
        sets = self.sets(kinds, main)
        if sets:
            values["sets"] = sets
        self.date()
        if partner is not None:
            values.update(partner)
        self.venue()
        self.details(main, sets)
        self.gifts(main, sets)
        try:
            values["description"] = clean_text(self.text[:1000], limit=1000, multiline=True)
        except Invalid:
            pass
        report, reason = self.verdict(kinds, figures)
        return MessageReading(report, values, tuple(self.questions), self.country, self.province, reason)

    def main_kind(self, kinds: list[_Hit]) -> str | None:
        named = [hit.value("kind") for hit in kinds]
        return next((k for k in named if k != "other"), None) or (named[0] if named else None)

    def place_figures(self, figures: list[_Figure]) -> None:
        by_measure: dict[str, list[_Figure]] = {}
        for figure in figures:
            if figure.measure == "participants":  # each side
                for side in ("participants_ours", "participants_partner"):
                    by_measure.setdefault(side, []).append(_Figure(side, figure.value, figure.approx, figure.start,
                                                                   figure.text))
                continue
            if not figure.measure:
                continue
            by_measure.setdefault(figure.measure, []).append(figure)
        approx: set[str] = set()
        for measure, found in by_measure.items():
            asked = [f for f in found if f.question is not None]
            plain = [f for f in found if f.question is None]
            distinct = _distinct(f.value for f in plain)
            if asked:
                question = asked[0].question
                assert question is not None
                if question.why == "per_unit":
                    question = self.per_unit_question(measure, question)
                self.questions.append(question)
                if measure == "participants_ours" and question.readings:
                    self.questions.append(Question("participants_partner"))
                elif measure == "participants_ours":
                    self.questions.append(Question("participants_partner", question.why, question.values))
                continue
            if len(distinct) > 1 and MEASURES[measure].kind == MONEY and _currencies_differ(distinct):
                merged = [money for value in distinct for money in value]
                self.questions.append(Question(measure, N_("Your message gives this value in two currencies. "
                                                           "Which should be recorded?"), {},
                                               _currency_choices(merged), any(f.approx for f in plain)))
                continue
            if len(distinct) > 1:
                self.questions.append(Question(measure, N_("Your message gives two different figures for this. "
                                                           "Which is right?"), {}, tuple(distinct),
                                               any(f.approx for f in plain)))
                continue
            value = distinct[0]
            figure = plain[0]
            question = _out_of_range(measure, value, figure.approx)
            if question is not None:
                self.questions.append(question)
                continue
            self.values[measure] = value
            if figure.approx:
                approx.add(measure)
        asked_fields = {q.key for q in self.questions}
        for side in ("participants_ours", "participants_partner"):
            if side in asked_fields:
                self.values.pop(side, None)
        if approx:
            self.values["approx"] = sorted(approx - asked_fields)

    def per_unit_question(self, measure: str, question: Question) -> Question:
        reading = question.values["each"]
        packages = self.values.get("gift_packages")
        option = reading.options[0]
        if measure == "value_gifts" and isinstance(packages, int) and len(option) == 1 and len(reading.options) == 1:
            each = option[0]
            total = Money(each.amount * packages, each.currency, each.approx)
            return Question(measure, N_("{each} is the value of one package: {total} for {n} packages. "
                                        "Is that the value of them all?"),
                            {"each": each, "total": total, "n": packages},
                            ([{"amount": str(total.amount), "currency": total.currency}],), each.approx)
        return Question(measure, N_("{each} is the value of one package or one person. What was the value in all?"),
                        {"each": option[0]})

    def sets(self, kinds: list[_Hit], main: str | None) -> list[str]:
        wanted: list[str] = []
        for hit in kinds:
            kind = KINDS[str(hit.value("kind"))]
            wanted += kind.sets
        for key in [*self.values, *(q.key for q in self.questions)]:
            for name, figure_set in FIGURE_SETS.items():
                if key in figure_set.fields and key in MEASURES:
                    wanted.append(name)
        own = KINDS[main].sets if main else ()
        result: list[str] = []
        for name in wanted:
            if name not in own and name not in result:
                result.append(name)
        return result

    def date(self) -> None:
        today, max_age = self.today, self.max_age
        exact: list[tuple[dt.date, str]] = []
        problems: list[Question] = []
        ranges: list[tuple[dt.date, ...]] = []
        for hit in self.hits:
            if hit.has("date"):
                exact.append((today - dt.timedelta(days=int(hit.value("date") or 0)), self.span(hit.start, hit.end)))
            elif hit.has("weekday"):
                target = int(hit.value("weekday") or 0)
                after = self.hit_at.get(hit.end)
                this_monday = today - dt.timedelta(days=today.weekday())
                text = self.span(hit.start, hit.end)
                if after is not None and after.start == hit.end and after.has("lastweek"):
                    exact.append((this_monday - dt.timedelta(days=7 - target), text + " " + self.span(after.start,
                                                                                                       after.end)))
                    continue
                if after is not None and after.start == hit.end and after.has("thisweek"):
                    exact.append((this_monday + dt.timedelta(days=target), text))
                    continue
                back = (today.weekday() - target) % 7
                before = self.toks[hit.start - 1] if hit.start > 0 else None
                strictly = (before is not None and before.key == "last") or (
                    after is not None and after.start == hit.end and after.has("past"))  # "thứ hai vừa rồi"
                if back == 0 and strictly:
                    back = 7
                if back == 0:
                    problems.append(Question("date", N_("“{text}” can be read in more than one way. Which did you "
                                                        "mean?"), {"text": text},
                                             (today.isoformat(), (today - dt.timedelta(days=7)).isoformat())))
                else:
                    exact.append((today - dt.timedelta(days=back), text))
        for mention in self.masks.dates:
            if any(day is None for day in mention.days):
                problems.append(Question("date", N_("{text} is not a date in the calendar. Check the day and the "
                                                    "month (day first, then month)."), {"text": mention.text}))
            elif len(mention.days) > 1:
                ranges.append(tuple(d for d in mention.days if d is not None))
            else:
                day = mention.days[0]
                assert day is not None
                exact.append((day, mention.text))
        days = _distinct(day for day, _ in exact)
        for days_of_range in ranges:
            days = _distinct([*days, *days_of_range]) if not days else days
        fine = [d for d in days if d <= today and (today - d).days <= max_age]
        if len(fine) == 1 and not problems:
            self.values["date"] = fine[0].isoformat()
            return
        if len(fine) > 1:
            self.questions.append(Question("date", N_("Your message gives more than one date. Which day was it?"), {},
                                           tuple(d.isoformat() for d in fine)))
            return
        if problems:
            self.questions.append(problems[0])
            return
        if days:
            day = days[0]
            if day > today:
                self.questions.append(Question("date", N_("{date} has not come yet. Report an activity once it has "
                                                          "taken place."), {"date": day}))
            else:
                self.questions.append(Question("date", N_("That is more than {days} days ago; such old activities are "
                                                          "reported to the provincial union directly."),
                                               {"days": max_age}))
            return
        vague = self.tagged("vague")
        said = self.span(vague[0].start, vague[0].end) if vague else self.masks.month_only
        if self.masks.lunar and not said:
            said = next(self.text[s:e] for s, e, role in self.masks.taken if role == "date")
        if said:
            self.questions.append(Question("date", N_("“{text}” does not say which day."), {"text": said}))

    def partner(self) -> dict[str, Any] | None:
        """The unit's pair the message names (by its own name, or else by where it is), another partner it
        names, or at least the partner's country."""
        found: dict[int, tuple[int, bool]] = {}  # pair id → (score, primary)
        for pair in self.pairs:
            for name in _names_of(pair.name):
                for start, end in _find(self.sounds, self.starts, name.joined, name.length):
                    if name.needs_prefix and not self.generic_before(start):
                        continue
                    score = (3 if name.primary else 1) + (end - start)
                    if score > found.get(pair.id, (0, False))[0]:
                        found[pair.id] = (score, name.primary)
                    self.partner_spans.append((start, end, pair))
        named: list[tuple[int, str, str]] = []
        for joined, words, province_name, country_code in _PARTNER_PROVINCE_NAMES:
            for start, end in _find(self.sounds, self.starts, joined, words):
                named.append((start, province_name, country_code))
                self.partner_spans.append((start, end, None))
        if named:
            _, self.province, self.country = min(named)  # the first named
        for hit in self.tagged("country"):
            if hit.value("country") == "LA" and not self.lao_is_laos(hit):
                continue
            self.country = self.country or hit.value("country")
        primary = {pid: score for pid, (score, is_primary) in found.items() if is_primary}
        candidates = primary or {pid: score for pid, (score, _) in found.items()}
        if candidates:
            best = max(candidates.values())
            chosen = [pid for pid, score in candidates.items() if score == best]
            if len(chosen) == 1:
                pair = next(p for p in self.pairs if p.id == chosen[0])
                return {"pair": pair.id, "partner": {"name": pair.name, "country": pair.country,
                                                     "province": pair.province}}
            names = sorted(p.name for p in self.pairs if p.id in chosen)
            self.questions.append(Question("pair", N_("Your message may name any of these partners: {names}."),
                                           {"names": "; ".join(names)}))
            return None
        other = self.other_partner()
        if other is not None:
            result: dict[str, Any] = {"pair": "other", "partner_name": other}
            if self.country:
                result["partner_country"] = self.country
            return result
        if self.country:
            return {"partner_country": self.country}
        return None

    def lao_is_laos(self, hit: _Hit) -> bool:
        """"Lào" the country, not "Lào Cai" nor "Lao Bảo"."""
        tok = self.toks[hit.start]
        if hit.end - hit.start > 1 or tok.key != "lao":
            return True
        nxt = self.toks[hit.end].key if hit.end < len(self.toks) else ""
        if nxt in ("cai", "bao", "kha", "chai", "dong", "ko", "kho", "to"):
            return False
        if tok.raw == "lào":
            return True
        before = self.toks[hit.start - 1].key if hit.start > 0 else ""
        return before in ("sang", "nuoc", "ban", "phia", "tai", "o", "viet", "ben", "cua", "voi", "quan", "dan", "-",
                          "nhan")

    def generic_before(self, start: int) -> bool:
        i = start - 1
        while i >= 0 and self.toks[i].kind == "word":
            for begin in range(max(0, i - 3), i + 1):
                found = _match(self.toks, begin, _GENERIC)
                if found and found[0] == i + 1:
                    return True
            break
        return False

    def other_partner(self) -> str | None:
        """A partner named in the message but not among the unit's pairs: "tặng quà bản Na Xổm (Lào)"."""
        toks = self.toks
        for i in range(len(toks)):
            found = _match(toks, i, _PARTNER_PREFIXES)
            if found is None or toks[i].raw == "to":  # English "to", not "tổ"
                continue
            end = found[0]
            before = self.hit_ending(i, skip=("filler",))
            if before is None or not (before.has("give_to") or before.has("give") or before.has("kind")
                                      or before.value("kind") or before.has("to")):
                # "cho bà con bản X": the people of it
                j = i - 1
                while j >= 0 and toks[j].kind == "word" and toks[j].key in ("ba", "con", "nhan", "dan", "nguoi"):
                    j -= 1
                before = self.hit_ending(j + 1, skip=("filler",))
                if before is None or not before.has("give_to"):
                    continue
            j = end
            while j < len(toks) and j - end < 5:
                tok = toks[j]
                original = self.text[tok.start:tok.end]
                if tok.kind == "num" and not tok.role:  # "Đại đội BP 217"
                    j += 1
                    continue
                if tok.kind != "word" or not original[:1].isupper():
                    break
                j += 1
            if j > end:
                return self.text[toks[i].start:toks[j - 1].end]
        return None

    def venue(self) -> None:
        places: set[str] = set()
        for hit in self.hits:
            explicit = hit.value("venue")
            if explicit:
                places.add(explicit)
                continue
            first = self.toks[hit.start]
            if hit.has("kind") and first.key == "sang" and first.raw == "sang" and hit.end > hit.start + 1:
                # "sang thăm", "sang giao lưu": across the border, unless the partner is the one who came
                places.add("ours" if self.partner_came(hit.start - 1) else "partner")
                continue
            if not (hit.has("at") or hit.has("to")):
                continue
            place = self.place_after(hit.end, movement=hit.has("to"))
            if place:
                places.add(place)
        if len(places) == 1:
            self.values["venue"] = places.pop()

    def place_after(self, start: int, *, movement: bool) -> str | None:
        """Where "tại …", "ở …" or "sang …" at ``start`` says the activity was held: a partner named within a few
        words ("tại nhà văn hóa bản La Cồ"), else the first word of a place ("tại sân bóng bản bạn")."""
        if movement and self.partner_came(start - 1):
            return "ours"  # "bản Densavan sang giao lưu": the partner came over
        for s, _e, _pair in self.partner_spans:
            if start <= s <= start + 4 and all(self.toks[j].kind == "word" and not self.linking(j) for j in
                                               range(start, s)):
                return "partner"
        j = start
        while j < min(len(self.toks), start + 5):
            tok = self.toks[j]
            if tok.kind != "word":
                break
            hit = self.hit_at.get(j)
            if hit is not None and hit.start == j:
                place = hit.value("place")
                if place and not (movement and place != "partner"):
                    return place
                if hit.has("country") and (hit.value("country") != "LA" or self.lao_is_laos(hit)):
                    return "partner"
                if movement and j == start and (hit.has("kind") or hit.has("theirs")):
                    return "partner"  # "sang thăm", "sang chúc Tết": across the border
                if j > start and any(hit.has(name) for name in ("kind", "date", "give", "give_to", "at", "to")):
                    break
                j = hit.end
                continue
            j += 1
        return None

    def linking(self, j: int) -> bool:
        """Token ``j`` is a word that says more than where: "tại lễ giao lưu với …", "in an exchange with …"."""
        hit = self.hit_at.get(j)
        return hit is not None and any(hit.has(name) for name in ("kind", "filler", "give_to", "to", "at",
                                                                   "participate", "date"))

    def partner_came(self, i: int) -> bool:
        """Who crossed, in "… sang" ending at token ``i``: the partner ("bản Densavan sang", "đoàn bạn sang",
        "tiếp đoàn Trạm Hà Khẩu 10 người sang") rather than us ("đồn sang", "đoàn cán bộ đồn sang")."""
        sentence = self.sentence_start(i)
        j = i
        while j >= sentence:
            hit = self.hit_at.get(j)
            if hit is not None and (hit.has("theirs") or hit.value("direction") == "in"):
                return True
            if hit is not None and (hit.has("ours") or hit.value("place") == "ours" or hit.value("direction") == "out"):
                return False
            if any(s <= j < e for s, e, pair in self.partner_spans if pair is not None):
                return True
            j = hit.start - 1 if hit is not None else j - 1
        return False

    def details(self, main: str | None, sets: list[str]) -> None:
        values = self.values
        kind_hits = self.tagged("kind")
        if main == "exchange":
            types = _distinct(hit.value("exchange_type") for hit in self.hits if hit.has("exchange_type"))
            if len(types) == 1:
                values["exchange_type"] = types[0]
        if main == "visit":
            occasions = _distinct(hit.value("occasion") for hit in self.hits if hit.has("occasion"))
            if len(occasions) == 1:
                values["occasion"] = occasions[0]
        if main == "delegation" or "delegation" in sets:
            directions = _distinct(hit.value("direction") for hit in self.hits if hit.has("direction"))
            if not directions:
                delegation = next(h for h in kind_hits if h.value("kind") == "delegation") if any(
                    h.value("kind") == "delegation" for h in kind_hits) else None
                if delegation is not None and self.venue_is("partner"):
                    directions = ["out"]
            if len(directions) == 1:
                values["direction"] = directions[0]
        if main == "outreach":
            first = next(h for h in kind_hits if h.value("kind") == "outreach")
            topics = _distinct(hit.value("topic") for hit in self.hits if hit.has("topic") and hit.start >= first.start)
            if len(topics) == 1:
                values["outreach_topic"] = topics[0]

    def venue_is(self, place: str) -> bool:
        return self.values.get("venue") == place

    def gifts(self, main: str | None, sets: list[str]) -> None:
        """What was given ("tặng 200 suất quà": "200 suất quà") and to whom ("cho bản Pa Tan"), as written."""
        if main != "donation" and "gifts" not in sets:
            return
        toks = self.toks
        for hit in self.hits:
            if not hit.has("give"):
                continue
            items_end = hit.end
            if not hit.has("gifts"):  # "tặng quà" names no goods: what follows is who received them
                items_end = self.phrase_end(hit.end, allow_lists=True)
                piece = toks[hit.end:items_end]
                words = [t for t in piece if t.kind == "word"]
                numbers = [t for t in piece if t.kind == "num" and not t.role]
                money_only = all(t.kind == "num" or t.key in _MONEY_WORDS for t in piece)
                if piece and not money_only and (len(words) >= 2 or numbers):
                    self.values.setdefault("gift_items", self.span(hit.end, items_end).strip(" ,")[:200])
            to = self.hit_at.get(items_end)
            start = to.end if to is not None and to.start == items_end and to.has("give_to") else items_end
            people = start < len(toks) and toks[start].key in _RECIPIENTS
            if start == items_end and not (self.partner_at(start) or (hit.has("gifts") and people)):
                continue
            end = self.phrase_end(start, allow_lists=False)
            if end > start:
                self.values.setdefault("recipients", self.span(start, end).strip(" ,")[:200])
            break

    def phrase_end(self, start: int, *, allow_lists: bool) -> int:
        toks = self.toks
        j = start
        while j < len(toks):
            tok = toks[j]
            hit = self.hit_at.get(j)
            if tok.kind == "sym" and tok.key in _OPENING:  # a name in quotes, a list in brackets: whole
                close = next((k for k in range(j + 1, len(toks)) if toks[k].key in _OPENING[tok.key]), None)
                if close is None:
                    break
                j = close + 1
                continue
            if tok.kind == "sym" and tok.key == "," and allow_lists and j + 1 < len(toks):
                nxt = toks[j + 1]
                unit = self.unit_after(j + 2) if nxt.kind == "num" else None
                if nxt.kind == "num" and unit is not None and unit[0] in ("goods", "packages"):
                    j += 1
                    continue
                break
            if tok.kind == "sym" and tok.key in _STOPS:
                break
            if hit is not None and hit.start == j and hit.value("kind") != "donation" and any(
                    hit.has(name) for name in ("give_to", "worth", "date", "at", "to", "kind", "weekday", "vague",
                                               "past", "participate", "each", "both", "approx", "give")):
                if not (hit.has("give_to") and not allow_lists):
                    break
            if tok.kind == "num" and tok.role == "date":
                if j > start and toks[j - 1].kind == "word" and toks[j - 1].key in ("ngay", "sang", "chieu", "toi",
                                                                                   "trua", "hom", "on", "vao"):
                    j -= 1  # "… ngày 20/11": the day is not part of the phrase
                break
            if j > start and tok.kind == "num" and self.money_span(j) is not None:
                break
            if "\n" in self.text[toks[j - 1].end:tok.start] and j > start:
                break
            j += 1
        return j

    def asks_at_the_end(self) -> bool:
        """A Vietnamese question without its question mark: "… có cần gửi ảnh không", "… chọn loại gì ạ"."""
        words = [t for t in self.toks if t.kind == "word"]
        while len(words) > 1 and words[-1].key in _PARTICLES and words[-1].raw in (_PARTICLES[words[-1].key],
                                                                                   words[-1].key):
            words.pop()
        if not words:
            return False
        last = words[-1]
        spelled = _QUESTION_ENDS.get(last.key)
        return spelled is not None and (last.raw == spelled or (not last.marks and last.key in _UNACCENTED_ENDS))

    def verdict(self, kinds: list[_Hit], figures: list[_Figure]) -> tuple[str, str]:
        words = [t for t in self.toks if t.kind != "sym"]
        if not words:
            return NO, "empty"
        if self.text.lstrip().startswith("/"):
            return NO, "command"
        earlier = re.search(r"(bao cao|report|bc)\s*(so|#|no\.?)\s*\d", self.key)  # "báo cáo số 12"
        if earlier or (self.tagged("edit") and (self.tagged("reportword") or any(t.key == "#" for t in self.toks))):
            return NO, "change"
        asking = [hit for hit in self.tagged("question") if hit.start == 0 or hit.end >= len(self.toks) - 1]
        if self.text.rstrip().endswith("?") or asking or self.asks_at_the_end():
            return NO, "question"
        first = self.hits[0] if self.hits else None
        if first is not None and (first.has("request") or first.has("question")) and first.start <= 2:
            return NO, "request"  # "Đề nghị các đồn báo cáo …", "Đồng chí cho biết …"
        if self.tagged("request") and not figures:
            return NO, "request"
        if self.tagged("document") and self.tagged("transmit") and not figures:
            return NO, "document"  # "Đồn đã nhận được công văn về việc tặng quà Tết"
        dated = "date" in self.values or any(q.key == "date" for q in self.questions)
        past = bool(self.tagged("past")) or any(
            hit.has("date") and int(hit.value("date") or 0) > 0 for hit in self.hits) or (
            "date" in self.values and self.values["date"] < self.today.isoformat())
        future = self.tagged("future") + [hit for hit in self.tagged("planword") if hit.start == 0 or any(
            other.has("kind") and hit.end <= other.start <= hit.end + 1 for other in self.hits)]
        if future and not past:
            return NO, "plan"
        figured = [f for f in figures if f.measure]
        partnered = "pair" in self.values or bool(self.country) or any(q.key == "pair" for q in self.questions)
        evidence = sum((dated, bool(figured), partnered, "venue" in self.values, past))
        if kinds:
            if future:
                return UNSURE, "plan and report"
            thanks = self.tagged("thanks")
            if thanks and thanks[0].start == 0 and not figured and not dated:
                return NO, "thanks"
            if evidence >= 1:
                return YES, "activity"
            return UNSURE, "activity without details"
        if figured and (dated or partnered):
            return UNSURE, "figures without an activity"
        return NO, "nothing reported"


# A Vietnamese question often ends on one of these words (and perhaps a polite particle), with no question mark.
_QUESTION_ENDS = {"gi": "gì", "nao": "nào", "khong": "không", "chua": "chưa", "sao": "sao", "ha": "hả", "nhi": "nhỉ",
                  "a": "à"}
_UNACCENTED_ENDS = frozenset({"gi", "nao", "khong", "chua", "sao"})  # "a", "ha", "nhi" unaccented are other words
_PARTICLES = {"a": "ạ", "nhe": "nhé", "vay": "vậy", "the": "thế", "nha": "nha"}


def _distinct(values: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value is not None and value not in seen:
            seen.append(value)
    return seen


def _currencies_differ(values: list[list[dict[str, str]]]) -> bool:
    currencies = [money["currency"] for value in values for money in value]
    return len(set(currencies)) > 1


def _currency_choices(moneys: list[dict[str, str]]) -> tuple[Any, ...]:
    return (list(moneys), *([money] for money in moneys))


def _out_of_range(measure: str, value: Any, approx: bool) -> Question | None:
    spec = MEASURES[measure]
    checked: list[tuple[Decimal, Any]]
    if spec.kind == MONEY:
        checked = [(Decimal(m["amount"]), Money(Decimal(m["amount"]), m["currency"])) for m in value
                   if m["currency"] == "VND"]
    else:
        checked = [(Decimal(str(value)), Decimal(str(value)))]
    for number, shown in checked:
        if spec.low is not None and number < spec.low:
            return Question(measure, N_("{value} is less than such a figure usually is. Is it right?"),
                            {"value": shown}, (value,), approx)
        if spec.high is not None and number > spec.high:
            return Question(measure, N_("{value} is more than such a figure usually is. Is it right?"),
                            {"value": shown}, (value,), approx)
    return None


def read_message(text: str, *, today: dt.date, pairs: Sequence[PairRef] = (),
                 max_age_days: int = 90) -> MessageReading:
    """What one message reports: see the module's docstring."""
    if not text or not text.strip():
        return MessageReading(NO, {}, (), reason="empty")
    return _Reader(text, today, pairs, max_age_days).read()


