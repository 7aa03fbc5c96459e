"""Nghỉ phép, nghỉ lễ: the rota page's card of one-off absences (an officer's leave, a unit's day
off, a public holiday) touching the month shown, with a form to add one and a confirmed delete.

Absences are whole Vietnam days here: from 00:00 of the first day to 24:00 of the last. The
resolution (server/registry/rota.py) cuts the rota shifts inside one, so after a write the
calendar redraws without the officer on those days. Writes are the API's absence routes'
(dashboard/rota_registry.py); a unit head reads their unit's list and gets no form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from dash import Dash, Input, Output, State, dcc, html, no_update

from dashboard import registry_view, rota_registry, rota_view, sources
from dashboard.components import bilingual, card, column, field, grid
from dashboard.registry_view import Outcome
from server.access.roles import Access
from server.storage.schedule import Absence, AbsenceCreate
from server.timeutil import VN_TZ, vn_day_start, vn_text

TABLE = "rota-absence-table"
LIST_MESSAGE = "rota-absence-list-message"
CONFIRM = "rota-absence-confirm"
PENDING = "rota-absence-pending"
DELETE = "rota-absence-delete"
SAVED = "rota-absence-saved"
KIND = "rota-absence-kind"
OFFICER = "rota-absence-officer"
FIRST = "rota-absence-first"
LAST = "rota-absence-last"
NOTE = "rota-absence-note"
ADD = "rota-absence-add"
MESSAGE = "rota-absence-message"
T = TypeVar("T")

KINDS = {
    "leave": ("Nghỉ phép của cán bộ", "Officer leave"),
    "unit": ("Đơn vị nghỉ", "Unit day off"),
    "holiday": ("Nghỉ lễ", "Public holiday"),
}
COLUMNS: list[dict[str, Any]] = [
    column("kind", "Loại", "Kind"),
    column("officer", "Cán bộ", "Officer"),
    column("from", "Từ (giờ Việt Nam)", "From (Vietnam time)"),
    column("to", "Đến (giờ Việt Nam)", "To (Vietnam time)"),
    column("note", "Ghi chú", "Note"),
]
# A row is picked by a click, then deleted by a button once the user confirms.
PICK_ONE = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}


# --- pure ---------------------------------------------------------------------------------------


def kind_of(absence: Absence) -> str:
    if absence.officer_id is not None:
        return "leave"
    return "unit" if absence.unit_id is not None else "holiday"


def until_text(moment: datetime) -> str:
    """An absence's end as a person reads it: midnight is "24:00" of the day before."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(VN_TZ)
    if (local.hour, local.minute) == (0, 0):
        return f"24:00 {(local - timedelta(days=1)):%d/%m/%Y}"
    return vn_text(moment)


def records(found: Iterable[tuple[Absence, str]]) -> list[dict[str, Any]]:
    """One table record per absence, given with its officer's name ("" when none)."""
    return [
        {
            "id": a.id,
            "kind": " · ".join(KINDS[kind_of(a)]),
            "officer": f"{name or a.officer_id} ({a.officer_id})" if a.officer_id else "",
            "from": vn_text(a.start),
            "to": until_text(a.end),
            "note": a.note,
        }
        for a, name in found
    ]


def _day(text: str | None, label: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValueError(f"{label}: cần ngày dạng 2026-12-24; give a day as 2026-12-24") from None


def form_to_create(
    kind: str | None,
    officer_id: str | None,
    unit_id: str | None,
    first: str | None,
    last: str | None,
    note: str | None,
) -> AbsenceCreate:
    """The add form as the absence to write, whole Vietnam days; a ValueError says what is
    wrong."""
    if kind not in KINDS:
        raise ValueError("Chưa chọn loại / kind not chosen")
    if kind == "leave" and not officer_id:
        raise ValueError("Chưa chọn / not chosen: cán bộ (officer)")
    if kind == "unit" and not unit_id:
        raise ValueError("Chưa chọn / not chosen: đơn vị (unit)")
    first_day = _day(first, "từ ngày (first day)")
    last_day = _day(last, "đến ngày (last day)") if (last or "").strip() else first_day
    if last_day < first_day:
        raise ValueError("đến ngày (last day): trước ngày đầu; it is before the first day")
    return AbsenceCreate(
        officer_id=officer_id if kind == "leave" else None,
        unit_id=unit_id if kind == "unit" else None,
        start=vn_day_start(first_day),
        end=vn_day_start(last_day + timedelta(days=1)),
        note=(note or "").strip(),
    )


def picked_grid(grid_id: str, columns: list[dict[str, Any]], writable: bool, **kwargs: Any) -> Any:
    """A list whose rows an admin picks (one at a time) to delete, in a box of its own."""
    options = {"rowSelection": PICK_ONE} if writable else {}
    return grid(grid_id, columns, row_id="id", dashGridOptions=options, **kwargs)


def delete_button(element_id: str, vi: str, en: str) -> html.Button:
    """Deletes the row picked in the list above it, once confirmed; greyed until one is."""
    return html.Button(
        bilingual(vi, en), id=element_id, n_clicks=0, className="button danger", disabled=True
    )


def delete_each(ids: Iterable[int], delete: Callable[[int], Outcome]) -> Outcome:
    """`delete(id)` for each id, up to the first refusal."""
    done: list[str] = []
    for key in ids:
        outcome = delete(key)
        if not outcome.ok:
            return outcome
        done.append(outcome.text)
    return Outcome(True, "; ".join(done))


def unreadable(exc: ValueError) -> Outcome:
    return Outcome(False, registry_view.NOT_SAVED + registry_view.reason(exc))


def form_write(make: Callable[[], T], write: Callable[[T], Outcome], count: int | None) -> Any:
    """A form's write: the refusal next to the form when `make` cannot read it or the registry
    refuses, else the outcome and one more in the form's count (which redraws)."""
    try:
        data = make()
    except ValueError as exc:
        return said(unreadable(exc)), no_update
    done = write(data)
    return said(done), (count or 0) + 1 if done.ok else no_update


def said(outcome: Outcome) -> html.Span:
    return html.Span(outcome.text, className="ok" if outcome.ok else "field-error")


# --- the card -----------------------------------------------------------------------------------


def section(writable: bool) -> html.Section:
    return card(
        "Nghỉ phép, nghỉ lễ",
        "Leave and holidays",
        picked_grid(TABLE, COLUMNS, writable),
        *(
            [delete_button(DELETE, "Xoá ngày nghỉ đã chọn", "Delete the selected absence")]
            if writable
            else []
        ),
        html.Div(id=LIST_MESSAGE, className="form-message"),
        *([_form()] if writable else []),
        dcc.ConfirmDialog(id=CONFIRM),
        dcc.Store(id=PENDING, data=[]),
        dcc.Store(id=SAVED, data=0),
    )


def _text(element_id: str, placeholder: str) -> dcc.Input:
    return dcc.Input(
        id=element_id, type="text", placeholder=placeholder, className="period-input short-input"
    )


def _form() -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    field(
                        "Loại",
                        "Kind",
                        dcc.RadioItems(
                            id=KIND,
                            options=[
                                {"label": f"{vi} · {en}", "value": k}
                                for k, (vi, en) in KINDS.items()
                            ],
                            value="leave",
                            inline=True,
                            className="segmented",
                        ),
                    ),
                    field(
                        "Cán bộ (khi nghỉ phép)",
                        "Officer (for leave)",
                        dcc.Dropdown(id=OFFICER, className="unit-select"),
                    ),
                    field("Từ ngày", "First day", _text(FIRST, "2026-12-24")),
                    field(
                        "Đến ngày (trống: một ngày)", "Last day (empty: one day)", _text(LAST, "")
                    ),
                    field("Ghi chú", "Note", _text(NOTE, "")),
                    html.Button(bilingual("Thêm", "Add"), id=ADD, className="button primary"),
                ],
                className="controls form-grid",
            ),
            html.Div(id=MESSAGE, className="form-message"),
        ]
    )


def _question(gone: Sequence[Mapping[str, Any]]) -> str:
    what = "; ".join(f"{r['kind']} {r['officer']} {r['from']} – {r['to']}" for r in gone)
    return f"Xoá ngày nghỉ này? Delete this absence?\n{what}"


def register(app: Dash, unit: str, month: str) -> None:
    """The card's callbacks, reading the page's unit and month (`unit`, `month` ids)."""

    @app.callback(Output(OFFICER, "options"), Input(unit, "value"))
    def officers(unit_id: str | None) -> list[dict[str, str]]:
        access = sources.access()
        with sources.current().session_factory() as session:
            names = rota_registry.officer_names(session, access.unit_scope(unit_id))
        return [{"label": f"{n} ({o})", "value": o} for o, n in names.items()]

    @app.callback(
        Output(TABLE, "rowData"),
        Input(unit, "value"),
        Input(month, "data"),
        Input(SAVED, "data"),
    )
    def listing(unit_id: str | None, shown: str | None, *_changed: int) -> list[dict[str, Any]]:
        src = sources.current()
        first = rota_view.month_of(shown, src.today())
        return records(rota_registry.absences(src, sources.access(), unit_id, first))

    @app.callback(
        Output(MESSAGE, "children"),
        Output(SAVED, "data"),
        Input(ADD, "n_clicks"),
        State(KIND, "value"),
        State(OFFICER, "value"),
        State(unit, "value"),
        State(FIRST, "value"),
        State(LAST, "value"),
        State(NOTE, "value"),
        State(SAVED, "data"),
        prevent_initial_call=True,
    )
    def add(_n: int | None, *form: Any) -> Any:
        *values, saved = form
        src, access = sources.current(), sources.access()
        return form_write(
            lambda: form_to_create(*values),
            lambda data: rota_registry.add_absence(src, access, data),
            saved,
        )

    ask_before_delete(app, TABLE, DELETE, CONFIRM, PENDING, _question)
    confirmed_delete(app, CONFIRM, PENDING, LIST_MESSAGE, SAVED, rota_registry.delete_absence)


def ask_before_delete(
    app: Dash,
    table: str,
    button: str,
    confirm: str,
    pending: str,
    question: Callable[[Sequence[Mapping[str, Any]]], str],
) -> None:
    """`button` is enabled while a row of `table` is picked; pressing it asks `question` about
    that row in `confirm` and keeps its id in the `pending` store until the answer."""

    @app.callback(Output(button, "disabled"), Input(table, "selectedRows"))
    def enable(picked: list[dict[str, Any]] | None) -> bool:
        return not picked

    @app.callback(
        Output(confirm, "displayed"),
        Output(confirm, "message"),
        Output(pending, "data"),
        Input(button, "n_clicks"),
        State(table, "selectedRows"),
        prevent_initial_call=True,
    )
    def ask(_n: int | None, picked: list[dict[str, Any]] | None) -> Any:
        if not picked:
            return False, "", []
        return True, question(picked), [r["id"] for r in picked]


def confirmed_delete(
    app: Dash,
    confirm: str,
    pending: str,
    message: str,
    saved: str,
    delete: Callable[[sources.Sources, Access, int], Outcome],
) -> None:
    """Once `confirm` is submitted, delete the ids in the `pending` store, say so in `message`
    and count one more in the `saved` store, which redraws."""

    @app.callback(
        Output(message, "children"),
        Output(saved, "data", allow_duplicate=True),
        Input(confirm, "submit_n_clicks"),
        State(pending, "data"),
        State(saved, "data"),
        prevent_initial_call=True,
    )
    def confirmed(_n: int | None, ids: list[int] | None, count: int | None) -> Any:
        src, access = sources.current(), sources.access()
        done = delete_each(ids or [], lambda key: delete(src, access, key))
        return said(done), (count or 0) + 1
