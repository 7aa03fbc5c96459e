"""The review's results grid: report rows as ag-grid records and columns, each column's one-sentence
explanation, and the link from a row to its officer's or unit's page.

Pure functions of the API's JSON rows (server/reporting/report_json.py): the numbers are the
report's, only laid out here. A figure's cell holds the number, so the grid sorts by it (100 %
after 90 %), and shows the Vietnamese text made here beside it (`<field>_text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from dashboard.components import column
from dashboard.tables import flags_text, format_count, format_pct, format_unit
from server.reporting.channel_labels import summary as channels_text
from server.reporting.periods import Period
from server.reporting.report_json import ID_KEYS, Scope
from server.reporting.scoring import NOT_ENOUGH_DATA_VI
from server.reporting.vietnamese import NO_VALUE
from server.reporting.vietnamese import decimal as format_decimal
from server.reporting.vietnamese import signed as format_change

NOT_OVER_RANK = "Chưa xếp hạng (kỳ chưa kết thúc)"
NOT_OVER_CLASS = "Chưa gợi ý (kỳ chưa kết thúc)"
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>])")

# One plain sentence per column, Vietnamese then English, shown under the grid (a tap opens it).
EXPLAIN: dict[str, tuple[str, str]] = {
    "unit": (
        "Đơn vị nơi người dân được phục vụ và đánh giá.",
        "The unit where citizens were served and gave their ratings.",
    ),
    "ratings": (
        "Số lượt người dân bấm đánh giá trong kỳ, không kể các đánh giá không tính.",
        "How many ratings citizens gave in the period, less those not counted.",
    ),
    "dissatisfied": (
        "Số lượt chọn mức thấp nhất, «Không hài lòng».",
        "How many ratings were at the lowest level, Dissatisfied.",
    ),
    "satisfied_pct": (
        "Phần trăm lượt đánh giá ở mức «Hài lòng» hoặc «Rất hài lòng».",
        "The share of ratings at Satisfied or Very satisfied.",
    ),
    "certain": (
        "Với số lượt đánh giá này, tỷ lệ hài lòng thực gần như chắc chắn (95 %) nằm trong "
        "khoảng này; càng ít đánh giá thì khoảng càng rộng.",
        "With this many ratings the true share is, with 95 % confidence, within this range; "
        "fewer ratings give a wider range.",
    ),
    "happy_index": (
        "Điểm trung bình quy về thang 0–100: «Không hài lòng» là 0, «Rất hài lòng» là 100.",
        "The average rating on a 0-100 scale: Dissatisfied is 0, Very satisfied 100.",
    ),
    "change": (
        "Tỷ lệ hài lòng tăng (+) hay giảm (−) bao nhiêu điểm phần trăm so với kỳ ghi ở tiêu "
        "đề cột.",
        "How many percentage points the satisfied share rose or fell against the period named.",
    ),
    "rank": (
        "Thứ tự theo cận dưới của khoảng chắc chắn, chỉ giữa những người có đủ số lượt đánh giá "
        "tối thiểu.",
        "Order by the low end of the range above, among those with enough ratings only.",
    ),
    "response_rate": (
        "Phần trăm lượt phục vụ (theo hệ thống xếp hàng) có người dân đánh giá; «—» khi không "
        "có số liệu phục vụ.",
        "The share of services (from the queue system) that citizens rated; - when no services "
        "are known.",
    ),
    "channels": (
        "Số đánh giá được tính theo từng kênh: nút bấm, màn hình cảm ứng, bàn phím tại quầy, "
        "điện thoại (mã QR) và phiếu giấy.",
        "The counted ratings by channel: buttons, touchscreen or keypad at the counter, a phone "
        "(QR link) and paper forms.",
    ),
    "flagged": (
        "Đánh giá có dấu hiệu bất thường (bấm liên tiếp, giờ thiết bị sai…) nên không đưa vào "
        "các con số, trừ khi chọn «Tính cả».",
        "Ratings with signs of misuse (rapid presses, a wrong clock…), left out of the figures "
        "unless included.",
    ),
    "flags": (
        "Các loại dấu hiệu bất thường đã gặp và số lượt của mỗi loại.",
        "Which signs of misuse occurred, and how often.",
    ),
    "suggestion": (
        "Mức xếp loại mà chính sách gợi ý từ các con số của kỳ, kèm căn cứ là quy tắc đã áp "
        "dụng; người xem xét quyết định.",
        "The class the policy suggests from the period's figures, with the rule that gave it; "
        "the reviewer decides.",
    ),
}

NAME_HEADERS: dict[str, tuple[str, str]] = {
    "officer": ("Cán bộ", "Officer"),
    "counter": ("Quầy", "Counter"),
    "field": ("Lĩnh vực", "Field"),
    "unit": ("Đơn vị", "Unit"),
}
PAGE_OF: dict[str, str] = {"officer": "officer", "unit": "unit"}  # scopes with a page of their own


def page_href(scope: Scope, row_id: str, period: Period, prefix: str = "/dashboard") -> str | None:
    """The officer's or unit's own page for the same period; None for counters and fields."""
    if scope not in PAGE_OF or not row_id:
        return None
    query = urlencode({"period": period.text})
    return f"{prefix}/{PAGE_OF[scope]}/{quote(row_id, safe='')}?{query}"


def _escape(text: str) -> str:
    """`text` as markdown that shows it as written."""
    return _MARKDOWN.sub(r"\\\1", text)


def _name(scope: Scope, text: str, href: str | None) -> str:
    """The name cell: markdown (a link when there is a page to open) where the column renders
    markdown, else the name as it is."""
    if scope not in PAGE_OF:
        return text
    escaped = _escape(text)
    return f"[{escaped}]({href})" if href else escaped


def dissatisfied(row: Mapping[str, Any]) -> int:
    """Ratings at level 1, "Không hài lòng", on every scale."""
    counts: Mapping[str, Mapping[str, int]] = row["counts"]
    return sum(levels.get("1", 0) for levels in counts.values())


def rank_order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows by rank, as the printed report lists them; the unranked after, in the report's
    order (by unit, then name)."""
    ranked = sorted((r for r in rows if r["rank"] is not None), key=lambda r: r["rank"])
    return [*ranked, *(r for r in rows if r["rank"] is None)]


def certain_text(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return NO_VALUE
    return f"{format_decimal(low)} – {format_pct(high)}"


def records(
    rows: Sequence[Mapping[str, Any]],
    scope: Scope,
    units: Mapping[str, str],
    period: Period,
    *,
    settled: bool = True,
    prefix: str | None = "/dashboard",
) -> list[dict[str, Any]]:
    """One grid record per report row, in the rows' order. `settled` False (a period not over)
    leaves ranks and classes out. Names link to their pages under `prefix` (the dashboard's
    mount; None: no links). `id` names the row; a viewer's officer rows carry none."""
    out = []
    for row in rows:
        row_id = row.get(ID_KEYS[scope])
        record: dict[str, Any] = {
            "name": _name(
                scope,
                row.get("name") or NO_VALUE,
                page_href(scope, row_id, period, prefix) if row_id and prefix else None,
            ),
            "unit": format_unit(row, units),
            "ratings": row["ratings"],
            "ratings_text": format_count(row["ratings"]),
            "dissatisfied": dissatisfied(row),
            "dissatisfied_text": format_count(dissatisfied(row)),
            "satisfied_pct": row["satisfied_pct"],
            "satisfied_pct_text": format_pct(row["satisfied_pct"]),
            "certain": row["wilson_low"],
            "certain_text": certain_text(row["wilson_low"], row["wilson_high"]),
            "happy_index": row["happy_index"],
            "happy_index_text": format_decimal(row["happy_index"]),
            "response_rate": row["response_rate"],
            "response_rate_text": format_pct(row["response_rate"]),
            "channels": channels_text(row.get("channels")),
            "change": row["change_satisfied_pct"],
            "change_text": format_change(row["change_satisfied_pct"]),
            "rank": row["rank"] if settled else None,
            "rank_text": _rank_text(row, settled),
            "flagged": row["flagged"],
            "flagged_text": format_count(row["flagged"]),
            "flags": flags_text(row["flags"]),
        }
        if row_id is not None:
            record["id"] = row_id
        if scope == "officer":
            found = row.get("classification") if settled else None
            record["classification"] = found["label_vi"] if found else _no_class(row, settled)
            record["rule"] = rule_words(found) if found else NO_VALUE
            record["suggestion"] = _suggestion(record["classification"], record["rule"], found)
        out.append(record)
    return out


def rule_words(found: Mapping[str, str]) -> str:
    """The matched rule's conditions, as the grid prints them beside the class: without the
    class's name in front or the policy's version after (the rules' list under the grid names
    it). "Hoàn thành nhiệm vụ: tỷ lệ ≥ 60 % (chính sách 2026-12)" -> "Tỷ lệ ≥ 60 %"."""
    words = found["rule"].removeprefix(f"{found['label_vi']}: ")
    words = re.sub(r" \(chính sách [^()]*\)$", "", words)
    return words[:1].upper() + words[1:]


def _suggestion(label: str, rule: str, found: Mapping[str, Any] | None) -> str:
    """The class in bold with its rule under it (markdown), so it is read, not hovered."""
    if not found:
        return _escape(label)
    return f"**{_escape(label)}**  \nCăn cứ: {_escape(rule)}"


def _rank_text(row: Mapping[str, Any], settled: bool) -> str:
    if row.get("suppressed"):  # a viewer's group of too few officers (reporting/privacy.py)
        return str(row["suppressed_vi"])
    if not settled:
        return NOT_OVER_RANK
    return str(row["rank"]) if row["ranked"] else NOT_ENOUGH_DATA_VI


def _no_class(row: Mapping[str, Any], settled: bool) -> str:
    if not settled:
        return NOT_OVER_CLASS
    return NOT_ENOUGH_DATA_VI if row["ratings"] and not row["ranked"] else NO_VALUE


# In order: what a reviewer reads first (the figures behind a class, the suggestion) comes
# before what explains the rest, so it shows without scrolling on a desktop.
HEADINGS: dict[str, tuple[str, str]] = {
    "unit": ("Đơn vị", "Unit"),
    "ratings": ("Số đánh giá", "Ratings"),
    "dissatisfied": ("Không hài lòng", "Dissatisfied"),
    "satisfied_pct": ("Tỷ lệ hài lòng", "Satisfied"),
    "certain": ("Chắc chắn trong khoảng", "95 % range"),
    "change": ("So với kỳ trước", "Change"),
    "rank": ("Xếp hạng", "Rank"),
    "suggestion": ("Gợi ý xếp loại", "Suggested class"),
    "happy_index": ("Chỉ số hài lòng (0–100)", "Happy index"),
    "response_rate": ("Tỷ lệ tham gia đánh giá", "Response rate"),
    "channels": ("Kênh", "Channels"),
    "flagged": ("Đánh giá không tính", "Not counted"),
    "flags": ("Dấu hiệu bất thường", "Signs of misuse"),
}
_TEXT = {"unit", "flags", "suggestion", "channels"}
_WIDTH = {"unit": 150, "certain": 140, "change": 130, "rank": 110, "flagged": 110, "flags": 140}
_WIDTH |= {"suggestion": 240, "channels": 150, "response_rate": 110}
_WRAPPED = {"unit", "rank", "flags", "suggestion", "channels"}


def fields(scope: Scope) -> list[str]:
    """The columns of `scope`'s grid after the name, in order."""
    shown = [f for f in HEADINGS if f not in ("unit", "suggestion")]
    if scope in ("officer", "counter"):
        shown.insert(0, "unit")
    if scope == "officer":
        shown.insert(shown.index("rank") + 1, "suggestion")
    return shown


def _column(field: str, vi: str, en: str) -> dict[str, Any]:
    options: dict[str, Any] = {"minWidth": _WIDTH.get(field, 88)}
    if field in _WRAPPED:
        options |= {"wrapText": True, "autoHeight": True}
    if field == "suggestion":
        options["cellRenderer"] = "markdown"
    if field not in _TEXT:  # a number, shown as the text made for it
        options |= {
            "type": "rightAligned",
            "valueFormatter": {"function": f"params.data.{field}_text"},
        }
    return column(field, vi, en, **options)


def columns(scope: Scope, compared: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """The grid's columns for `scope`; the change column is headed with what it compares with
    (`compared`, vi and en, e.g. "So với tháng 10/2026")."""
    name_vi, name_en = NAME_HEADERS[scope]
    name = column("name", name_vi, name_en, pinned="left", minWidth=150)
    if scope in PAGE_OF:
        name["cellRenderer"] = "markdown"
    out = [name]
    for field in fields(scope):
        vi, en = HEADINGS[field]
        if field == "change" and compared is not None:
            vi, en = compared
        if field == "change":
            vi, en = f"{vi} (điểm %)", f"{en} (pp)"
        out.append(_column(field, vi, en))
    return out


def explained_columns(scope: Scope) -> list[tuple[str, str, str]]:
    """(heading, sentence vi, sentence en) for each explained column of `scope`, in order."""
    return [(HEADINGS[f][0], *EXPLAIN[f]) for f in fields(scope) if f in EXPLAIN]
