"""Reference data: Vietnam's 34 provincial-level units and the partner provinces across the border.

Sources (see /work/shared/domain.md, §2 and §3):

* codes: Quyết định 19/2025/QĐ-TTg (code list in force from 01/7/2025). A 2-digit code means
  something else in the old QĐ 124/2004 list (for example ``24`` was Bắc Giang and is now Bắc Ninh),
  so these codes are only valid for the post-2025 map;
* compositions: Nghị quyết 202/2025/QH15 (63 → 34 units, effective 01/7/2025);
* land borders and counterpart provinces: domain.md §3.1–§3.4 (derived from the pre-2025 border
  provinces, with the new units substituted);
* partner-province names: domain.md §3.5 (ISO 3166-2 codes and names from pycountry 26.2.16;
  Vietnamese spellings as seen in the press, no official transliteration exists).

``old_names`` lists every pre-2025 province merged into a unit, its own former name first, followed
by alternative spellings seen in the press (old/new tone-mark placement, dash variants, short forms).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProvinceRef:
    code: str  # 2-digit QĐ 19/2025 code
    name: str  # official name from 01/7/2025
    kind: str  # "tinh" (tỉnh) or "tp" (thành phố trực thuộc Trung ương)
    old_names: tuple[str, ...]  # merged pre-2025 provinces, then alternative spellings
    borders: tuple[str, ...]  # ISO-2 codes of land borders: subset of ("CN", "LA", "KH")
    partner_provinces: tuple[str, ...]  # counterpart provinces (Vietnamese names, see PARTNER_PROVINCES)


# In the order of domain.md §2.2 (ascending QĐ 19/2025 code).
PROVINCES: tuple[ProvinceRef, ...] = (
    ProvinceRef("01", "Hà Nội", "tp", ("Hà Nội", "Thành phố Hà Nội", "TP. Hà Nội"), (), ()),
    ProvinceRef("04", "Cao Bằng", "tinh", ("Cao Bằng",), ("CN",), ("Quảng Tây",)),
    ProvinceRef("08", "Tuyên Quang", "tinh", ("Tuyên Quang", "Hà Giang"), ("CN",), ("Vân Nam", "Quảng Tây")),
    ProvinceRef(
        "11",
        "Điện Biên",
        "tinh",
        ("Điện Biên",),
        ("CN", "LA"),
        ("Vân Nam", "Phông Sa Lỳ", "Luông Pha Băng"),
    ),
    ProvinceRef("12", "Lai Châu", "tinh", ("Lai Châu",), ("CN",), ("Vân Nam",)),
    ProvinceRef("14", "Sơn La", "tinh", ("Sơn La",), ("LA",), ("Hủa Phăn", "Luông Pha Băng")),
    ProvinceRef("15", "Lào Cai", "tinh", ("Lào Cai", "Yên Bái"), ("CN",), ("Vân Nam",)),
    ProvinceRef("19", "Thái Nguyên", "tinh", ("Thái Nguyên", "Bắc Kạn", "Bắc Cạn"), (), ()),
    ProvinceRef("20", "Lạng Sơn", "tinh", ("Lạng Sơn",), ("CN",), ("Quảng Tây",)),
    ProvinceRef("22", "Quảng Ninh", "tinh", ("Quảng Ninh",), ("CN",), ("Quảng Tây",)),
    ProvinceRef("24", "Bắc Ninh", "tinh", ("Bắc Ninh", "Bắc Giang"), (), ()),
    ProvinceRef("25", "Phú Thọ", "tinh", ("Phú Thọ", "Vĩnh Phúc", "Hòa Bình", "Hoà Bình"), (), ()),
    ProvinceRef("31", "Hải Phòng", "tp", ("Hải Phòng", "Hải Dương", "TP. Hải Phòng"), (), ()),
    ProvinceRef("33", "Hưng Yên", "tinh", ("Hưng Yên", "Thái Bình"), (), ()),
    ProvinceRef("37", "Ninh Bình", "tinh", ("Ninh Bình", "Hà Nam", "Nam Định"), (), ()),
    ProvinceRef("38", "Thanh Hóa", "tinh", ("Thanh Hóa", "Thanh Hoá"), ("LA",), ("Hủa Phăn",)),
    ProvinceRef(
        "40", "Nghệ An", "tinh", ("Nghệ An",), ("LA",), ("Hủa Phăn", "Xiêng Khoảng", "Bô Ly Khăm Xay")
    ),
    ProvinceRef("42", "Hà Tĩnh", "tinh", ("Hà Tĩnh",), ("LA",), ("Bô Ly Khăm Xay", "Khăm Muồn")),
    ProvinceRef(
        "44",
        "Quảng Trị",
        "tinh",
        ("Quảng Trị", "Quảng Bình"),
        ("LA",),
        ("Khăm Muồn", "Xa Vẳn Na Khệt", "Sa La Văn"),
    ),
    ProvinceRef(
        "46",
        "Huế",
        "tp",
        ("Thừa Thiên Huế", "Thừa Thiên - Huế", "Thừa Thiên-Huế", "TP. Huế", "Thành phố Huế"),
        ("LA",),
        ("Sa La Văn", "Xê Kông"),
    ),
    ProvinceRef("48", "Đà Nẵng", "tp", ("Đà Nẵng", "Quảng Nam", "TP. Đà Nẵng"), ("LA",), ("Xê Kông",)),
    ProvinceRef(
        "51",
        "Quảng Ngãi",
        "tinh",
        ("Quảng Ngãi", "Kon Tum", "Kontum"),
        ("LA", "KH"),
        ("Át Tạ Pư", "Ratanakiri"),
    ),
    ProvinceRef("52", "Gia Lai", "tinh", ("Gia Lai", "Bình Định"), ("KH",), ("Ratanakiri",)),
    ProvinceRef("56", "Khánh Hòa", "tinh", ("Khánh Hòa", "Ninh Thuận", "Khánh Hoà"), (), ()),
    ProvinceRef(
        "66", "Đắk Lắk", "tinh", ("Đắk Lắk", "Phú Yên", "Đắc Lắc", "Daklak"), ("KH",), ("Mondulkiri",)
    ),
    ProvinceRef(
        "68",
        "Lâm Đồng",
        "tinh",
        ("Lâm Đồng", "Đắk Nông", "Bình Thuận", "Đăk Nông"),
        ("KH",),
        ("Mondulkiri",),
    ),
    ProvinceRef(
        "75",
        "Đồng Nai",
        "tinh",
        ("Đồng Nai", "Bình Phước"),
        ("KH",),
        ("Mondulkiri", "Kra Chê", "Tbong Khmum"),
    ),
    ProvinceRef(
        "79",
        "TP. Hồ Chí Minh",
        "tp",
        (
            "TP. Hồ Chí Minh",
            "Bình Dương",
            "Bà Rịa - Vũng Tàu",
            "Bà Rịa–Vũng Tàu",
            "Bà Rịa – Vũng Tàu",
            "Bà Rịa Vũng Tàu",
            "Hồ Chí Minh",
            "Thành phố Hồ Chí Minh",
            "TP Hồ Chí Minh",
            "TP.HCM",
            "TPHCM",
            "TP HCM",
            "Sài Gòn",
        ),
        (),
        (),
    ),
    ProvinceRef(
        "80",
        "Tây Ninh",
        "tinh",
        ("Tây Ninh", "Long An"),
        ("KH",),
        ("Svay Rieng", "Prey Veng", "Tbong Khmum"),
    ),
    ProvinceRef("82", "Đồng Tháp", "tinh", ("Đồng Tháp", "Tiền Giang"), ("KH",), ("Prey Veng",)),
    ProvinceRef("86", "Vĩnh Long", "tinh", ("Vĩnh Long", "Bến Tre", "Trà Vinh"), (), ()),
    # Kep (KH-23) also faces the former Kiên Giang coast, but its border status is unconfirmed
    # (domain.md §3.4/§3.5, marked ❓), so it is left out here; Kampot is confirmed.
    ProvinceRef(
        "91",
        "An Giang",
        "tinh",
        ("An Giang", "Kiên Giang"),
        ("KH",),
        ("Kandal", "Takeo", "Kampot"),
    ),
    ProvinceRef(
        "92",
        "Cần Thơ",
        "tp",
        ("Cần Thơ", "Sóc Trăng", "Hậu Giang", "TP. Cần Thơ"),
        (),
        (),
    ),
    ProvinceRef("96", "Cà Mau", "tinh", ("Cà Mau", "Bạc Liêu"), (), ()),
)


@dataclass(frozen=True)
class PartnerProvinceRef:
    country: str  # "CN" | "LA" | "KH"
    name: str  # Vietnamese name used throughout twinbot
    iso: str  # ISO 3166-2 code
    english: str  # common English name
    aliases: tuple[str, ...]  # other spellings (Vietnamese press forms, English variants, ISO name)


# All rows of domain.md §3.5, in its order.
PARTNER_PROVINCES: tuple[PartnerProvinceRef, ...] = (
    # China
    PartnerProvinceRef("CN", "Vân Nam", "CN-YN", "Yunnan", ("Yunnan Sheng",)),
    PartnerProvinceRef(
        "CN",
        "Quảng Tây",
        "CN-GX",
        "Guangxi",
        ("Khu tự trị dân tộc Choang Quảng Tây", "Guangxi Zhuangzu Zizhiqu"),
    ),
    # Laos
    PartnerProvinceRef("LA", "Phông Sa Lỳ", "LA-PH", "Phongsaly", ("Phông Xa Lỳ", "Phongsali", "Phôngsali")),
    PartnerProvinceRef(
        "LA",
        "Luông Pha Băng",
        "LA-LP",
        "Luang Prabang",
        ("Luông Pha Bang", "Luông Prabang", "Louangphabang"),
    ),
    PartnerProvinceRef("LA", "Hủa Phăn", "LA-HO", "Houaphanh", ("Huaphan", "Houaphan")),
    PartnerProvinceRef("LA", "Xiêng Khoảng", "LA-XI", "Xiengkhouang", ("Xiangkhouang",)),
    PartnerProvinceRef(
        "LA",
        "Bô Ly Khăm Xay",
        "LA-BL",
        "Bolikhamxay",
        ("Bôlykhămxay", "Bo Ly Khăm Xay", "Bôlikhămxay", "Borikhamxay", "Bolikhamxai"),
    ),
    PartnerProvinceRef("LA", "Khăm Muồn", "LA-KH", "Khammouane", ("Khăm Muộn", "Khăm-muộn", "Khammouan")),
    PartnerProvinceRef(
        "LA",
        "Xa Vẳn Na Khệt",
        "LA-SV",
        "Savannakhet",
        ("Sa Vẳn Na Khệt", "Sạ Vẳn Nạ Khệt", "Sa Văn Na Khẹt", "Savannakhét"),
    ),
    PartnerProvinceRef("LA", "Sa La Văn", "LA-SL", "Salavan", ("Sả Lạ Văn", "Saravane")),
    PartnerProvinceRef("LA", "Xê Kông", "LA-XE", "Sekong", ("Sê Kông", "Xekong", "Xékong")),
    PartnerProvinceRef("LA", "Át Tạ Pư", "LA-AT", "Attapeu", ("Ắt Tạ Pư", "Attapư", "Attapu")),
    # Cambodia
    PartnerProvinceRef("KH", "Ratanakiri", "KH-16", "Ratanakiri", ("Rattanakiri", "Rotanak Kiri")),
    PartnerProvinceRef(
        "KH", "Mondulkiri", "KH-11", "Mondulkiri", ("Mundulkiri", "Môn Đôn Ki Ri", "Mondol Kiri")
    ),
    PartnerProvinceRef("KH", "Kra Chê", "KH-10", "Kratie", ("Kracheh",)),
    PartnerProvinceRef("KH", "Tbong Khmum", "KH-25", "Tbong Khmum", ("Tboung Khmum",)),
    PartnerProvinceRef("KH", "Svay Rieng", "KH-20", "Svay Rieng", ("Svây Riêng", "Svaay Rieng")),
    PartnerProvinceRef("KH", "Prey Veng", "KH-14", "Prey Veng", ("Prây Veng", "Pray Veng", "Prey Veaeng")),
    PartnerProvinceRef("KH", "Kandal", "KH-8", "Kandal", ("Kandaal",)),
    PartnerProvinceRef("KH", "Takeo", "KH-21", "Takeo", ("Ta Keo", "Tàkeo", "Taakaev")),
    PartnerProvinceRef("KH", "Kampot", "KH-7", "Kampot", ()),
    PartnerProvinceRef("KH", "Kep", "KH-23", "Kep", ("Kaeb",)),  # border status unconfirmed (❓)
)
