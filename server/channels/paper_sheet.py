"""The paper survey form (phiếu khảo sát) as one sheet, `phieu`, one row per form, and how its
cells are read: the columns written once, so the reader, the checks, the template and its help
sheet cannot drift apart. The layout follows the official form: its number, the unit, the
counter or the field, the officer if the citizen wrote one, the date, the level ticked, the
reasons and the comment.

The official form has three levels, so forms are stored on the `vn3` scale whatever the units'
devices use; reports already mix scales (hailong/protocol.py `happy_index`).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from hailong.protocol import SCALES
from server.registry.importing.cells import CellError, code, day, text
from server.registry.importing.sheets import CODE, DAY, TEXT, Column, Sheet
from server.storage.reasons import REASONS

SCALE = SCALES["vn3"]
SHEET_ID = "phieu"
LEVEL, REASONS_KIND, FORM_NO = "level", "reasons", "form_no"
FORM_NO_MAX = 64
COMMENT_MAX = 500  # the rating's comment column
REASON_SEPARATOR = ";"  # not a comma: labels such as "Thủ tục, giấy tờ phức tạp" hold one
_LEVELS_VI = " · ".join(f"{i} {label}" for i, label in enumerate(SCALE.labels_vi, 1))
_LEVELS_EN = " · ".join(f"{i} {label}" for i, label in enumerate(SCALE.labels_en, 1))

PHIEU = Sheet(
    SHEET_ID,
    "Phiếu khảo sát",
    "Survey forms",
    ("unit_id", "form_no"),
    (
        Column(
            "form_no",
            "Số phiếu",
            FORM_NO,
            True,
            "Số in hoặc ghi trên phiếu; mỗi số chỉ nhập một lần cho mỗi đơn vị.",
            "The number printed or written on the form; each is entered once per unit.",
            "PKS-2026-0153",
        ),
        Column(
            "unit_id",
            "Mã đơn vị",
            CODE,
            True,
            "Mã đơn vị thu phiếu (xem sheet don_vi).",
            "The id of the unit that collected the form (see the don_vi sheet).",
            "DH",
        ),
        Column(
            "counter_id",
            "Mã quầy",
            CODE,
            False,
            "Quầy ghi trên phiếu (xem sheet quay); để trống nếu phiếu chỉ ghi lĩnh vực.",
            "The counter on the form (see the quay sheet); empty when it names only a field.",
            "DH-Q1",
        ),
        Column(
            "field_id",
            "Mã lĩnh vực",
            CODE,
            False,
            "Lĩnh vực ghi trên phiếu khi không ghi quầy (xem sheet linh_vuc); phiếu đó chỉ tính "
            "cho đơn vị.",
            "The field on a form that names no counter (see the linh_vuc sheet); such a form "
            "counts for the unit only.",
            "",
        ),
        Column(
            "officer_id",
            "Mã cán bộ (nếu ghi)",
            CODE,
            False,
            "Cán bộ công dân ghi trên phiếu (xem sheet can_bo); để trống nếu không ghi: phiếu "
            "không tính cho cán bộ nào.",
            "The officer the citizen wrote (see the can_bo sheet); empty if none: the form then "
            "counts for no officer.",
            "CB-0042",
        ),
        Column(
            "date",
            "Ngày khảo sát",
            DAY,
            True,
            "Ngày trên phiếu: DD/MM/YYYY hoặc YYYY-MM-DD; không được sau hôm nay.",
            "The form's date: DD/MM/YYYY or YYYY-MM-DD; not after today.",
            "05/10/2026",
        ),
        Column(
            "level",
            f"Mức hài lòng ({_LEVELS_VI})",
            LEVEL,
            True,
            f"Mức đánh dấu trên phiếu, thang 3 mức: {_LEVELS_VI}; ghi số hoặc chữ.",
            f"The level ticked, on the three-level scale: {_LEVELS_EN}; a number or the words.",
            "1",
        ),
        Column(
            "reasons",
            "Lý do chưa hài lòng",
            REASONS_KIND,
            False,
            "Mã hoặc tên lý do (xem sheet ly_do), cách nhau bằng dấu chấm phẩy ;",
            "Reason codes or labels (see the ly_do sheet), separated by semicolons ;",
            "wait_time; Thái độ chưa tốt",
        ),
        Column(
            "comment",
            "Ý kiến khác",
            TEXT,
            False,
            f"Ý kiến công dân ghi trên phiếu, tối đa {COMMENT_MAX} ký tự.",
            f"The citizen's comment, up to {COMMENT_MAX} characters.",
            "Cần thêm ghế chờ",
        ),
    ),
)


def _plain(value: str) -> str:
    """Lower case without Vietnamese marks: a level or a reason typed without them is found."""
    spread = unicodedata.normalize("NFD", value.lower().replace("đ", "d"))
    return " ".join("".join(c for c in spread if not unicodedata.combining(c)).split())


_LEVEL_WORDS = {
    _plain(label): index
    for labels in (SCALE.labels_vi, SCALE.labels_en)
    for index, label in enumerate(labels, 1)
}
_REASON_WORDS = {
    _plain(word): reason.code
    for reason in REASONS
    for word in (reason.code, reason.label_vi, reason.label_en)
}


def form_no(value: Any) -> str | None:
    found = text(value)
    if found is not None and (len(found) > FORM_NO_MAX or not found.isprintable()):
        raise CellError(
            f"số phiếu {found!r} không hợp lệ: tối đa {FORM_NO_MAX} ký tự, không xuống dòng",
            f"form number {found!r} is not valid: up to {FORM_NO_MAX} characters, one line",
        )
    return found


def level(value: Any) -> int | None:
    found = text(value)
    if found is None:
        return None
    if found.isdigit() and 1 <= int(found) <= SCALE.size:
        return int(found)
    known = _LEVEL_WORDS.get(_plain(found))
    if known is None:
        raise CellError(
            f"mức {found!r} không có trên thang 3 mức của phiếu: ghi {_LEVELS_VI}",
            f"level {found!r} is not on the form's three-level scale: write {_LEVELS_EN}",
        )
    return known


def reasons(value: Any) -> tuple[str, ...]:
    found = text(value) or ""
    codes: list[str] = []
    for part in found.split(REASON_SEPARATOR):
        if not part.strip():
            continue
        known = _REASON_WORDS.get(_plain(part))
        if known is None:
            listed = ", ".join(r.code for r in REASONS)
            raise CellError(
                f"không có lý do {part.strip()!r}: dùng mã hoặc tên trong sheet ly_do ({listed}), "
                "cách nhau bằng dấu ;",
                f"unknown reason {part.strip()!r}: use a code or label of the ly_do sheet "
                f"({listed}), separated by ;",
            )
        if known not in codes:
            codes.append(known)
    return tuple(codes)


def comment(value: Any) -> str | None:
    found = text(value)
    if found is None:
        return None
    if len(found) > COMMENT_MAX:
        raise CellError(
            f"ý kiến dài {len(found)} ký tự; tối đa {COMMENT_MAX}: rút gọn",
            f"the comment is {len(found)} characters long; at most {COMMENT_MAX}: shorten it",
        )
    if "\x00" in found:
        raise CellError("ý kiến có ký tự không hợp lệ", "the comment holds a NUL character")
    return found


READERS = {
    FORM_NO: form_no,
    CODE: code,
    DAY: day,
    LEVEL: level,
    REASONS_KIND: reasons,
    TEXT: comment,
}
