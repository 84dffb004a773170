"""One message read as a report: every field read, left empty or asked about, for messages of our own in both
languages, with and without diacritics, composite events, numbers that are not figures, and non-reports.

Each case states everything the reader must take from the message (``read``: nothing more, nothing less, the
description aside) and everything it must ask (``asked``: the field, and the readings it offers when it offers
some). A field in neither is left empty: the form asks it, or it stays blank when optional.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from handlers.message_reader import NO, UNSURE, YES, PairRef, read_message

TODAY = dt.date(2026, 11, 23)  # a Monday, as tests.conftest.NOW

# The twinning pairs of a few units (as in storage/sample/registry.yaml, plus a made-up village pair).
UNITS: dict[str, list[PairRef]] = {
    "huong_lap": [PairRef(1, "Đại đội Biên phòng 321", "LA", "Xa Vẳn Na Khệt"),
                  PairRef(2, "Trạm Công an La Cồ", "LA", "Xa Vẳn Na Khệt")],
    "na_meo": [PairRef(50, "Bản Pa Tan, huyện Sầm Tớ", "LA", "Hủa Phăn")],
    "lao_cai": [PairRef(10, "Trạm KSBP XNC Hà Khẩu", "CN", "Vân Nam")],
    "song_trang": [PairRef(20, "Đồn CA BVBG X16", "KH", "Svay Rieng"),
                   PairRef(21, "Trung đội 3, Tiểu đoàn BVBG số 2", "KH", "Svay Rieng"),
                   PairRef(22, "Đồn CA BVBG S'vay Angong", "KH", "Prey Veng"),
                   PairRef(23, "Đồn CA BVBG Piêm Mun Tia", "KH", "Prey Veng")],
    "ka_tang": [PairRef(30, "Bản Densavan (Đen Sạ Vẳn), huyện Sê Pôn", "LA", "Xa Vẳn Na Khệt")],
    "nhot_lot": [PairRef(40, "Bản Thẩm Khướng, cụm bản Mường Dương, huyện Mường Quắn", "LA", "Hủa Phăn"),
                 PairRef(41, "Bản Huội Pá, cụm bản Mường Dương, huyện Mường Quắn", "LA", "Hủa Phăn"),
                 PairRef(42, "Bản Huội Ngua, cụm bản Phá Đánh, huyện Mường Quắn", "LA", "Hủa Phăn")],
    "no_pairs": [],
}


def pair(unit: str, pair_id: int) -> dict[str, Any]:
    ref = next(p for p in UNITS[unit] if p.id == pair_id)
    return {"pair": ref.id, "partner": {"name": ref.name, "country": ref.country, "province": ref.province}}


C321, LA_CO = pair("huong_lap", 1), pair("huong_lap", 2)
PA_TAN, HA_KHAU, DENSAVAN = pair("na_meo", 50), pair("lao_cai", 10), pair("ka_tang", 30)


def vnd(amount: str) -> list[dict[str, str]]:
    return [{"amount": amount, "currency": "VND"}]


def money(amount: str, currency: str) -> list[dict[str, str]]:
    return [{"amount": amount, "currency": currency}]


YESTERDAY, TWO_DAYS_AGO, TODAY_ISO = "2026-11-22", "2026-11-21", "2026-11-23"
ANY = None  # asked, whatever it offers


@dataclass(frozen=True)
class Case:
    text: str
    read: dict[str, Any] = field(default_factory=dict)
    asked: dict[str, Any] = field(default_factory=dict)  # field: readings offered (a tuple), or ANY
    report: str = YES
    unit: str = "huong_lap"


CASES = [
    # --- the two examples ---------------------------------------------------------------------------
    Case("Hôm qua đồn phối hợp khám bệnh, cấp thuốc cho 150 người dân cụm bản La Cồ (Sê Pôn), trao 1.000 suất quà "
         "trị giá 500tr",
         {"kind": "medical", "sets": ["gifts"], "date": YESTERDAY, **LA_CO, "patients": 150, "gift_packages": 1000,
          "value_gifts": vnd("500000000"), "gift_items": "1.000 suất quà"}),
    Case("tang 200 suat qua cho ban Pa Tan hom kia tai ban ban, 25 nguoi tham gia, 40tr",
         {"kind": "donation", "date": TWO_DAYS_AGO, **PA_TAN, "venue": "partner", "gift_packages": 200,
          "value_gifts": vnd("40000000"), "gift_items": "200 suat qua", "recipients": "ban Pa Tan"},
         {"participants_ours": (25,), "participants_partner": ()}, unit="na_meo"),

    # --- each kind, with and without diacritics -----------------------------------------------------------------
    Case("Hôm qua giao lưu văn nghệ với Đại đội 321 tại đồn, phía ta 40 người, phía bạn 35 người",
         {"kind": "exchange", "exchange_type": "culture", "date": YESTERDAY, **C321, "venue": "ours",
          "participants_ours": 40, "participants_partner": 35}),
    Case("hom qua giao luu van nghe voi dai doi 321 tai don, phia ta 40 nguoi, phia ban 35 nguoi",
         {"kind": "exchange", "exchange_type": "culture", "date": YESTERDAY, **C321, "venue": "ours",
          "participants_ours": 40, "participants_partner": 35}),
    Case("Sáng nay giao lưu bóng chuyền với Trạm Hà Khẩu tại cửa khẩu, mỗi bên 12 người",
         {"kind": "exchange", "exchange_type": "sport", "date": TODAY_ISO, **HA_KHAU, "venue": "border",
          "participants_ours": 12, "participants_partner": 12}, unit="lao_cai"),
    Case("sang nay giao luu bong chuyen voi tram Ha Khau tai cua khau, moi ben 12 nguoi",
         {"kind": "exchange", "exchange_type": "sport", "date": TODAY_ISO, **HA_KHAU, "venue": "border",
          "participants_ours": 12, "participants_partner": 12}, unit="lao_cai"),
    Case("Hôm kia đồn tổ chức ngày hội biên giới với bà con bản La Cồ",
         {"kind": "exchange", "exchange_type": "festival", "date": TWO_DAYS_AGO, **LA_CO}),
    Case("Chiều qua đồn sang thăm, chúc Tết Bunpimay Đại đội 321",
         {"kind": "visit", "occasion": "new_year", "date": YESTERDAY, **C321, "venue": "partner"}),
    Case("chieu qua don sang tham chuc tet Bunpimay dai doi 321",
         {"kind": "visit", "occasion": "new_year", "date": YESTERDAY, **C321, "venue": "partner"}),
    Case("Hôm qua Đại đội 321 sang thăm và chúc Tết đồn",
         {"kind": "visit", "occasion": "new_year", "date": YESTERDAY, **C321, "venue": "ours"}),
    Case("Hôm qua đón đoàn Đại đội 321 gồm 12 đồng chí sang chúc mừng Quốc khánh",
         {"kind": "delegation", "direction": "in", "date": YESTERDAY, **C321, "venue": "ours",
          "delegation_people": 12}),
    Case("Hôm qua đoàn ra: 1 đoàn 8 người sang làm việc với Đại đội 321",
         {"kind": "delegation", "direction": "out", "date": YESTERDAY, **C321, "delegations": 1,
          "delegation_people": 8}),
    Case("Hôm qua tuần tra song phương với Trạm Hà Khẩu từ mốc 92 đến mốc 94, kiểm tra 3 cột mốc, 6,5 km",
         {"kind": "patrol", "date": YESTERDAY, **HA_KHAU, "markers": 3, "km": "6.5"}, unit="lao_cai"),
    Case("hom qua tuan tra song phuong voi tram Ha Khau tu moc 92 den moc 94, kiem tra 3 cot moc, 6,5 km",
         {"kind": "patrol", "date": YESTERDAY, **HA_KHAU, "markers": 3, "km": "6.5"}, unit="lao_cai"),
    Case("Hôm qua khám bệnh, cấp thuốc miễn phí cho 85 người dân bản La Cồ, thuốc trị giá 15tr",
         {"kind": "medical", "date": YESTERDAY, **LA_CO, "patients": 85, "value_medicines": vnd("15000000")}),
    Case("hom qua kham benh cap thuoc mien phi cho 85 nguoi dan ban La Co, thuoc tri gia 15tr",
         {"kind": "medical", "date": YESTERDAY, **LA_CO, "patients": 85, "value_medicines": vnd("15000000")}),
    Case("Hôm qua tuyên truyền pháp luật cho 120 người dân bản La Cồ, 2 buổi",
         {"kind": "outreach", "outreach_topic": "law", "date": YESTERDAY, **LA_CO, "participants_partner": 120,
          "sessions": 2}),
    Case("Hôm qua tuyên truyền bảo vệ mốc giới tại bản La Cồ, 3 buổi",
         {"kind": "outreach", "outreach_topic": "markers", "date": YESTERDAY, **LA_CO, "venue": "partner",
          "sessions": 3}),
    Case("Hôm qua đồn tuyên truyền phòng chống ma túy cho 200 lượt người dân bản La Cồ",
         {"kind": "outreach", "outreach_topic": "crime", "date": YESTERDAY, **LA_CO, "participants_partner": 200}),
    Case("Hôm qua ký kết nghĩa với bản Pa Tan tại nhà văn hóa xã",
         {"kind": "twinning_signing", "date": YESTERDAY, **PA_TAN, "venue": "ours"}, unit="na_meo"),
    Case("Hôm qua sơ kết 5 năm kết nghĩa với bản Pa Tan, 40 đại biểu hai bên dự",
         {"kind": "twinning_review", "date": YESTERDAY, **PA_TAN},
         {"participants_ours": (), "participants_partner": ()}, unit="na_meo"),
    Case("Hôm qua hội đàm với Đại đội 321 lần thứ 12 tại đồn",
         {"kind": "other", "date": YESTERDAY, **C321, "venue": "ours"}),
    Case("Hôm qua tặng quà cho bà con bản Pa Tan",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "recipients": "bà con bản Pa Tan"}, unit="na_meo"),
    Case("hôm qua ủng hộ 10 triệu đồng tiền mặt cho gia đình bị lũ ở bản Pa Tan",
         {"kind": "donation", "sets": ["cash"], "date": YESTERDAY, **PA_TAN, "venue": "partner",
          "value_cash": vnd("10000000"), "recipients": "gia đình bị lũ"}, unit="na_meo"),
    Case("Hôm qua trao 20 suất học bổng trị giá 40 triệu cho học sinh bản Pa Tan",
         {"kind": "donation", "sets": ["scholarships", "cash"], "date": YESTERDAY, **PA_TAN, "scholarships": 20,
          "value_cash": vnd("40000000"), "gift_items": "20 suất học bổng"}, unit="na_meo"),
    Case("Hôm qua bàn giao công trình nhà văn hóa trị giá 350 triệu cho bản Pa Tan",
         {"kind": "other", "sets": ["works"], "date": YESTERDAY, **PA_TAN, "value_works": vnd("350000000")},
         unit="na_meo"),
    Case("Hôm qua trao 2tr5 cho gia đình ông Bun ở bản La Cồ",
         {"kind": "donation", "sets": ["cash"], "date": YESTERDAY, **LA_CO, "venue": "partner",
          "value_cash": vnd("2500000"), "recipients": "gia đình ông Bun"}),
    Case("HÔM QUA ĐỒN TẶNG 200 SUẤT QUÀ CHO BẢN LA CỒ TRỊ GIÁ 100 TRIỆU",
         {"kind": "donation", "date": YESTERDAY, **LA_CO, "gift_packages": 200, "value_gifts": vnd("100000000"),
          "gift_items": "200 SUẤT QUÀ", "recipients": "BẢN LA CỒ"}),

    # --- English ------------------------------------------------------------------------------------------------
    Case("Yesterday we held a friendship football match with Company 321 at the border marker, 45 officers and "
         "30 Lao counterparts",
         {"kind": "exchange", "exchange_type": "sport", "date": YESTERDAY, **C321, "venue": "border",
          "participants_ours": 45, "participants_partner": 30}),
    Case("Donated 100 gift packages worth 50 million VND to Pa Tan village yesterday",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "gift_packages": 100, "value_gifts": vnd("50000000"),
          "gift_items": "100 gift packages"}, unit="na_meo"),
    Case("Gave gifts worth VND 40 million to Pa Tan village yesterday",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "value_gifts": vnd("40000000")}, unit="na_meo"),
    Case("On 21/11 we examined 120 villagers of La Co and gave free medicines worth 15 million dong",
         {"kind": "medical", "date": TWO_DAYS_AGO, **LA_CO, "patients": 120, "value_medicines": vnd("15000000")}),
    Case("Joint patrol with Company 321 yesterday, 4 markers, 12.5 km",
         {"kind": "patrol", "date": YESTERDAY, **C321, "markers": 4, "km": "12.5"}),
    Case("We visited Company 321 on 20/11 for Lao National Day and gave 10 gifts worth $500",
         {"kind": "visit", "sets": ["gifts"], "date": "2026-11-20", **C321, "gift_packages": 10,
          "value_gifts": money("500.00", "USD"), "gift_items": "10 gifts"}),
    Case("Yesterday 25 people took part in a cultural exchange with La Co police station",
         {"kind": "exchange", "exchange_type": "culture", "date": YESTERDAY, **LA_CO},
         {"participants_ours": (25,), "participants_partner": ()}),
    Case("Received a delegation of 12 from Ha Khau station yesterday",
         {"kind": "delegation", "direction": "in", "date": YESTERDAY, **HA_KHAU, "delegation_people": 12},
         unit="lao_cai"),
    Case("Legal outreach on drugs for 200 villagers of La Co today, 2 sessions",
         {"kind": "outreach", "date": TODAY_ISO, **LA_CO, "participants_partner": 200, "sessions": 2}),
    Case("Signed the twinning with Pa Tan village yesterday at the commune hall",
         {"kind": "twinning_signing", "date": YESTERDAY, **PA_TAN}, unit="na_meo"),
    Case("On 20 November we held talks with Company 321",
         {"kind": "other", "date": "2026-11-20", **C321}),
    Case("Yesterday we donated 50 gift packages to Ban Na Som, Laos",
         {"kind": "donation", "date": YESTERDAY, "pair": "other", "partner_name": "Ban Na Som",
          "partner_country": "LA", "gift_packages": 50, "gift_items": "50 gift packages",
          "recipients": "Ban Na Som"}, unit="no_pairs"),

    Case("We gave 200 gift packages to Pa Tan village the day before yesterday at the partner's village; 25 people "
         "took part; worth 40 million VND",
         {"kind": "donation", "date": TWO_DAYS_AGO, **PA_TAN, "venue": "partner", "gift_packages": 200,
          "value_gifts": vnd("40000000"), "gift_items": "200 gift packages", "recipients": "Pa Tan village"},
         {"participants_ours": (25,), "participants_partner": ()}, unit="na_meo"),
    Case("Yesterday the post organized free medical check-ups for 150 villagers of La Co and handed over 1,000 gift "
         "packages worth 500 million dong",
         {"kind": "medical", "sets": ["gifts"], "date": YESTERDAY, **LA_CO, "patients": 150, "gift_packages": 1000,
          "value_gifts": vnd("500000000"), "gift_items": "1,000 gift packages"}),
    Case("Today our post and Company 321 held a joint patrol from marker 612 to marker 614, 3 markers checked, 7.5 km",
         {"kind": "patrol", "date": TODAY_ISO, **C321, "markers": 3, "km": "7.5"}),
    Case("Last Monday we received a delegation of 10 from Company 321 at our post",
         {"kind": "delegation", "direction": "in", "date": "2026-11-16", **C321, "venue": "ours",
          "delegation_people": 10}),
    Case("Yesterday's exchange with Company 321: 30 of our officers and 25 Lao soldiers",
         {"kind": "exchange", "date": YESTERDAY, **C321, "participants_ours": 30, "participants_partner": 25}),
    Case("Donated $1,500 in cash to 10 families in La Co yesterday",
         {"kind": "donation", "sets": ["households", "cash"], "date": YESTERDAY, **LA_CO, "venue": "partner",
          "households": 10}, {"value_cash": ([{"amount": "1500.00", "currency": "USD"}],)}),
    Case("The twinning review with Company 321 took place on 21 Nov at the border gate",
         {"kind": "twinning_review", "date": TWO_DAYS_AGO, **C321, "venue": "border"}),
    Case("Thứ hai vừa rồi giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-16", **C321}),

    # --- several activities in one event --------------------------------------------------------------------------
    Case("Hôm qua giao lưu văn nghệ với Đại đội 321 và tặng 50 suất quà trị giá 25 triệu",
         {"kind": "exchange", "exchange_type": "culture", "sets": ["gifts"], "date": YESTERDAY, **C321,
          "gift_packages": 50, "value_gifts": vnd("25000000"), "gift_items": "50 suất quà"}),
    Case("Hôm qua sang thăm chúc Tết Đại đội 321, tặng 20 suất quà, khám bệnh cho 60 người dân",
         {"kind": "visit", "occasion": "new_year", "sets": ["gifts", "medical"], "date": YESTERDAY, **C321,
          "venue": "partner", "gift_packages": 20, "gift_items": "20 suất quà", "patients": 60}),
    Case("Hôm qua đón đoàn Trạm Hà Khẩu 10 người sang chúc Tết, tổ chức giao lưu bóng đá",
         {"kind": "delegation", "direction": "in", "date": YESTERDAY, **HA_KHAU, "venue": "ours",
          "delegation_people": 10}, unit="lao_cai"),
    Case("Hôm qua tuần tra song phương với Đại đội 321, kết hợp tuyên truyền cho 80 người dân, tặng 30 suất quà",
         {"kind": "patrol", "sets": ["sessions", "gifts"], "date": YESTERDAY, **C321, "gift_packages": 30,
          "gift_items": "30 suất quà"},
         {"participants_ours": (80,), "participants_partner": ()}),
    Case("Hôm qua bàn giao nhà đại đoàn kết trị giá 80 triệu và tặng 10 suất quà cho bản Pa Tan",
         {"kind": "donation", "sets": ["works"], "date": YESTERDAY, **PA_TAN, "value_works": vnd("80000000"),
          "gift_packages": 10, "gift_items": "10 suất quà", "recipients": "bản Pa Tan"}, unit="na_meo"),
    Case("Hôm qua tặng quà cho 120 hộ dân bản La Cồ, tổng trị giá khoảng 60 triệu",
         {"kind": "donation", "sets": ["households"], "date": YESTERDAY, **LA_CO, "households": 120,
          "value_gifts": vnd("60000000"), "approx": ["value_gifts"], "recipients": "120 hộ dân bản La Cồ"}),
    Case("Hôm qua khám bệnh, cấp thuốc cho khoảng 150 lượt người, thuốc trị giá hơn 1,5 tỷ đồng",
         {"kind": "medical", "date": YESTERDAY, "patients": 150, "value_medicines": vnd("1500000000"),
          "approx": ["patients", "value_medicines"]}),

    # --- numbers that are not figures ---------------------------------------------------------------------------
    Case("Đại đội 163 tuần tra song phương mốc 102 hôm qua, 15,3 km",
         {"kind": "patrol", "date": YESTERDAY, "km": "15.3"}),
    Case("Theo Chỉ thị 12-CT/TW và QĐ 326/QĐ-LHHN, hôm qua đồn trao 50 suất quà cho bản La Cồ, trị giá 25tr",
         {"kind": "donation", "date": YESTERDAY, **LA_CO, "gift_packages": 50, "value_gifts": vnd("25000000"),
          "gift_items": "50 suất quà", "recipients": "bản La Cồ"}),
    Case("Hôm qua đồn 5 giao lưu với Đại đội 321",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Hôm qua tặng quà bản La Cồ, liên hệ đ/c Hùng 0912.345.678",
         {"kind": "donation", "date": YESTERDAY, **LA_CO, "recipients": "bản La Cồ"}),
    Case("Hôm qua giao lưu với Đại đội 321 lúc 8h30, đạt 100% kế hoạch",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Hôm qua giao lưu với Đại đội 321, liên hệ 0912345678",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Lúc 14:30 hôm qua giao lưu với Đại đội 321 tại tổ 5",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Hôm qua giao lưu lần thứ 7 với Đại đội 321 tại Km 15 Quốc lộ 9",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Ngày 22/11 giao lưu với Đại đội 321, 23/98 đồn trong tỉnh đã kết nghĩa",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Hôm qua tổ chức giao lưu kỷ niệm 10 năm kết nghĩa với Đại đội 321",
         {"kind": "exchange", "date": YESTERDAY, **C321}),
    Case("Năm 2025 đồn đã tặng 500 suất quà cho bản La Cồ",
         {"kind": "donation", **LA_CO, "gift_packages": 500, "gift_items": "500 suất quà", "recipients": "bản La Cồ"},
         {"date": ()}),
    Case("Sáng qua tuần tra song phương với Đồn X16 (Svay Rieng), 15,8 km, 4 mốc",
         {"kind": "patrol", "date": YESTERDAY, **pair("song_trang", 20), "km": "15.8", "markers": 4},
         unit="song_trang"),
    Case("Hôm qua tuần tra với Trung đội 3, Tiểu đoàn số 2, 8 km",
         {"kind": "patrol", "date": YESTERDAY, **pair("song_trang", 21), "km": "8"}, unit="song_trang"),
    Case("Hôm qua 1 tổ công tác gồm 6 đồng chí tuần tra song phương với Đại đội 321 từ mốc 612 đến mốc 614",
         {"kind": "patrol", "date": YESTERDAY, **C321, "participants_ours": 6}),
    Case("Hôm qua tặng 5 tấn gạo, 100 thùng mì tôm cho bản La Cồ trị giá 80 triệu đồng",
         {"kind": "donation", "date": YESTERDAY, **LA_CO, "value_gifts": vnd("80000000"),
          "gift_items": "5 tấn gạo, 100 thùng mì tôm", "recipients": "bản La Cồ"}),

    # --- dates --------------------------------------------------------------------------------------------------
    Case("Ngày 20/11 giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-20", **C321}),
    Case("20-11 giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-20", **C321}),
    Case("ngày 20.11 giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-20", **C321}),
    Case("Ngày 20 tháng 11 năm 2026 giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-20", **C321}),
    Case("ngày 20 đồn giao lưu với Hà Khẩu", {"kind": "exchange", "date": "2026-11-20", **HA_KHAU},
         unit="lao_cai"),
    Case("Thứ sáu giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-20", **C321}),
    Case("Thứ hai tuần trước giao lưu với Đại đội 321", {"kind": "exchange", "date": "2026-11-16", **C321}),
    Case("Thứ hai giao lưu với Đại đội 321", {"kind": "exchange", **C321},
         {"date": ("2026-11-23", "2026-11-16")}),
    Case("Tuần trước giao lưu với Đại đội 321", {"kind": "exchange", **C321}, {"date": ()}),
    Case("Ngày 25/11 giao lưu với Đại đội 321", {"kind": "exchange", **C321}, {"date": ()}),
    Case("Ngày 24.11 giao lưu với Đại đội 321", {"kind": "exchange", **C321}, {"date": ()}),
    Case("Ngày 10/5 giao lưu với Đại đội 321", {"kind": "exchange", **C321}, {"date": ()}),
    Case("Ngày 31/11 giao lưu với Đại đội 321", {"kind": "exchange", **C321}, {"date": ()}),
    Case("Từ ngày 18 đến 20/11 giao lưu thể thao với Đại đội 321",
         {"kind": "exchange", "exchange_type": "sport", **C321}, {"date": ("2026-11-18", "2026-11-20")}),
    Case("Mùng 1 Tết sang chúc Tết Đại đội 321",
         {"kind": "visit", "occasion": "new_year", **C321, "venue": "partner"}, {"date": ()}),
    Case("Tháng 11 đồn tặng 100 suất quà cho bản La Cồ",
         {"kind": "donation", **LA_CO, "gift_packages": 100, "gift_items": "100 suất quà", "recipients": "bản La Cồ"},
         {"date": ()}),
    Case("đồn đã tổ chức giao lưu với đại đội 321", {"kind": "exchange", **C321}),
    Case("Hôm qua tặng 50 suất quà trị giá 20tr, hôm nay tặng thêm 30 suất",
         {"kind": "donation", "value_gifts": vnd("20000000"), "gift_items": "50 suất quà"},
         {"gift_packages": (50, 30), "date": (YESTERDAY, TODAY_ISO)}),

    # --- partners: spellings, parts of names, provinces, countries, others ----------------------------------------
    Case("Hôm qua giao ban kết nghĩa với bản Đen Xa Văn tại nhà văn hóa khóm",
         {"kind": "other", "date": YESTERDAY, **DENSAVAN, "venue": "ours"}, unit="ka_tang"),
    Case("hom qua ban Densavan sang giao luu van nghe tai ban Ka Tang, 40 nguoi hai ben",
         {"kind": "exchange", "exchange_type": "culture", "date": YESTERDAY, **DENSAVAN, "venue": "ours"},
         {"participants_ours": (), "participants_partner": ()}, unit="ka_tang"),
    Case("Hôm qua tặng 50 suất quà cho đồn S'vay Angong, trị giá 2.000 USD",
         {"kind": "donation", "date": YESTERDAY, **pair("song_trang", 22), "gift_packages": 50,
          "value_gifts": money("2000.00", "USD"), "gift_items": "50 suất quà", "recipients": "đồn S'vay Angong"},
         unit="song_trang"),
    Case("Hôm qua thôn 11 giao lưu với bản Huội Pá",
         {"kind": "exchange", "date": YESTERDAY, **pair("nhot_lot", 41)}, unit="nhot_lot"),
    Case("Hôm qua tặng quà bản Huội Pá và bản Huội Ngua",
         {"kind": "donation", "date": YESTERDAY, "recipients": "bản Huội Pá và bản Huội Ngua"}, {"pair": ()},
         unit="nhot_lot"),
    Case("Hôm qua tặng 100 suất quà cho bản Na Xổm (Lào), trị giá 30 triệu",
         {"kind": "donation", "date": YESTERDAY, "pair": "other", "partner_name": "bản Na Xổm",
          "partner_country": "LA", "gift_packages": 100, "value_gifts": vnd("30000000"),
          "gift_items": "100 suất quà", "recipients": "bản Na Xổm (Lào)"}, unit="no_pairs"),
    Case("Hôm qua khám bệnh cho 60 người dân huyện Sầm Tớ, tỉnh Hủa Phăn",
         {"kind": "medical", "date": YESTERDAY, "partner_country": "LA", "patients": 60}, unit="no_pairs"),
    Case("Hôm qua giao lưu với bạn Lào ở Lào Cai",
         {"kind": "exchange", "date": YESTERDAY, "partner_country": "LA"}, unit="no_pairs"),
    Case("Hôm qua giao lưu với bạn Trung Quốc tại cửa khẩu",
         {"kind": "exchange", "date": YESTERDAY, "partner_country": "CN", "venue": "border"}, unit="no_pairs"),

    # --- as the press writes them -------------------------------------------------------------------------------
    Case("Sáng 20.11, Đồn BP Tri Lễ tổ chức lễ kết nghĩa với Đại đội BP 217",
         {"kind": "twinning_signing", "date": "2026-11-20", "pair": "other", "partner_name": "Đại đội BP 217"},
         unit="no_pairs"),
    Case("Ngày 10/11 trao 2.013 suất quà trị giá 600 triệu đồng cho cụm bản Đông (Sê Pôn, Savannakhet)",
         {"kind": "donation", "date": "2026-11-10", "pair": "other", "partner_name": "cụm bản Đông",
          "partner_country": "LA", "gift_packages": 2013, "value_gifts": vnd("600000000"),
          "gift_items": "2.013 suất quà"}, unit="no_pairs"),
    Case("Chiều 20/11, tại vạch phân quản cầu Bắc Luân 1, đồn đón tiếp đoàn công tác phía Trung Quốc gồm 15 người",
         {"kind": "delegation", "direction": "in", "date": "2026-11-20", "partner_country": "CN", "venue": "border",
          "delegation_people": 15}, unit="no_pairs"),
    Case("Hôm qua đồn phối hợp tuần tra song phương 10 mốc, 22,732 km, qua 19 bản, 2.470 hộ, 11.015 nhân khẩu",
         {"kind": "patrol", "sets": ["households"], "date": YESTERDAY, "markers": 10, "km": "22.732",
          "households": 2470}, unit="no_pairs"),
    Case("Hôm qua tặng 5.000 khẩu trang cho Ban quản lý khu biên giới Bách Sắc tại mốc 504",
         {"kind": "donation", "date": YESTERDAY, "venue": "border", "gift_items": "5.000 khẩu trang",
          "recipients": "Ban quản lý khu biên giới Bách Sắc"}, unit="no_pairs"),
    Case('Đồn vừa tổ chức trao 6 suất học bổng "Nâng bước em đến trường" cho học sinh nghèo hai bên biên giới',
         {"kind": "donation", "sets": ["scholarships"], "scholarships": 6,
          "gift_items": '6 suất học bổng "Nâng bước em đến trường"', "recipients": "học sinh nghèo"},
         unit="no_pairs"),
    Case("hôm qua đồn cử 3 tổ, 12 đồng chí phối hợp với lực lượng bạn tuần tra 2 mốc",
         {"kind": "patrol", "date": YESTERDAY, "participants_ours": 12, "markers": 2}),
    Case("Hôm qua, Thượng tá Nguyễn Văn A, Chính trị viên đồn dẫn đoàn 8 người sang thăm, chúc Tết Ty Công an "
         "Mondulkiri",
         {"kind": "delegation", "direction": "out", "date": YESTERDAY, "partner_country": "KH", "venue": "partner",
          "delegation_people": 8}, unit="no_pairs"),
    Case("Hôm qua đồn cử 5 đồng chí sang dự lễ kỷ niệm 70 năm ngày thành lập Quân đội nhân dân Lào tại Đại đội 321",
         {"kind": "visit", "occasion": "anniversary", "date": YESTERDAY, **C321, "venue": "partner",
          "participants_ours": 5}),
    Case("Hôm qua tặng 100 suất quà (gạo, mì tôm, dầu ăn) cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO, "gift_packages": 100,
          "gift_items": "100 suất quà (gạo, mì tôm, dầu ăn)", "recipients": "bản La Cồ"}),
    Case("Tặng quà cho bản La Cồ sáng nay, 100 suất, 50tr",
         {"kind": "donation", "date": TODAY_ISO, **LA_CO, "gift_packages": 100, "value_gifts": vnd("50000000"),
          "recipients": "bản La Cồ"}),
    Case("hom qua to chuc giao luu bong da voi ban Pa Tan, moi ben 11 nguoi, tai san bong ban ban",
         {"kind": "exchange", "exchange_type": "sport", "date": YESTERDAY, **PA_TAN, "venue": "partner",
          "participants_ours": 11, "participants_partner": 11}, unit="na_meo"),
    Case("Hôm qua tặng quà trị giá 200 đô cho bản Pa Tan",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "value_gifts": money("200.00", "USD")}, unit="na_meo"),
    Case("Hôm qua tặng quà trị giá 5 triệu kíp cho bản Pa Tan",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "value_gifts": money("5000000", "LAK")}, unit="na_meo"),

    # --- amounts to ask about ---------------------------------------------------------------------------------
    Case("Hôm qua tặng quà trị giá 50 cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO},
         {"value_gifts": (vnd("50000"), vnd("50000000"))}),
    Case("Hôm qua tặng quà trị giá 1,500 USD cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO}, {"value_gifts": (money("1500.00", "USD"),)}),
    Case("Hôm qua tặng quà trị giá 2 triệu 50 cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO}, {"value_gifts": (vnd("2500000"), vnd("2050000"))}),
    Case("Hôm qua tặng quà trị giá 20 triệu đồng (khoảng 6.000 tệ) cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO},
         {"value_gifts": ([*vnd("20000000"), *money("6000.00", "CNY")], vnd("20000000"), money("6000.00", "CNY"))}),
    Case("Hôm qua tặng quà trị giá 20 triệu đồng và 5.000 tệ cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO},
         {"value_gifts": ([*vnd("20000000"), *money("5000.00", "CNY")], vnd("20000000"), money("5000.00", "CNY"))}),
    Case("Hôm qua trao 200 suất quà, mỗi suất trị giá 500.000 đồng cho bà con bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO, "gift_packages": 200, "gift_items": "200 suất quà"},
         {"value_gifts": (vnd("100000000"),)}),
    Case("Hôm qua tặng quà trị giá vài triệu cho bản La Cồ",
         {"kind": "donation", "date": YESTERDAY, **LA_CO}, {"value_gifts": ()}),
    Case("Hôm qua tặng quà trị giá 20tr cho bản La Cồ, tổng trị giá 25tr",
         {"kind": "donation", "date": YESTERDAY, **LA_CO},
         {"value_gifts": (vnd("20000000"), vnd("25000000"))}),
    Case("Hôm qua tặng quà cho 20 hộ, mỗi hộ 500 ngàn",
         {"kind": "donation", "sets": ["households"], "date": YESTERDAY, "households": 20, "recipients": "20 hộ"},
         {"value_gifts": ()}),
    Case("Hôm qua 21/11 giao lưu với Đại đội 321", {"kind": "exchange", **C321},
         {"date": (YESTERDAY, TWO_DAYS_AGO)}),
    Case("Hôm qua tặng 500.000 suất quà cho bản Pa Tan",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "gift_items": "500.000 suất quà",
          "recipients": "bản Pa Tan"}, {"gift_packages": (500000,)}, unit="na_meo"),
    Case("Hôm qua tặng quà trị giá 2 triệu riel cho bản Pa Tan",
         {"kind": "donation", "date": YESTERDAY, **PA_TAN, "value_gifts": money("2000000", "KHR")}, unit="na_meo"),
    Case("Hôm qua tặng quà trị giá 5.000 NDT cho Trạm Hà Khẩu",
         {"kind": "donation", "date": YESTERDAY, **HA_KHAU, "value_gifts": money("5000.00", "CNY")},
         unit="lao_cai"),

    # --- who took part, on which side -----------------------------------------------------------------------
    Case("hai bên 60 người tham gia giao lưu văn nghệ hôm qua",
         {"kind": "exchange", "exchange_type": "culture", "date": YESTERDAY},
         {"participants_ours": (), "participants_partner": ()}),
    Case("Hôm qua giao lưu với c321, ta 20 đ/c, bạn 25 đ/c",
         {"kind": "exchange", "date": YESTERDAY, **C321, "participants_ours": 20, "participants_partner": 25}),
    Case("Hôm qua giao lưu văn nghệ với Đại đội 321, hơn 100 người tham gia",
         {"kind": "exchange", "exchange_type": "culture", "date": YESTERDAY, **C321},
         {"participants_ours": (100,), "participants_partner": ()}),
    Case("Hôm qua giao lưu với Đại đội 321, 15 cán bộ chiến sĩ đồn tham gia",
         {"kind": "exchange", "date": YESTERDAY, **C321, "participants_ours": 15}),
    Case("Hôm qua giao lưu với Đại đội 321, ~50 người tham gia phía ta",
         {"kind": "exchange", "date": YESTERDAY, **C321, "participants_ours": 50, "approx": ["participants_ours"]}),
    Case("Hôm qua khám bệnh cho ba mươi người dân bản La Cồ",
         {"kind": "medical", "date": YESTERDAY, **LA_CO, "patients": 30}),

    # --- not reports --------------------------------------------------------------------------------------------
    Case("ok", report=NO),
    Case("cảm ơn đồng chí", report=NO),
    Case("Chào anh", report=NO),
    Case("Chúc mừng năm mới đồng chí!", report=NO),
    Case("Làm sao để gửi ảnh?", report=NO),
    Case("Anh ơi cho em hỏi báo cáo tuần này nộp chưa", report=NO),
    Case("Báo cáo #12 sửa lại số người là 30", report=NO),
    Case("Báo cáo hôm qua bị nhầm, sửa giúp em số suất quà là 200", report=NO),
    Case("Please correct report #5, the date is wrong", report=NO),
    Case("Tuần sau đồn sẽ tổ chức giao lưu với Đại đội 321", report=NO),
    Case("Dự kiến ngày 30/11 đồn tặng quà Tết cho bản La Cồ", report=NO),
    Case("Kế hoạch tặng quà Tết cho bản La Cồ", report=NO),
    Case("Ngày mai đồn sang chúc Tết Đại đội 321", report=NO),
    Case("Will we visit Company 321 next week?", report=NO),
    Case("Hôm nay trời mưa to, đường vào bản La Cồ bị sạt lở", report=NO),
    Case("Đồn chuẩn bị giao lưu văn nghệ với bạn", report=NO),
    Case("Ngày 3/12 đồn sẽ tổ chức lễ kỷ niệm Quốc khánh Lào", report=NO),
    Case("Xin gửi đồng chí kế hoạch giao lưu văn nghệ tháng 12", report=NO),
    Case("Đồn sắp xếp lịch giao lưu với bạn", report=NO),
    Case("Cho em hỏi hôm qua tặng quà thì chọn loại gì ạ", report=NO),
    Case("Hôm qua đồn giao lưu với bạn, có cần gửi ảnh không", report=NO),
    Case("Đồng chí cho biết số liệu tặng quà tháng này", report=NO),
    Case("Đề nghị các đồn báo cáo số suất quà đã trao trong tuần", report=NO),
    Case("Ok em đã gửi báo cáo rồi", report=NO),
    Case("Đồn đã nhận được công văn số 12 về việc tặng quà Tết", report=NO),
    Case("Chúc mừng đồng chí", report=NO),
    Case("We will visit Company 321 tomorrow", report=NO),
    Case("Thanks!", report=NO),
    Case("Hi, how do I send photos?", report=NO),

    # --- unsure: asked "Is this a report of an activity?" ------------------------------------------------------
    Case("tặng quà", {"kind": "donation"}, report=UNSURE),
    Case("giao lưu văn nghệ", {"kind": "exchange", "exchange_type": "culture"}, report=UNSURE),
    Case("Hôm qua 30 người sang bản La Cồ", {"date": YESTERDAY, **LA_CO, "venue": "partner"},
         {"participants_ours": (30,), "participants_partner": ()}, report=UNSURE),
    Case("Hôm qua đồn họp chuẩn bị cho giao lưu tuần sau với Đại đội 321",
         {"kind": "exchange", "date": YESTERDAY, **C321}, report=UNSURE),
]


@pytest.mark.parametrize("case", CASES, ids=[case.text[:50] for case in CASES])
def test_what_the_message_says_is_read_and_nothing_else(case: Case) -> None:
    reading = read_message(case.text, today=TODAY, pairs=UNITS[case.unit], max_age_days=90)
    assert reading.report == case.report, reading.reason
    if case.report == NO:
        return
    values = {key: value for key, value in reading.values.items() if key != "description"}
    assert values == case.read
    asked = {question.key: question.readings for question in reading.questions}
    assert set(asked) == set(case.asked)
    for key, readings in case.asked.items():
        if readings is not ANY:
            assert asked[key] == readings, key


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 80
    assert sum(case.report == NO for case in CASES) >= 12


def test_the_description_is_the_message_itself_cleaned() -> None:
    reading = read_message("  Hôm qua   tặng quà\u200b cho bản La Cồ\n\n\n\nrất vui  ", today=TODAY,
                           pairs=UNITS["huong_lap"])
    assert reading.values["description"] == "Hôm qua tặng quà cho bản La Cồ\n\nrất vui"


def test_a_line_per_item_as_officers_write_lists() -> None:
    reading = read_message("Báo cáo:\n- Ngày 21/11 tặng quà bản La Cồ\n- 50 suất, trị giá 20tr", today=TODAY,
                           pairs=UNITS["huong_lap"])
    assert reading.report == YES
    assert {key: reading.values.get(key) for key in ("date", "pair", "gift_packages", "value_gifts", "recipients")} \
        == {"date": "2026-11-21", "pair": 2, "gift_packages": 50, "value_gifts": vnd("20000000"),
            "recipients": "bản La Cồ"}


def test_no_message_makes_it_fail() -> None:
    """Whatever is typed, the reader answers (every free-text message of a reporter passes through it)."""
    words = [*sorted({word for case in CASES for word in case.text.split()}),
             "(", ")", "/", "-", "%", "$", "¥", "₫", "~", "'", '"', "?", "\n", "\u200b", "\u202e", "🙂", "中", "ລາວ",
             "31/2", "29/2", "0", "00", "99999999999999999999", "1.000.000.000.000.000", "đ/c", "mỗi", "hai bên"]
    rng = random.Random(2026)
    for _ in range(3000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 30)))
        reading = read_message(text, today=TODAY, pairs=UNITS[rng.choice(list(UNITS))])
        assert reading.report in (YES, NO, UNSURE)


def test_the_same_message_is_read_the_same_way() -> None:
    text = CASES[0].text
    first = read_message(text, today=TODAY, pairs=UNITS["huong_lap"])
    assert all(read_message(text, today=TODAY, pairs=UNITS["huong_lap"]) == first for _ in range(3))


def test_why_each_question_is_asked() -> None:
    """The questions say what is unclear, with the figures as read (formatted where they are shown)."""
    whys = {q.key: (q.why, dict(q.values)) for q in read_message(
        "Hôm qua trao 200 suất quà, mỗi suất trị giá 500.000 đồng cho bản La Cồ, hai bên 60 người, tuần trước",
        today=TODAY, pairs=UNITS["huong_lap"]).questions}
    assert whys["participants_ours"] == ("{n} is both sides together. How many on this side alone?", {"n": 60})
    assert whys["value_gifts"][0] == ("{each} is the value of one package: {total} for {n} packages. "
                                      "Is that the value of them all?")
    assert whys["value_gifts"][1]["n"] == 200
    future = read_message("Ngày 25/11 giao lưu với Đại đội 321", today=TODAY, pairs=UNITS["huong_lap"])
    assert [(q.why, dict(q.values)) for q in future.questions] == [
        ("{date} has not come yet. Report an activity once it has taken place.", {"date": dt.date(2026, 11, 25)})]
