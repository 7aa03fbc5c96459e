"""The alerts panel of the review page: the latest alerts of the unit chosen there, for the roles
that act on them (SEE_ALERTS: admin, hr, a unit_head for their own unit), who acknowledge and
resolve them here.

A <details> whose title counts the alerts still open, closed when none is; each alert a card
(they wrap on a phone and never cut a message): when, the unit and counter by name, the message,
where it stands (mới / đã xem / đã xử lý, by whom and when), what became of its webhook, and the
buttons. Resolving asks for confirmation, with an optional note. The review page places `panel()`
below the results and passes its unit selector to `register_callbacks`; what the panel shows is
`view`, an answer is `answer`, both plain functions over server/alerts/ (listing, answers).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import ALL, MATCH, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import report_view, sources
from dashboard.components import bilingual, empty_state
from hailong.errors import UnknownId
from server.access.roles import SEE_ALERTS, Access, Forbidden
from server.alerts import answers, listing

REFRESH_MS = 60_000
LIMIT = 20  # the latest ones; the API lists more

PANEL = "alerts-panel"
TITLE = "alerts-title"
TABLE = "alerts-list"  # the cards
EMPTY = "alerts-empty"
REFRESH = "alerts-refresh"
ANSWERED = "alerts-answered"  # counts answers, so the list redraws after each
MESSAGE = "alerts-message"
# One of each per alert, as {"type": ..., "alert": id}
ACK = "alert-ack"
RESOLVE = "alert-resolve"  # opens the confirmation
FORM = "alert-resolve-form"
NOTE = "alert-note"
CONFIRM = "alert-confirm"
CANCEL = "alert-cancel"

STATE_EN = {"new": "New", "acknowledged": "Acknowledged", "resolved": "Resolved"}


def title(open_alerts: int | None) -> html.Span:
    if not open_alerts:
        return bilingual("Cảnh báo: không có cảnh báo chưa xử lý", "Alerts: none open")
    return bilingual(
        f"Cảnh báo: {open_alerts} chưa xử lý", f"Alerts: {open_alerts} open", "alerts-count"
    )


def panel() -> html.Details:
    return html.Details(
        [
            html.Summary(html.Span(title(None), id=TITLE), className="alerts-summary"),
            html.Div(id=MESSAGE, className="form-message", role="status"),
            html.Div(id=TABLE, className="alert-list"),
            empty_state(EMPTY, "Không có cảnh báo nào", "No alerts"),
            dcc.Interval(id=REFRESH, interval=REFRESH_MS),
            dcc.Store(id=ANSWERED, data=0),
        ],
        id=PANEL,
        open=False,
        className="card alerts-panel",
    )


def _button(kind: str, alert_id: int, vi: str, en: str, style: str = "") -> html.Button:
    return html.Button(
        bilingual(vi, en),
        id={"type": kind, "alert": alert_id},
        n_clicks=0,
        className=f"button {style}".strip(),
    )


def _actions(row: listing.AlertRow) -> list[Any]:
    """The buttons of an alert not yet resolved, and its (hidden) confirmation with a note."""
    if row.state == "resolved":
        return []
    buttons = [_button(RESOLVE, row.id, "Đã xử lý…", "Resolve…")]
    if row.state == "new":
        buttons.insert(0, _button(ACK, row.id, "Đánh dấu đã xem", "Acknowledge", "primary"))
    confirm = html.Div(
        [
            html.Label(
                [
                    bilingual("Ghi chú (không bắt buộc)", "Note (optional)"),
                    dcc.Textarea(
                        id={"type": NOTE, "alert": row.id},
                        maxLength=answers.NOTE_CHARS,
                        className="alert-note",
                        placeholder="Ví dụ: đã nhắc nhở cán bộ, đã sửa thiết bị",
                    ),
                ],
                className="alert-note-label",
            ),
            html.Div(
                [
                    _button(CONFIRM, row.id, "Xác nhận đã xử lý", "Confirm resolved", "primary"),
                    _button(CANCEL, row.id, "Huỷ", "Cancel"),
                ],
                className="alert-buttons",
            ),
        ],
        id={"type": FORM, "alert": row.id},
        className="alert-confirm",
        hidden=True,
    )
    return [html.Div(buttons, className="alert-buttons"), confirm]


def alert_card(row: listing.AlertRow) -> html.Article:
    where = row.unit if not row.counter else f"{row.unit} · {row.counter}"
    return html.Article(
        [
            html.Div(
                [
                    html.Span(row.time, className="alert-time", title="Giờ Việt Nam"),
                    html.Span(
                        bilingual(listing.STATE_VI[row.state], STATE_EN[row.state]),
                        className=f"alert-state {row.state}",
                    ),
                ],
                className="alert-head",
            ),
            html.Div(where, className="alert-where"),
            html.P(row.message, className="alert-message"),
            *([] if row.state == "new" else [html.Div(row.state_text, className="alert-answer")]),
            html.Div(f"Webhook: {row.delivery_text}", className="alert-delivery"),
            *_actions(row),
        ],
        className=f"alert-card {row.state}",
        id=f"alert-{row.id}",
    )


class PanelView(NamedTuple):
    cards: list[html.Article]
    title: html.Span
    empty_hidden: bool
    open: bool  # open when some alert is not resolved


def _unit_id(unit: str | None) -> str | None:
    return None if unit in (None, "", report_view.ALL_UNITS) else unit


def view(src: sources.Sources, access: Access, unit: str | None) -> PanelView:
    """The latest alerts of `unit` ("*": every unit this user sees) as cards."""
    if access.role not in SEE_ALERTS:
        return PanelView([], title(None), False, False)
    with src.session_factory() as session:
        rows = listing.visible(
            session, access, _unit_id(unit), limit=LIMIT, webhook=src.alert_webhook
        )
    still_open = listing.open_count(rows)
    return PanelView([alert_card(r) for r in rows], title(still_open), bool(rows), bool(still_open))


def answer(
    src: sources.Sources,
    access: Access,
    action: str,
    alert_id: int,
    note: str | None,
    client: str | None = None,
) -> tuple[str, bool]:
    """Acknowledge (`ACK`) or resolve (`CONFIRM`) an alert as the API does, audited; what to
    tell the user, and whether it was done."""
    with src.session_factory() as session:
        try:
            if action == ACK:
                answers.acknowledge(session, access, alert_id, client=client)
                done = "đã đánh dấu đã xem / acknowledged"
            else:
                answers.resolve(session, access, alert_id, note, client=client)
                done = "đã đánh dấu đã xử lý / resolved"
            session.commit()
        except (answers.AlreadyAnswered, UnknownId, Forbidden, ValueError) as exc:
            session.rollback()
            return str(exc), False
    return f"Cảnh báo số {alert_id}: {done}.", True


def register_callbacks(app: Dash, unit_selector: str) -> None:
    """Redraw the panel when the page's unit selector (`unit_selector`, its component id)
    changes, after each answer and every REFRESH_MS (unless a confirmation is open: the note
    being written would be lost); acknowledge and resolve from the cards' buttons."""

    @app.callback(
        Output(TABLE, "children"),
        Output(TITLE, "children"),
        Output(EMPTY, "hidden"),
        Output(PANEL, "open"),
        Input(unit_selector, "value"),
        Input(REFRESH, "n_intervals"),
        Input(ANSWERED, "data"),
        State({"type": FORM, "alert": ALL}, "hidden"),
    )
    def refresh_alerts(
        unit: str | None, _n: int | None, _answered: int, forms: list[bool]
    ) -> tuple[Any, ...]:
        if ctx.triggered_id == REFRESH and not all(forms):
            raise PreventUpdate
        shown = view(sources.current(), sources.access(), unit)
        keep = ctx.triggered_id in (REFRESH, ANSWERED)  # the user's open or closed stays
        return shown.cards, shown.title, shown.empty_hidden, no_update if keep else shown.open

    @app.callback(
        Output({"type": FORM, "alert": MATCH}, "hidden"),
        Input({"type": RESOLVE, "alert": MATCH}, "n_clicks"),
        Input({"type": CANCEL, "alert": MATCH}, "n_clicks"),
        prevent_initial_call=True,
    )
    def toggle_confirmation(_resolve: int, _cancel: int) -> bool:
        trigger = ctx.triggered_id
        return not isinstance(trigger, dict) or trigger["type"] == CANCEL

    @app.callback(
        Output(MESSAGE, "children"),
        Output(MESSAGE, "className"),
        Output(ANSWERED, "data"),
        Input({"type": ACK, "alert": ALL}, "n_clicks"),
        Input({"type": CONFIRM, "alert": ALL}, "n_clicks"),
        State({"type": NOTE, "alert": ALL}, "value"),
        State({"type": NOTE, "alert": ALL}, "id"),
        State(ANSWERED, "data"),
        prevent_initial_call=True,
    )
    def answer_alert(
        _acks: list[int],
        _confirms: list[int],
        notes: list[str | None],
        note_ids: list[dict[str, Any]],
        answered: int | None,
    ) -> tuple[str, str, int]:
        trigger = ctx.triggered_id
        # Cards drawn anew fire this with their buttons' n_clicks 0: nothing was pressed.
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        alert_id = int(trigger["alert"])
        note = {i["alert"]: n for i, n in zip(note_ids, notes, strict=True)}.get(alert_id)
        src, access = sources.current(), sources.access()
        text, ok = answer(src, access, trigger["type"], alert_id, note, sources.client())
        css = "form-message" if ok else "form-message error"
        return text, css, (answered or 0) + 1
