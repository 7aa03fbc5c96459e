"""Mức độ hài lòng: the monthly review. A report of officers, counters, fields or units for a
period (the last complete month unless the URL names another), as the API gives it to the
logged-in user, with satisfaction over time, the reasons given and, below the results, the
alerts for those who act on them.

This module is the page's layout and the wiring of its callbacks. The pieces of layout are
dashboard/review_controls.py's; the callbacks' bodies are `review_period.navigate` (the period
controls), `report_view.view` (the report) and `report_view.search` (the URL that reopens it).
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Input, Output, ctx, dcc, get_relative_path, html, no_update

from dashboard import alerts_panel, captions, figures, queries, report_view, review_period, sources
from dashboard.components import bilingual, card, empty_state, grid, page_title
from dashboard.review_controls import (
    CAPTION,
    CHART,
    COLUMN_HELP,
    EMPTY,
    EXPORT_CSV,
    EXPORT_XLSX,
    FLAGGED,
    INCLUDE_FLAGGED,
    KPI_CONFIDENCE,
    KPI_DISSATISFIED,
    KPI_FLAGGED,
    KPI_HAPPY,
    KPI_RATINGS,
    KPI_SATISFIED,
    MONTH,
    MONTHLY,
    NEXT,
    NOTICE,
    PDF,
    PERIOD,
    PERIOD_ERROR,
    PERIOD_KIND,
    PREVIOUS,
    REASONS,
    RULES,
    SCOPE,
    TABLE,
    TABLE_BOX,
    UNIT,
    URL,
    column_help,
    filters,
    kpis,
    links,
    period_controls,
)
from dashboard.review_grid import columns as grid_columns
from server.reporting.report_json import Scope

PAGE = {
    "path": "/",
    "name": "Mức độ hài lòng",
    "name_en": "Satisfaction",
    "title": "Mức độ hài lòng · Hài Lòng",
    "order": 0,
}

# --- layout ---------------------------------------------------------------------------------


def layout(
    period: str | None = None,
    scope: str | None = None,
    unit: str | None = None,
    flagged: str | None = None,
    **_other: str,
) -> html.Div:
    """The page for the logged-in user. The URL may preset the controls, e.g.
    ?period=2026-10&scope=counter&unit=DH&flagged=1 (the page writes it as they change); what
    the user may not see is ignored."""
    src = sources.current()
    access = sources.access()
    today = src.today()
    try:
        chosen = review_period.read_period(period, today)
    except ValueError:
        chosen = review_period.last_complete_month(today)
    with src.session_factory() as session:
        units = queries.visible_units(session, access)
    shown_scopes = queries.scopes(access)
    first_scope = scope if scope in shown_scopes else shown_scopes[0]
    unit_options = [{"label": name, "value": unit_id} for unit_id, name in units.items()]
    if access.unit_scope(None) is None:
        every = {"label": "Tất cả đơn vị (all units)", "value": report_view.ALL_UNITS}
        unit_options.insert(0, every)
    alerts = queries.may_see_alerts(access)
    fixed = access.unit_scope(None) is not None
    return html.Div(
        [
            dcc.Location(id=URL, refresh=False),
            page_title("Mức độ hài lòng", "Citizen satisfaction"),
            html.Div(
                [
                    period_controls(chosen, today),
                    *filters(shown_scopes, scope, unit_options, unit, fixed, flagged == "1"),
                ],
                className="controls",
            ),
            html.Div(id=NOTICE, className="notice", role="status", hidden=True),
            html.Div(id=CAPTION, className="caption"),
            kpis(),
            card(
                "Kết quả và gợi ý xếp loại",
                "Results and suggested classes",
                html.Div(
                    [
                        html.P(
                            bilingual(
                                "Vuốt ngang trong bảng để xem các cột khác; cột tên luôn nằm ở "
                                "bên trái.",
                                "Swipe sideways inside the table for the other columns.",
                            ),
                            className="note phone-only",
                        ),
                        grid(
                            TABLE,
                            grid_columns(first_scope),
                            row_id="id",
                            # every column in the page, so a phone's search finds it too
                            dashGridOptions={"suppressColumnVirtualisation": True},
                        ),
                        html.Div(column_help(first_scope), id=COLUMN_HELP, className="column-help"),
                        _rules(src.policy),
                    ],
                    id=TABLE_BOX,
                ),
                empty_state(EMPTY),
                links(),
            ),
            *([alerts_panel.panel()] if alerts else []),
            html.Div(
                [
                    card("Diễn biến theo ngày", "Daily trend", _graph(CHART)),
                    card("Lý do chưa hài lòng", "Reasons given", _graph(REASONS)),
                ],
                className="charts",
            ),
        ]
    )


def _rules(policy: Any) -> html.Div:
    """The policy's rules in full, under the grid: the class is a suggestion, and how it was
    reached is printed, not left to a hover."""
    return html.Div(
        [
            html.P(
                bilingual(
                    "Cột «Gợi ý xếp loại» chỉ là gợi ý để người xem xét cân nhắc, theo chính "
                    f"sách {policy.version}, kèm căn cứ là quy tắc đã áp dụng. Các quy tắc được "
                    "xét lần lượt; quy tắc đầu tiên thỏa mãn được áp dụng:",
                    "The class is a suggestion for the reviewer; the rule applied is printed "
                    "beside it. Rules are tried in order; the first one met applies:",
                ),
                className="note",
            ),
            html.Ol([html.Li(rule) for rule in captions.policy_rules(policy)]),
        ],
        id=RULES,
        className="rules",
        hidden=True,
    )


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(
        id=graph_id,
        figure=figures.empty_figure(),
        config={"displaylogo": False, "responsive": True},
        style={"height": f"{figures.CHART_HEIGHT}px"},  # "responsive" fills the parent's height
    )


# --- callbacks ------------------------------------------------------------------------------

_MOVES = {PREVIOUS: "previous", NEXT: "next", PERIOD_KIND: "kind", MONTH: "month"}


def register_callbacks(app: Dash) -> None:
    @app.callback(
        Output(PERIOD, "value"),
        Output(PERIOD_KIND, "value"),
        Output(MONTH, "value"),
        Output(NEXT, "disabled"),
        Input(PREVIOUS, "n_clicks"),
        Input(NEXT, "n_clicks"),
        Input(PERIOD_KIND, "value"),
        Input(MONTH, "value"),
        Input(PERIOD, "value"),
        prevent_initial_call=True,
    )
    def move_period(
        _previous: int, _next: int, kind: str | None, month: str | None, text: str | None
    ) -> tuple[Any, ...]:
        """The arrows step by the period's kind, the kinds and the month picker rewrite the
        box, and a period typed in the box sets the kind and the picker."""
        move = _MOVES.get(str(ctx.triggered_id), "typed")
        try:
            moved = review_period.navigate(move, text, kind, month, sources.current().today())
        except ValueError:
            return no_update, no_update, no_update, no_update  # the report says what is wrong
        return (moved.text if moved.text != text else no_update, *moved[1:])

    @app.callback(
        *(
            Output(component, prop)
            for component, prop in (
                (PERIOD_ERROR, "children"),
                (NOTICE, "children"),
                (NOTICE, "hidden"),
                (CAPTION, "children"),
                (KPI_RATINGS, "children"),
                (KPI_SATISFIED, "children"),
                (KPI_CONFIDENCE, "children"),
                (KPI_HAPPY, "children"),
                (KPI_DISSATISFIED, "children"),
                (KPI_FLAGGED, "children"),
                (CHART, "figure"),
                (REASONS, "figure"),
                (TABLE, "rowData"),
                (TABLE, "columnDefs"),
                (TABLE_BOX, "hidden"),
                (EMPTY, "hidden"),
                (RULES, "hidden"),
                (EXPORT_CSV, "href"),
                (EXPORT_XLSX, "href"),
                (MONTHLY, "href"),
                (MONTHLY, "children"),
                (MONTHLY, "hidden"),
                (PDF, "href"),
            )
        ),
        Output(PDF, "hidden"),
        Output(URL, "search"),
        Input(PERIOD, "value"),
        Input(SCOPE, "value"),
        Input(UNIT, "value"),
        Input(FLAGGED, "value"),
    )
    def refresh(
        text: str | None, scope: Scope, unit: str | None, flagged: list[str] | None
    ) -> tuple[Any, ...]:
        """The report for the controls, and the URL that reopens it."""
        src = sources.current()
        try:
            period = review_period.read_period(text, src.today())
        except ValueError as exc:
            return (*report_view.unreadable(exc), no_update, no_update)
        include = INCLUDE_FLAGGED in (flagged or [])
        shown = report_view.view(
            src,
            sources.access(),
            period,
            scope,
            unit,
            include,
            sources.client(),
            get_relative_path("/").rstrip("/"),
        )
        url = report_view.search(period, scope, unit, include)
        return (*shown, shown.monthly_hidden, url)

    @app.callback(Output(COLUMN_HELP, "children"), Input(SCOPE, "value"))
    def explain_columns(scope: Scope) -> list[Any]:
        return column_help(scope)

    alerts_panel.register_callbacks(app, UNIT)
