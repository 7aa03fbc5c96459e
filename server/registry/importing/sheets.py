"""The import's sheets and their columns, written once: the reader checks the column ids against
them, the validation converts cells by their kind, and the template and its `huong_dan` sheet
are made from the same table, so the help cannot drift from what is read."""

from __future__ import annotations

from dataclasses import dataclass

# How a cell is read (server/registry/importing/cells.py).
CODE, TEXT, KIND, CODES, YES_NO, DAY, TIME, NUMBER, WEEKDAYS = (
    "code",
    "text",
    "kind",
    "codes",
    "yes_no",
    "day",
    "time",
    "number",
    "weekdays",
)

SIGNIN = "signin"


@dataclass(frozen=True)
class Column:
    id: str
    header_vi: str
    kind: str
    required: bool
    help_vi: str
    help_en: str
    example: str


@dataclass(frozen=True)
class Sheet:
    id: str
    title_vi: str
    title_en: str
    key: tuple[str, ...]  # the columns that find a row again on the next import
    columns: tuple[Column, ...]

    def column(self, column_id: str) -> Column | None:
        return next((c for c in self.columns if c.id == column_id), None)

    @property
    def column_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.columns)


_ID_HELP = (
    "chữ, số, dấu . _ - (không dấu cách), tối đa 64 ký tự",
    "letters, digits, . _ -, no spaces, up to 64",
)


def _id(header: str, what_vi: str, what_en: str, example: str) -> Column:
    return Column(
        "id",
        header,
        CODE,
        True,
        f"Mã {what_vi}, do đơn vị tự đặt: {_ID_HELP[0]}.",
        f"The {what_en}'s code, your own: {_ID_HELP[1]}.",
        example,
    )


def _ref(column_id: str, header: str, what_vi: str, what_en: str, example: str) -> Column:
    return Column(
        column_id,
        header,
        CODE,
        True,
        f"Mã {what_vi}: có trong sheet {what_en}s của tệp này hoặc đã có trong hệ thống.",
        f"The {what_en}'s id: in this file's {what_en}s sheet or already registered.",
        example,
    )


UNITS = Sheet(
    "units",
    "Đơn vị",
    "Units",
    ("id",),
    (
        _id("Mã đơn vị", "đơn vị", "unit", "DH"),
        Column("name", "Tên đơn vị", TEXT, True, "Tên đầy đủ.", "Full name.", "Phường Diên Hồng"),
        Column(
            "kind",
            "Loại đơn vị",
            KIND,
            True,
            "xã, phường, hoặc trung tâm tỉnh (commune, ward, provincial_centre).",
            "commune (xã), ward (phường) or provincial_centre.",
            "phường",
        ),
        Column(
            "province",
            "Tỉnh/thành phố",
            TEXT,
            False,
            "Có thể để trống.",
            "May be empty.",
            "Gia Lai",
        ),
        Column(
            "signin",
            "Đăng nhập tại quầy",
            SIGNIN,
            False,
            "Cán bộ đăng nhập tại thiết bị bằng: không (theo lịch trực), pin, thẻ, hoặc pin hoặc "
            "thẻ. Để trống: không.",
            "How officers sign in at the unit's devices: none (the rota only), pin, card or "
            "pin_or_card. Empty: none.",
            "pin",
        ),
    ),
)

FIELDS = Sheet(
    "fields",
    "Lĩnh vực",
    "Fields",
    ("id",),
    (
        _id("Mã lĩnh vực", "lĩnh vực", "field", "tu-phap"),
        Column(
            "name",
            "Tên lĩnh vực",
            TEXT,
            True,
            "Tên lĩnh vực thủ tục.",
            "The field's name.",
            "Tư pháp – Hộ tịch",
        ),
    ),
)

COUNTERS = Sheet(
    "counters",
    "Quầy",
    "Counters",
    ("id",),
    (
        _id("Mã quầy", "quầy", "counter", "DH-Q1"),
        Column(
            "name",
            "Tên quầy",
            TEXT,
            True,
            "Tên hiển thị của quầy.",
            "The counter's name.",
            "Quầy 1",
        ),
        _ref("unit_id", "Mã đơn vị", "đơn vị", "unit", "DH"),
        Column(
            "field_ids",
            "Mã các lĩnh vực",
            CODES,
            False,
            "Các mã lĩnh vực quầy phục vụ, cách nhau bởi dấu , hoặc ; (thay cho danh sách cũ).",
            "The fields the counter serves, separated by , or ; (replaces the stored list).",
            "tu-phap; dat-dai",
        ),
    ),
)

OFFICERS = Sheet(
    "officers",
    "Cán bộ",
    "Officers",
    ("id",),
    (
        _id("Mã cán bộ", "cán bộ", "officer", "CB-0042"),
        Column(
            "name", "Họ và tên", TEXT, True, "Họ và tên cán bộ.", "Full name.", "Nguyễn Thị Lan"
        ),
        _ref("unit_id", "Mã đơn vị", "đơn vị", "unit", "DH"),
        Column(
            "title",
            "Chức danh",
            TEXT,
            False,
            "Có thể để trống.",
            "May be empty.",
            "Công chức Tư pháp",
        ),
        Column(
            "active",
            "Đang làm việc",
            YES_NO,
            False,
            "có hoặc không (yes/no, 1/0); để trống là có. không: cho nghỉ, giữ lịch sử.",
            "yes or no (có/không, 1/0); empty is yes. no: deactivated, history kept.",
            "có",
        ),
    ),
)

DEVICES = Sheet(
    "devices",
    "Thiết bị",
    "Devices",
    ("id",),
    (
        _id("Mã thiết bị", "thiết bị", "device", "dev-dh-q1"),
        _ref("counter_id", "Mã quầy", "quầy", "counter", "DH-Q1"),
    ),
)

ROTA = Sheet(
    "rota",
    "Lịch trực",
    "Rota",
    ("counter_id", "officer_id", "from"),
    (
        _ref("counter_id", "Mã quầy", "quầy", "counter", "DH-Q1"),
        _ref("officer_id", "Mã cán bộ", "cán bộ", "officer", "CB-0042"),
        Column(
            "from",
            "Từ ngày",
            DAY,
            True,
            "Ngày đầu tiên (giờ Việt Nam): ô ngày, YYYY-MM-DD hoặc DD/MM/YYYY.",
            "First day (Vietnam): a date cell, YYYY-MM-DD or DD/MM/YYYY.",
            "2026-12-01",
        ),
        Column(
            "to",
            "Đến ngày",
            DAY,
            False,
            "Ngày cuối cùng (tính cả ngày đó); để trống: không thời hạn.",
            "Last day (included); empty: open-ended.",
            "2026-12-31",
        ),
        Column(
            "days",
            "Các thứ",
            WEEKDAYS,
            False,
            "T2 T3 T4 T5 T6 T7 CN (hoặc mon … sun); để trống: mọi ngày.",
            "T2 … CN or mon … sun; empty: every day.",
            "",
        ),
        Column(
            "every",
            "Lặp lại mỗi",
            NUMBER,
            False,
            "Mỗi N tuần (khi có các thứ) hoặc N ngày (khi không); để trống là 1. "
            "Hai cán bộ trực xen kẽ ngày: 2, ngày bắt đầu cách nhau một ngày.",
            "Every N weeks (with days) or N days (without); empty is 1. "
            "Two officers on alternate days: 2, with from one day apart.",
            "2",
        ),
        Column(
            "start",
            "Giờ bắt đầu",
            TIME,
            False,
            "HH:MM giờ Việt Nam; để trống: 00:00.",
            "HH:MM Vietnam time; empty: 00:00.",
            "07:30",
        ),
        Column(
            "end",
            "Giờ kết thúc",
            TIME,
            False,
            "HH:MM, sau giờ bắt đầu; để trống: 24:00 (hết ngày).",
            "HH:MM, after start; empty: 24:00 (end of day).",
            "17:00",
        ),
    ),
)

# In the order they are applied: a row may refer to ids of the sheets before it.
SHEETS: dict[str, Sheet] = {s.id: s for s in (UNITS, FIELDS, COUNTERS, OFFICERS, DEVICES, ROTA)}
HELP_SHEET = "huong_dan"  # the template's explanation of each column; ignored on import
EXAMPLE_SHEET = "vi_du"  # the template's example rows; ignored on import
IGNORED_SHEETS = (HELP_SHEET, EXAMPLE_SHEET)
