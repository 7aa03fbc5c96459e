"""Lịch trực: who is on duty at a counter, day by day for a month, and the rota rows behind it.

The calendar shows the resolved shifts (server.registry.roster), so one-off assignments and
absences show as the server attributes ratings, each marked with where it came from. An admin
edits a rota row in the table (to, days, every, start, end), deletes it once they confirm, or
adds one with the form, and keeps leave and holidays in the card below (dashboard/absences.py);
a unit head reads their own unit. Every write goes through the registry's own service
and rules, is audited as the API's is, and asks the ingest to refresh the units' Configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html

from dashboard import absences, queries, rota_registry, rota_view, sources
from dashboard.absences import said, unreadable
from dashboard.components import bilingual, card, field, page_title, refused_page
from dashboard.registry_view import Outcome
from server.access.roles import ADMINISTER, REGISTRY_SCREENS, Access
from server.storage.schedule import VI_WEEKDAYS

PAGE = {
    "path": "/rota",
    "name": "Lịch trực",
    "name_en": "Rota",
    "title": "Lịch trực · Hài Lòng",
    "order": 15,
    "group": "registry",
    "roles": REGISTRY_SCREENS,
}

UNIT = "rota-unit"
COUNTER = "rota-counter"
MONTH = "rota-month"
MONTH_LABEL = "rota-month-label"
PREV = "rota-prev"
NEXT = "rota-next"
CALENDAR = "rota-calendar"
TABLE = "rota-table"
TABLE_MESSAGE = "rota-table-message"
EDITED = "rota-edited"
OFFICER = "rota-officer"
FROM = "rota-from"
TO = "rota-to"
DAYS = "rota-days"
EVERY = "rota-every"
START = "rota-start"
END = "rota-end"
ADD = "rota-add"
FORM_MESSAGE = "rota-form-message"
ADDED = "rota-added"
ROW_CONFIRM = "rota-row-confirm"
ROW_PENDING = "rota-row-pending"
ROW_DELETED = "rota-row-deleted"
ROW_DELETE = "rota-row-delete"
HINT = (
    "Bấm đúp vào một ô để sửa; muốn xoá, chọn dòng rồi bấm nút Xoá.",
    "Double-click a cell to edit it; to delete, pick a row, then Delete.",
)


def may_write(access: Access) -> bool:
    return access.role in ADMINISTER


def layout(**_query: str) -> html.Div:
    access = sources.access()
    if access.role not in REGISTRY_SCREENS:
        return refused_page("Lịch trực", "Rota")
    src = sources.current()
    with src.session_factory() as session:
        units = queries.visible_units(session, access)
    unit = next(iter(units), None)
    month = rota_view.month_key(src.today().replace(day=1))
    writable = may_write(access)
    return html.Div(
        [
            page_title("Lịch trực", "Rota"),
            html.Div(
                [
                    field(
                        "Đơn vị",
                        "Unit",
                        dcc.Dropdown(
                            id=UNIT,
                            options=[{"label": n, "value": u} for u, n in units.items()],
                            value=unit,
                            clearable=False,
                            className="unit-select",
                        ),
                    ),
                    field(
                        "Quầy",
                        "Counter",
                        dcc.Dropdown(id=COUNTER, clearable=False, className="unit-select"),
                    ),
                    field(
                        "Tháng",
                        "Month",
                        html.Div(
                            [
                                _step("‹", PREV, "Tháng trước · Previous month"),
                                html.Span(id=MONTH_LABEL, className="month-label"),
                                _step("›", NEXT, "Tháng sau · Next month"),
                            ],
                            className="month-nav",
                        ),
                    ),
                ],
                className="controls",
            ),
            card(
                "Ai trực từng ngày",
                "Who is on duty each day",
                _legend(),
                html.Div(id=CALENDAR, className="scroll-box"),
            ),
            card(
                "Các dòng lịch trực",
                "Rota rows",
                *(
                    [
                        html.P(
                            bilingual(*HINT),
                            className="form-hint",
                        )
                    ]
                    if writable
                    else []
                ),
                absences.picked_grid(TABLE, rota_view.rota_columns(writable), writable),
                *(
                    [
                        absences.delete_button(
                            ROW_DELETE, "Xoá dòng lịch trực đã chọn", "Delete the selected row"
                        )
                    ]
                    if writable
                    else []
                ),
                html.Div(id=TABLE_MESSAGE, className="form-message"),
                html.Div(id=ROW_DELETED, className="form-message"),
                dcc.ConfirmDialog(id=ROW_CONFIRM),
                dcc.Store(id=ROW_PENDING, data=[]),
            ),
            *([_form()] if writable else []),
            absences.section(writable),
            dcc.Store(id=MONTH, data=month),
            dcc.Store(id=EDITED, data=0),
            dcc.Store(id=ADDED, data=0),
        ]
    )


def _step(arrow: str, element_id: str, title: str) -> html.Button:
    return html.Button(arrow, id=element_id, className="button", title=title)


def _legend() -> html.Div:
    return html.Div(
        [
            html.Span(bilingual(vi, en), className=f"rota-entry {source}")
            for source, (vi, en) in rota_view.SOURCES.items()
        ],
        className="rota-legend",
    )


def _text(element_id: str, placeholder: str) -> dcc.Input:
    return dcc.Input(
        id=element_id, type="text", placeholder=placeholder, className="period-input short-input"
    )


def _form() -> html.Section:
    return card(
        "Thêm dòng lịch trực",
        "Add a rota row",
        html.Div(
            [
                field("Cán bộ", "Officer", dcc.Dropdown(id=OFFICER, className="unit-select")),
                field("Từ ngày", "From", _text(FROM, "2026-12-01")),
                field(
                    "Đến ngày (trống: không hết hạn)",
                    "To (empty: open-ended)",
                    _text(TO, "2026-12-31"),
                ),
                field(
                    "Các thứ (trống: mọi ngày)",
                    "Days (none: every day)",
                    dcc.Checklist(
                        id=DAYS,
                        options=rota_view.DAY_OPTIONS,
                        value=[],
                        inline=True,
                        className="segmented",
                    ),
                ),
                field(
                    "Lặp mỗi (tuần / ngày)",
                    "Every (weeks / days)",
                    dcc.Input(
                        id=EVERY,
                        type="number",
                        min=1,
                        max=52,
                        value=1,
                        className="period-input short-input",
                    ),
                ),
                field("Bắt đầu", "Start", _text(START, "07:30")),
                field("Kết thúc", "End", _text(END, "17:00")),
                html.Button(bilingual("Thêm", "Add"), id=ADD, className="button primary"),
            ],
            className="controls form-grid",
        ),
        html.Div(id=FORM_MESSAGE, className="form-message"),
    )


def draw(
    src: sources.Sources, access: Access, counter_id: str | None, month: str | None
) -> tuple[Any, str, list[dict[str, Any]]]:
    """The calendar, the month's title and the rota records of one counter."""
    first = rota_view.month_of(month, src.today())
    if not counter_id:
        return _no_counter(), rota_view.month_title(first), []
    month_data = rota_registry.month(src, access, counter_id, first)
    return (
        calendar_table(rota_view.month_weeks(first, month_data.shifts, month_data.names)),
        rota_view.month_title(first),
        rota_view.rota_records(month_data.rows, month_data.names),
    )


def _no_counter() -> html.Div:
    return html.Div(bilingual("Chọn một quầy", "Choose a counter"), className="empty-state")


def calendar_table(weeks: list[list[rota_view.Day | None]]) -> html.Table:
    head = html.Tr([html.Th(day) for day in VI_WEEKDAYS])
    body = [html.Tr([_cell(day) for day in week]) for week in weeks]
    return html.Table([html.Thead(head), html.Tbody(body)], className="rota-calendar")


def _cell(day: rota_view.Day | None) -> html.Td:
    if day is None:
        return html.Td(className="outside")
    entries = [
        html.Div(
            rota_view.entry_text(e),
            className=f"rota-entry {e.source}",
            title=" · ".join(rota_view.SOURCES.get(e.source, (e.source, e.source))),
        )
        for e in day.entries
    ]
    return html.Td(
        [html.Div(str(day.day.day), className="day-number"), *entries],
        id=f"rota-day-{day.day.isoformat()}",
    )


def register_callbacks(app: Dash) -> None:
    @app.callback(Output(COUNTER, "options"), Output(COUNTER, "value"), Input(UNIT, "value"))
    def counters(unit: str | None) -> tuple[list[dict[str, str]], str | None]:
        src, access = sources.current(), sources.access()
        with src.session_factory() as session:
            found = rota_registry.counter_options(session, access, unit)
        return found, (found[0]["value"] if found else None)

    @app.callback(Output(OFFICER, "options"), Input(COUNTER, "value"))
    def officers(counter_id: str | None) -> list[dict[str, str]]:
        src, access = sources.current(), sources.access()
        if not counter_id:
            return []
        with src.session_factory() as session:
            unit_id = rota_registry.counter_of(session, access, counter_id).unit_id
            names = rota_registry.officer_names(session, unit_id)
        return [{"label": f"{n} ({o})", "value": o} for o, n in names.items()]

    @app.callback(
        Output(MONTH, "data"),
        Input(PREV, "n_clicks"),
        Input(NEXT, "n_clicks"),
        State(MONTH, "data"),
        prevent_initial_call=True,
    )
    def move(_prev: int | None, _next: int | None, month: str | None) -> str:
        first = rota_view.month_of(month, sources.current().today())
        return rota_view.month_key(
            rota_view.step_month(first, -1 if ctx.triggered_id == PREV else 1)
        )

    @app.callback(
        Output(CALENDAR, "children"),
        Output(MONTH_LABEL, "children"),
        Output(TABLE, "rowData"),
        Input(COUNTER, "value"),
        Input(MONTH, "data"),
        Input(EDITED, "data"),
        Input(ADDED, "data"),
        Input(absences.SAVED, "data"),
    )
    def redraw(
        counter_id: str | None, month: str | None, *_changed: int
    ) -> tuple[Any, str, list[dict[str, Any]]]:
        return draw(sources.current(), sources.access(), counter_id, month)

    @app.callback(
        Output(FORM_MESSAGE, "children"),
        Output(ADDED, "data"),
        Input(ADD, "n_clicks"),
        State(COUNTER, "value"),
        State(OFFICER, "value"),
        State(FROM, "value"),
        State(TO, "value"),
        State(DAYS, "value"),
        State(EVERY, "value"),
        State(START, "value"),
        State(END, "value"),
        State(ADDED, "data"),
        prevent_initial_call=True,
    )
    def add(_n: int | None, counter_id: str | None, officer_id: str | None, *rest: Any) -> Any:
        *fields, added = rest
        src, access = sources.current(), sources.access()
        return absences.form_write(
            lambda: rota_view.form_to_create(counter_id, officer_id, *fields),
            lambda data: rota_registry.put(src, access, data),
            added,
        )

    @app.callback(
        Output(TABLE_MESSAGE, "children"),
        Output(EDITED, "data"),
        Input(TABLE, "cellValueChanged"),
        State(EDITED, "data"),
        prevent_initial_call=True,
    )
    def edit(changes: Any, edited: int | None) -> Any:
        # redrawn whatever happened, so a refused edit shows the row as it is stored
        changed = rota_view.edited_rows(changes)
        return (said(table_edit(changed)) if changed else "", (edited or 0) + 1)

    absences.ask_before_delete(app, TABLE, ROW_DELETE, ROW_CONFIRM, ROW_PENDING, _question)
    absences.confirmed_delete(
        app, ROW_CONFIRM, ROW_PENDING, ROW_DELETED, EDITED, rota_registry.delete
    )
    absences.register(app, UNIT, MONTH)


def _question(picked: list[Mapping[str, Any]] | Any) -> str:
    question = "Xoá dòng lịch trực này, cả các ca đã qua? Delete this rota row, past shifts "
    return question + "included?\n" + "; ".join(f"{r['officer']} {r['from']}" for r in picked)


def table_edit(changed: list[Mapping[str, Any]]) -> Outcome:
    """Write the rows the user changed in the table, one by one, up to the first refusal."""
    src, access = sources.current(), sources.access()
    done: list[str] = []
    for record in changed:
        try:
            row = rota_view.record_to_create(record)
        except ValueError as exc:
            return unreadable(exc)
        outcome = rota_registry.put(src, access, row)
        if not outcome.ok:
            return outcome
        done.append(outcome.text)
    return Outcome(True, "; ".join(done))
