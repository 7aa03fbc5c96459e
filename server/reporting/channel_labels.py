"""The words for a rating's channel (its `input`), once, for every place a person reads them: the
exports' column headers, the dashboard's "Kênh" column and its explanation.

The inputs themselves are server/storage/channels.py's `INPUTS`; a report row counts every one
of them (server/reporting/counts.py `channel_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from server.reporting.vietnamese import NO_VALUE, count
from server.storage.channels import INPUTS


@dataclass(frozen=True)
class Channel:
    input: str
    short_vi: str  # in a summary cell: "Nút 120 · Web 8 · Giấy 3"
    label_vi: str
    label_en: str


CHANNELS: tuple[Channel, ...] = (
    Channel("button", "Nút", "Nút bấm tại quầy", "Buttons at the counter"),
    Channel("touch", "Cảm ứng", "Màn hình cảm ứng tại quầy", "Touchscreen at the counter"),
    Channel("keyboard", "Phím", "Bàn phím tại quầy", "Keypad at the counter"),
    Channel("web", "Web", "Điện thoại (mã QR)", "Phone (QR link)"),
    Channel("paper", "Giấy", "Phiếu khảo sát giấy", "Paper survey form"),
)
BY_INPUT: dict[str, Channel] = {c.input: c for c in CHANNELS}
assert tuple(BY_INPUT) == INPUTS, "a label for every input of server/storage/channels.py"


def summary(channels: Mapping[str, int] | None) -> str:
    """A row's counted ratings by channel in one short line, the channels with none left out,
    in the inputs' order: {"button": 120, "web": 8, "paper": 3} → "Nút 120 · Web 8 · Giấy 3";
    "—" when there are none (or the row is hidden from a viewer)."""
    parts = [
        f"{BY_INPUT[name].short_vi if name in BY_INPUT else name} {count(n)}"
        for name, n in (channels or {}).items()
        if n
    ]
    return " · ".join(parts) or NO_VALUE
