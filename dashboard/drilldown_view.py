"""The drill-down pages' views: the period a URL names and its neighbours, and an officer's or a
unit's page laid out from server/reporting/drilldown.py's values (headline figures with their
explanations, the trend, the levels, reasons, hours, flags and the comparison).

Plain functions of the sources, the user and the URL's values, so they are tested against a real
database without a browser; the page modules (dashboard/pages/officer.py, unit.py, compare.py)
only name their paths and call these. A refusal or an unknown id is a sentence on the page, not
a server error.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol
from urllib.parse import urlencode

import dash
import plotly.graph_objects as go
from dash import dcc, html
from sqlmodel import Session

from dashboard import drilldown_figures as charts
from dashboard import figures, review_period, sources
from dashboard.components import bilingual, card, column, grid, page_title
from dashboard.explain import confidence_bar, explained
from dashboard.tables import format_count, format_decimal, format_pct
from hailong.errors import UnknownId
from server.access.roles import Access, Forbidden
from server.policy import Policy
from server.reporting.drilldown import Drilldown
from server.reporting.periods import FORMS, Period, period_of

FLAGGED = "1"  # ?flagged=1: count the ratings the policy leaves out, as the review's switch does
KINDS = (("month", "Tháng", "Month"), ("quarter", "Quý", "Quarter"), ("year", "Năm", "Year"))
HEATMAP = "dd-heatmap"
TREND = "dd-trend"
LEVELS = "dd-levels"
OFFICERS = "dd-officers"


def link_column(field: str, vi: str, en: str) -> dict[str, Any]:
    """A grid column of markdown links ([name](url)) that open in the same tab."""
    return column(field, vi, en, cellRenderer="markdown", linkTarget="_self", minWidth=160)


RATINGS_COLUMNS = [  # a grid row's figures, in the review's words
    column("ratings", "Số đánh giá", "Ratings"),
    column("satisfied_pct", "Tỷ lệ hài lòng", "Satisfied"),
    column("unsatisfied", "Không hài lòng", "Dissatisfied"),
    column("happy_index", "Chỉ số hài lòng", "Happy index"),
]
OFFICER_COLUMNS = [link_column("name", "Cán bộ", "Officer"), *RATINGS_COLUMNS]
WHY_SATISFIED = (
    "Phần trăm lượt đánh giá ở mức Hài lòng hoặc Rất hài lòng; thanh dưới cho biết con số "
    "này chắc chắn đến đâu với số lượt đã có."
)
WHY_HEATMAP = (
    "Mỗi ô là số lượt đánh giá trong một giờ của một thứ trong tuần, theo giờ Việt Nam; ô "
    "càng đậm càng nhiều."
)


# --- periods --------------------------------------------------------------------------------


def href(path: str, period: Period, include_flagged: bool, **more: str) -> str:
    """A drill-down URL inside the dashboard, keeping the period and the flagged switch."""
    params = {**more, "period": period.text}
    if include_flagged:
        params["flagged"] = FLAGGED
    return f"{dash.get_relative_path(path)}?{urlencode(params)}"


def period_nav(path: str, period: Period, today: date, include_flagged: bool) -> html.Nav:
    """Previous and next period, the period shown, the same page by month, quarter or year, and
    the switch for flagged ratings."""
    after = review_period.step(period, 1)
    links: list[Any] = [
        dcc.Link(
            f"‹ {period.previous().label_vi}",
            href=href(path, period.previous(), include_flagged),
            className="button",
        ),
        html.Strong(bilingual(period.label_vi, period.label_en), className="dd-period"),
    ]
    if after.start <= today:
        links.append(
            dcc.Link(
                f"{after.label_vi} ›", href=href(path, after, include_flagged), className="button"
            )
        )
    end = min(period.end, today)
    for kind, vi, en in KINDS:
        if kind != period.kind:
            links.append(
                dcc.Link(
                    bilingual(f"Cả {vi.lower()}", en),
                    href=href(path, period_of(kind, end), include_flagged),
                    className="button",
                )
            )
    flip = (
        ("Không tính đánh giá cần xem lại", "Leave flagged ratings out")
        if include_flagged
        else ("Tính cả đánh giá cần xem lại", "Count flagged ratings too")
    )
    links.append(
        dcc.Link(bilingual(*flip), href=href(path, period, not include_flagged), className="button")
    )
    return html.Nav(links, className="dd-nav")


def partial_banner(period: Period, today: date) -> html.Div | None:
    """A period still running says so: its figures are of the days so far, not the whole."""
    if period.end < today:
        return None
    return html.Div(
        bilingual(
            f"{period.label_vi} chưa kết thúc: số liệu tính đến hết ngày {today:%d/%m/%Y}.",
            f"{period.label_en} is not over: figures up to {today:%d/%m/%Y}.",
        ),
        className="dd-partial",
    )


# --- pieces -----------------------------------------------------------------------------------


def graph(graph_id: str, figure: go.Figure, height: int = figures.CHART_HEIGHT) -> dcc.Graph:
    return dcc.Graph(
        id=graph_id,
        figure=figure,
        config={"displaylogo": False, "responsive": True, "displayModeBar": False},
        style={"height": f"{height}px"},
    )


def _figure(
    label_vi: str, label_en: str, value: str, why: str, accent: str, *note: Any
) -> html.Div:
    return html.Div(
        [
            html.Div(explained(bilingual(label_vi, label_en), why), className="kpi-label"),
            html.Div(value, className="kpi-value"),
            *note,
        ],
        className="kpi",
        style={"borderTopColor": accent},
    )


def headline(dd: Drilldown) -> html.Div:
    """Ratings, satisfied % with how sure it is, how many said Không hài lòng, happy index."""
    f = dd.figures
    left_out = (
        []
        if dd.include_flagged or not f.flagged
        else [
            html.Div(
                f"{format_count(f.flagged)} đánh giá cần xem lại không được tính",
                className="kpi-note",
            )
        ]
    )
    return html.Div(
        [
            _figure(
                "Số đánh giá",
                "Ratings",
                format_count(f.ratings),
                "Số lượt người dân bấm đánh giá trong kỳ được tính vào kết quả.",
                figures.COUNT_COLOR,
                *left_out,
            ),
            _figure(
                "Tỷ lệ hài lòng",
                "Satisfied",
                format_pct(f.satisfied_pct),
                WHY_SATISFIED,
                figures.SATISFIED_COLOR,
                confidence_bar(f.wilson_low, f.wilson_high, f.satisfied_pct),
            ),
            _figure(
                "Không hài lòng",
                "Dissatisfied",
                format_count(f.unsatisfied),
                "Số lượt người dân chọn mức thấp nhất, Không hài lòng.",
                charts.LEVEL_COLORS[0],
                html.Div(format_pct(f.unsatisfied_pct), className="kpi-note"),
            ),
            _figure(
                "Chỉ số hài lòng (0–100)",
                "Happy index",
                format_decimal(f.happy_index),
                "Điểm bình quân quy về thang 0–100: Không hài lòng là 0, Rất hài lòng là 100.",
                figures.HAPPY_COLOR,
            ),
        ],
        className="kpis",
    )


def standing(dd: Drilldown) -> html.Div | None:
    """An officer's rank in their unit and the suggested class, with the rule that gave it."""
    if dd.kind != "officer" or not dd.row:
        return None
    rank = dd.row.get("rank")
    words = f"Thứ hạng trong đơn vị: {rank}" if rank else "Chưa đủ số đánh giá để xếp hạng"
    parts: list[Any] = [html.P(bilingual(words, f"Rank in unit: {rank or '—'}"))]
    classified = dd.row.get("classification")
    if classified:
        parts.append(
            html.P(
                [
                    html.Strong(f"Gợi ý xếp loại: {classified['label_vi']}"),
                    f" — theo quy tắc: {classified['rule']}",
                ]
            )
        )
    return html.Div(parts, className="dd-standing")


GRAIN_VI = {"day": "ngày", "week": "tuần", "month": "tháng"}


def _chart(title_vi: str, title_en: str, why: str, chart: dcc.Graph) -> html.Section:
    """A chart's card, with a one-sentence "how to read" that opens on a tap."""
    how = explained(bilingual("Cách đọc", "How to read"), why)
    return card(title_vi, title_en, html.Div(how, className="note"), chart)


def _comparison_words(dd: Drilldown) -> str:
    others = [side.label_vi for side in dd.comparison[1:]]
    if others:
        return f"Cùng kỳ, so với {' và '.join(others)}."
    if dd.kind == "officer":
        return "Cán bộ chỉ xem được kết quả của chính mình."
    return "Trưởng đơn vị chỉ xem được kết quả của đơn vị mình."


def body(dd: Drilldown, counted: tuple[str, ...]) -> list[Any]:
    """The page's cards below its title and period links."""
    each = GRAIN_VI[dd.series[0].grain] if dd.series else "ngày"
    reasons = {"reasons": dd.figures.reasons, "reason_counts": dd.figures.reason_counts}
    cards = [
        _chart(
            f"Diễn biến theo {each}",
            "Trend",
            f"Tỷ lệ hài lòng và chỉ số hài lòng của từng {each}, cột nhạt là số đánh giá; "
            "khoảng dài hơn một tháng được gộp theo tuần, dài hơn sáu tháng gộp theo tháng.",
            graph(TREND, charts.trend_figure(dd.series)),
        ),
        _chart(
            "Bốn mức đánh giá",
            "The four levels",
            f"Số lượt ở mỗi mức trong từng {each}, mức Không hài lòng ở dưới cùng.",
            graph(LEVELS, charts.levels_figure(dd.series)),
        ),
        _chart(
            "Giờ và ngày trong tuần",
            "Hour and weekday",
            WHY_HEATMAP,
            graph(HEATMAP, charts.heatmap_figure(dd.heatmap), 300),
        ),
        _chart(
            "Lý do chưa hài lòng",
            "Reasons given",
            "Các lý do người dân chọn sau khi đánh giá chưa hài lòng; một lượt có thể chọn "
            "nhiều lý do.",
            graph("dd-reasons", figures.reasons_figure(reasons), 300),
        ),
        _chart(
            "Đánh giá cần xem lại",
            "Flagged ratings",
            "Số lượt có dấu hiệu bất thường theo từng loại; loại ghi “không tính điểm” không "
            "được tính vào kết quả, trừ khi chọn tính cả.",
            graph("dd-flags", charts.flags_figure(dd.flags, counted), 300),
        ),
        _chart(
            "So sánh",
            "Comparison",
            _comparison_words(dd),
            graph("dd-compare", charts.comparison_figure(dd.comparison), 300),
        ),
    ]
    pairs = [html.Div(cards[i : i + 2], className="dd-charts") for i in range(0, len(cards), 2)]
    return [headline(dd), standing(dd), *pairs]


def officers_card(dd: Drilldown, include_flagged: bool) -> html.Section | None:
    """A unit's officers as the review lists them, each opening their own page."""
    if dd.kind != "unit" or not dd.officers:
        return None
    table = grid(OFFICERS, OFFICER_COLUMNS, row_id="id")
    table.rowData = [_officer_row(row, dd.period, include_flagged) for row in dd.officers]
    return card("Cán bộ của đơn vị", "The unit's officers", table)


def _officer_row(row: dict[str, Any], period: Period, include_flagged: bool) -> dict[str, Any]:
    link = href(f"/officer/{row['officer_id']}", period, include_flagged)
    dissatisfied = sum(levels.get("1", 0) for levels in row["counts"].values())
    return {
        "id": row["officer_id"],
        "name": f"[{row['name']}]({link})",
        "ratings": format_count(row["ratings"]),
        "satisfied_pct": format_pct(row["satisfied_pct"]),
        "unsatisfied": format_count(dissatisfied),
        "happy_index": format_decimal(row["happy_index"]),
    }


# --- pages ------------------------------------------------------------------------------------


def message(title: tuple[str, str], vi: str, en: str) -> html.Div:
    return html.Div(
        [page_title(*title), html.Div(bilingual(vi, en), className="empty-state dd-refused")]
    )


class Read(Protocol):
    """server/reporting/drilldown.py's `officer_drilldown` or `unit_drilldown`."""

    def __call__(
        self,
        session: Session,
        access: Access,
        entity_id: str,
        period: Period,
        policy: Policy,
        /,
        *,
        include_flagged: bool = False,
        client: str | None = None,
    ) -> Drilldown: ...


def page(
    title: tuple[str, str],
    path: str,
    read: Read,
    entity_id: str | None,
    period_text: str | None,
    flagged: str | None,
) -> html.Div:
    """`entity_id`'s drill-down page (`read` of it) for the logged-in user: its figures, or
    why there are none."""
    src = sources.current()
    access = sources.access()
    today = src.today()
    include = flagged == FLAGGED
    try:
        period = review_period.read_period(period_text, today)
    except ValueError as exc:
        return message(title, f"Không đọc được khoảng thời gian; hãy viết {FORMS}.", str(exc))
    try:
        with src.session_factory() as session:
            dd = read(
                session,
                access,
                entity_id or "",
                period,
                src.policy,
                include_flagged=include,
                client=sources.client(),
            )
            session.commit()  # the view's audit event
    except Forbidden as exc:
        return message(title, "Bạn không có quyền xem trang này.", str(exc))
    except UnknownId as exc:
        return message(title, "Không tìm thấy.", str(exc))
    heading = dd.name if dd.kind == "unit" else f"{dd.name} · {dd.unit_name}"
    return html.Div(
        [
            page_title(heading, title[1]),
            period_nav(path, period, today, include),
            partial_banner(period, today),
            *body(dd, src.policy.misuse.count),
            officers_card(dd, include),
        ],
        className="dd-page",
    )
