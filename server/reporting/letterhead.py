"""The parts of an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I) that the
printed month takes from its unit: who issues it, its number, the place on its date line, who
signs it and where it goes.

The month is the one-stop centre's report on its counters (since 1 July 2025 each commune and
ward has a Trung tâm Phục vụ hành chính công, and so has the province, Nghị định 118/2025/NĐ-CP),
so the issuing body is that centre and the body above it is the commune's or ward's People's
Committee, or the province's for the provincial centre. The number and the day are left blank
to be filled in by hand when the document is registered, as printed forms are; a registry entry
without a province leaves a blank where the province goes rather than guessing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from server.storage.models import Unit
from server.timeutil import VN_TZ

CENTRE = "Trung tâm Phục vụ hành chính công"
CENTRE_LINES = ("TRUNG TÂM PHỤC VỤ", "HÀNH CHÍNH CÔNG")  # broken where the words belong together
CENTRE_CODE = "TTPVHCC"  # the centre's abbreviation in the number and the "Lưu" line
DOCUMENT_KIND = "BC"  # báo cáo
BLANK = "……"
NUMBER_GAP = "\u00a0" * 8  # room to write the number by hand
_KIND_WORD = {"commune": "xã", "ward": "phường"}
# Registry names sometimes carry a former district after a dash ("Phường X – TP Y"): not part of
# the commune's or ward's own name.
_TAIL = re.compile(r"\s+[–-]\s+.*$")


# The centrally run cities since 12 June 2025 (Nghị quyết 202/2025/QH15): "thành phố", not "tỉnh".
CITIES = frozenset({"Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế"})
_CITY_PREFIX = re.compile(r"^(?:tp\.?|thành phố)\s+", re.IGNORECASE)
_PROVINCE_PREFIX = re.compile(r"^tỉnh\s+", re.IGNORECASE)


def province_phrase(province: str | None) -> str | None:
    """The province in a sentence, with its kind: "tỉnh Quảng Trị", "thành phố Hồ Chí Minh"
    (the registry may hold "Quảng Trị", "Tỉnh Quảng Trị", "TP Hồ Chí Minh" or "Hà Nội")."""
    name = (province or "").strip()
    if not name:
        return None
    if _CITY_PREFIX.match(name):
        return "thành phố " + _CITY_PREFIX.sub("", name)
    name = _PROVINCE_PREFIX.sub("", name)
    return f"thành phố {name}" if name in CITIES else f"tỉnh {name}"


@dataclass(frozen=True)
class Letterhead:
    """What the header and the foot of the printed month say about who issues it."""

    parent: str  # cơ quan chủ quản, as printed (capitals, the usual abbreviation UBND)
    issuer: tuple[str, ...]  # tên cơ quan ban hành, in capitals, a line each
    issuer_name: str  # the same in a sentence: "Trung tâm Phục vụ hành chính công phường X"
    number: str  # "Số:      /BC-TTPVHCC", the number left blank
    place: str  # địa danh on the date line
    year: int  # of the date line; the day and month are left blank
    signer: str  # the signer's title, in capitals
    recipients: tuple[str, ...]  # Nơi nhận, each line as printed

    @property
    def date_line(self) -> str:
        return f"{self.place}, ngày {BLANK} tháng {BLANK} năm {self.year}"


def own_name(unit: Unit) -> str:
    """The commune's or ward's name after its kind word, without a former district:
    "Phường Đồng Hới" and "Bộ phận Một cửa phường Đồng Hới" → "Đồng Hới"."""
    name = _TAIL.sub("", unit.name.strip())
    word = _KIND_WORD.get(unit.kind)
    found = re.search(rf"(?:^|\s){word}\s+(.+)$", name, re.IGNORECASE) if word else None
    return (found.group(1) if found else name).strip()


def letterhead(unit: Unit, printed_at: datetime) -> Letterhead:
    """The unit's letterhead; `printed_at` gives the year of the date line."""
    year = printed_at.astimezone(VN_TZ).year
    if unit.kind in _KIND_WORD:
        word, name = _KIND_WORD[unit.kind], own_name(unit)
        committee, area, place = f"UBND {word} {name}", f"{word} {name}", name
    else:  # the province's own centre
        area = province_phrase(unit.province) or f"tỉnh {BLANK}"
        place = area.removeprefix("thành phố ").removeprefix("tỉnh ")
        if place == "Hồ Chí Minh":  # a person's name without it, so the city writes it in full
            place = "Thành phố Hồ Chí Minh"
        committee = f"UBND {area}"
    return Letterhead(
        parent=committee.upper(),
        issuer=CENTRE_LINES,
        issuer_name=f"{CENTRE} {area}",
        number=f"Số:{NUMBER_GAP}/{DOCUMENT_KIND}-{CENTRE_CODE}",
        place=place,
        year=year,
        signer="GIÁM ĐỐC",
        recipients=(
            f"{committee} (để báo cáo);",
            "Cán bộ, công chức có tên tại Mục II;",
            f"Lưu: VT, {CENTRE_CODE}.",
        ),
    )
