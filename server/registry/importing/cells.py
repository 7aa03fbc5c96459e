"""One cell as the import means it: spreadsheet cells come as text, numbers, dates or times
(openpyxl) and CSV cells as text, and both are read the same way here. A cell that cannot be
read raises `CellError` with what is wrong in Vietnamese and English."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from hailong.protocol import ID_RE
from server.registry.importing import sheets
from server.storage.schedule import DAY_MINUTES, format_minute, parse_days, parse_minute

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_VN_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SECONDS = re.compile(r"^(\d{1,2}:\d{2}):00$")
_SEPARATORS = re.compile(r"[,;\s]+")
_KINDS = {
    "commune": "commune",
    "xã": "commune",
    "xa": "commune",
    "ward": "ward",
    "phường": "ward",
    "phuong": "ward",
    "provincial_centre": "provincial_centre",
    "trung tâm tỉnh": "provincial_centre",
    "trung tâm phục vụ hành chính công tỉnh": "provincial_centre",
}
_SIGNIN = {
    "none": "none",
    "không": "none",
    "khong": "none",
    "pin": "pin",
    "mã pin": "pin",
    "card": "card",
    "thẻ": "card",
    "the": "card",
    "pin_or_card": "pin_or_card",
    "pin hoặc thẻ": "pin_or_card",
    "pin hoac the": "pin_or_card",
}
_YES = {"có", "co", "yes", "y", "1", "true", "x"}
_NO = {"không", "khong", "no", "n", "0", "false"}


class CellError(ValueError):
    def __init__(self, message_vi: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en


def text(value: Any) -> str | None:
    """The cell as text, None when empty; a whole number typed into a text column stays whole."""
    if value is None:
        return None
    if isinstance(value, bool):
        value = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    found = unicodedata.normalize("NFC", str(value)).strip()
    return found or None


def code(value: Any) -> str | None:
    found = text(value)
    if found is not None and not ID_RE.match(found):
        raise CellError(
            f"mã {found!r} không hợp lệ: chỉ dùng chữ không dấu, số, dấu . _ -, không dấu cách, "
            "tối đa 64 ký tự",
            f"{found!r} is not a valid id: 1 to 64 characters of A-Z a-z 0-9 . _ - (no spaces)",
        )
    return found


def codes(value: Any) -> list[str]:
    found = text(value) or ""
    return list(dict.fromkeys(c for part in _SEPARATORS.split(found) if (c := code(part))))


def _named(
    value: Any, names: dict[str, str], vi: tuple[str, str], en: tuple[str, str]
) -> str | None:
    """The value a cell names in `names` (any case), None when empty; `vi` and `en`: what the
    cell is and what to write instead, for the error."""
    found = text(value)
    if found is None:
        return None
    known = names.get(found.lower())
    if known is None:
        raise CellError(
            f"{vi[0]} {found!r} không có: ghi {vi[1]}", f"unknown {en[0]} {found!r}: write {en[1]}"
        )
    return known


def kind(value: Any) -> str | None:
    return _named(
        value,
        _KINDS,
        ("loại", "xã, phường hoặc trung tâm tỉnh"),
        ("kind", "commune, ward or provincial_centre"),
    )


def signin_method(value: Any) -> str | None:
    """How officers sign in at the unit's counters (`Unit.signin`); empty is None."""
    return _named(
        value,
        _SIGNIN,
        ("cách đăng nhập", "không, pin, thẻ hoặc pin hoặc thẻ"),
        ("sign-in method", "none, pin, card or pin_or_card"),
    )


def yes_no(value: Any) -> bool | None:
    """Empty is None (the caller's default: yes for a new officer)."""
    if isinstance(value, bool):
        return value
    found = text(value)
    if found is None:
        return None
    if found.lower() in _YES:
        return True
    if found.lower() in _NO:
        return False
    raise CellError(
        f"{found!r} không phải có/không: ghi có hoặc không (1 hoặc 0)",
        f"{found!r} is not yes/no: write yes or no (có/không, 1/0)",
    )


def day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = text(value)
    if found is None:
        return None
    try:
        if match := _ISO_DAY.match(found):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _VN_DAY.match(found):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        pass
    raise CellError(
        f"{found!r} không phải ngày: dùng ô kiểu ngày, YYYY-MM-DD hoặc DD/MM/YYYY",
        f"{found!r} is not a date: use a date cell, YYYY-MM-DD or DD/MM/YYYY",
    )


def time_of_day(value: Any) -> str | None:
    """As `HH:MM`; an Excel time cell, a fraction of a day, or text. A cell of 24:00 is a whole
    day to Excel, which openpyxl reads as the day after its epoch."""
    if isinstance(value, datetime):
        if value.date() == date(1899, 12, 31) and value.time() == time(0):
            return format_minute(DAY_MINUTES)
        value = value.time()
    if isinstance(value, time):
        return format_minute(value.hour * 60 + value.minute)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1:
        return format_minute(round(value * DAY_MINUTES))
    found = text(value)
    if found is None:
        return None
    if match := _SECONDS.match(found):
        found = match[1]
    try:
        return format_minute(parse_minute(found, default=0, end=True))
    except ValueError:
        raise CellError(
            f"{found!r} không phải giờ: ghi HH:MM từ 00:00 đến 24:00, ví dụ 07:30",
            f"{found!r} is not a time of day: write HH:MM from 00:00 to 24:00, e.g. 07:30",
        ) from None


def number(value: Any) -> int | None:
    found = text(value)
    if found is None:
        return None
    if not found.isdigit() or not 1 <= int(found) <= 52:
        raise CellError(
            f"{found!r} không phải số nguyên từ 1 đến 52",
            f"{found!r} is not a whole number from 1 to 52",
        )
    return int(found)


def weekdays(value: Any) -> str | None:
    found = text(value)
    if found is None:
        return None
    try:
        return parse_days(found)
    except ValueError as exc:
        raise CellError(
            f"thứ không hợp lệ trong {found!r}: ghi T2 T3 T4 T5 T6 T7 CN (hoặc mon … sun)",
            str(exc),
        ) from None


READERS: dict[str, Callable[[Any], Any]] = {
    sheets.CODE: code,
    sheets.TEXT: text,
    sheets.KIND: kind,
    sheets.SIGNIN: signin_method,
    sheets.CODES: codes,
    sheets.YES_NO: yes_no,
    sheets.DAY: day,
    sheets.TIME: time_of_day,
    sheets.NUMBER: number,
    sheets.WEEKDAYS: weekdays,
}
