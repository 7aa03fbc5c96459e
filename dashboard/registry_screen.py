"""One registry screen: a searchable list and, for an admin, a form that adds to it or edits a row.

Units, fields, counters, officers and users are the same screen with other columns and boxes,
so each page module declares a `Screen` and this module lays it out and wires it. Clicking a row
puts it into the form; saving an id that exists edits it (where the registry has an edit),
otherwise adds it. Component ids start with the screen's key, e.g. "officers-save".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dash import Dash, Input, Output, State, dcc, html, no_update
from sqlmodel import Session

from dashboard import registry_view, sources
from dashboard.components import bilingual, card, column, empty_state, field, grid, page_title
from server.access.roles import ADMINISTER, REGISTRY_SCREENS, Access

Values = dict[str, Any]
# (session, access, client address, the form's values) -> what was done, in both languages
Save = Callable[[Session, Access, str | None, Values], str]
Rows = Callable[[Session, Access], list[dict[str, Any]]]
Choices = Callable[[Session, Access], list[dict[str, str]]]


@dataclass(frozen=True)
class Box:
    """One input of the form; `name` is its key in the values a `Save` gets, and the row's
    column it is filled from when a row is clicked."""

    name: str
    vi: str
    en: str
    kind: str = "text"  # text | password | select | multi
    choices: Choices | None = None


@dataclass(frozen=True)
class Screen:
    key: str
    title: tuple[str, str]
    list_title: tuple[str, str]
    columns: list[dict[str, Any]]
    rows: Rows
    form_title: tuple[str, str]
    boxes: tuple[Box, ...]
    save: Save
    empty: tuple[str, str] = ("Chưa có gì", "Nothing yet")
    editable: bool = True  # a clicked row fills the form
    roles: tuple[str, ...] = REGISTRY_SCREENS  # who may open it; only an admin writes

    def id(self, part: str) -> str:
        return f"{self.key}-{part}"

    def box_id(self, box: Box) -> str:
        return self.id(f"in-{box.name}")


def may_write(access: Access) -> bool:
    return access.role in ADMINISTER


def columns(*specs: tuple[str, str, str]) -> list[dict[str, Any]]:
    """Grid columns from (field, Vietnamese, English)."""
    return [column(key, vi, en) for key, vi, en in specs]


# One row at a time, picked by a click (AG Grid 33's object form; the old strings are deprecated).
PICK_ONE = {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True}


def _control(screen: Screen, box: Box, session: Session, access: Access) -> Any:
    box_id = screen.box_id(box)
    if box.kind in ("select", "multi"):
        options = box.choices(session, access) if box.choices else []
        return dcc.Dropdown(
            id=box_id, options=options, multi=box.kind == "multi", className="registry-select"
        )
    if box.kind == "password":
        return dcc.Input(id=box_id, type="password", className="registry-input")
    return dcc.Input(id=box_id, type="text", className="registry-input")


def save_button(
    element_id: str, vi: str, en: str, kind: str = "primary", *, disabled: bool = False
) -> html.Button:
    """`kind` "danger" for what cannot be undone."""
    return html.Button(
        bilingual(vi, en),
        id=element_id,
        n_clicks=0,
        className=f"button {kind}",
        disabled=disabled,
    )


def message(element_id: str) -> html.Div:
    """Where a write's outcome is said; `form-message error` when it was refused."""
    return html.Div(id=element_id, className="form-message", role="status")


def form(screen: Screen, session: Session, access: Access) -> html.Section:
    return card(
        *screen.form_title,
        *(
            [
                html.P(
                    bilingual(
                        "Bấm vào một dòng để sửa; mã mới là thêm mới.",
                        "Click a row to edit it; a new id adds one.",
                    ),
                    className="form-hint",
                )
            ]
            if screen.editable
            else []
        ),
        html.Div(
            [field(box.vi, box.en, _control(screen, box, session, access)) for box in screen.boxes],
            className="registry-form",
        ),
        html.Div(
            [save_button(screen.id("save"), "Lưu", "Save"), message(screen.id("message"))],
            className="form-actions",
        ),
    )


def layout(screen: Screen, *extra: Any) -> html.Div:
    """The screen for the logged-in user: the form only for an admin; `extra` cards (an
    officer's deactivate and move) after it."""
    src = sources.current()
    access = sources.access()
    access.require(screen.roles)
    with src.session_factory() as session:
        rows = registry_view.search(screen.rows(session, access), None)
        write = [form(screen, session, access), *extra] if may_write(access) else []
    return html.Div(
        [
            page_title(*screen.title),
            *write,
            card(
                *screen.list_title,
                html.Div(
                    dcc.Input(
                        id=screen.id("search"),
                        type="search",
                        placeholder="Tìm kiếm · Search",
                        className="registry-search",
                        debounce=False,
                    ),
                    className="registry-tools",
                ),
                html.Div(
                    _table(screen, rows),
                    id=screen.id("table-box"),
                    className="registry-table",
                    hidden=not rows,
                ),
                empty_state(screen.id("empty"), *screen.empty),
            ),
            dcc.Store(id=screen.id("saved"), data=0),
        ]
    )


def _table(screen: Screen, rows: list[dict[str, Any]]) -> Any:
    """The list, 25 rows a page; where a row fills the form, a click selects it."""
    options = {"rowSelection": PICK_ONE} if screen.editable else {}
    return grid(
        screen.id("table"), screen.columns, page_size=25, rowData=rows, dashGridOptions=options
    )


def outcome_view(outcome: registry_view.Outcome) -> tuple[str, str]:
    return outcome.text, "form-message" if outcome.ok else "form-message error"


def page_functions(screen: Screen) -> tuple[Callable[..., html.Div], Callable[[Dash], None]]:
    """A page module's `layout` and `register_callbacks` when it is only this screen."""

    def page_layout(**_query: str) -> html.Div:
        return layout(screen)

    def register_callbacks(app: Dash) -> None:
        register(app, screen)

    return page_layout, register_callbacks


def register(app: Dash, screen: Screen) -> None:
    boxes = [State(screen.box_id(box), "value") for box in screen.boxes]

    @app.callback(
        Output(screen.id("table"), "rowData"),
        Output(screen.id("table-box"), "hidden"),
        Output(screen.id("empty"), "hidden"),
        Input(screen.id("search"), "value"),
        Input(screen.id("saved"), "data"),
    )
    def refresh(text: str | None, _saved: int | None) -> tuple[list[dict[str, Any]], bool, bool]:
        src = sources.current()
        access = sources.access()
        access.require(screen.roles)
        with src.session_factory() as session:
            every = screen.rows(session, access)
        rows = registry_view.search(every, text)
        return rows, not rows, bool(rows)

    secrets = [box for box in screen.boxes if box.kind == "password"]

    @app.callback(
        Output(screen.id("message"), "children"),
        Output(screen.id("message"), "className"),
        Output(screen.id("saved"), "data"),
        # a password is emptied once saved, so it is not left on the screen
        *[Output(screen.box_id(box), "value", allow_duplicate=True) for box in secrets],
        Input(screen.id("save"), "n_clicks"),
        State(screen.id("saved"), "data"),
        *boxes,
        prevent_initial_call=True,
    )
    def save(_n: int, saved: int | None, *values: Any) -> tuple[Any, ...]:
        access = sources.access()
        given = registry_view.cleaned(
            {box.name: value for box, value in zip(screen.boxes, values, strict=True)}
        )
        client = sources.client()
        outcome = registry_view.write(
            sources.current(), access, lambda session: screen.save(session, access, client, given)
        )
        text, class_name = outcome_view(outcome)
        if not outcome.ok:
            return text, class_name, no_update, *[no_update] * len(secrets)
        return text, class_name, (saved or 0) + 1, *[""] * len(secrets)

    if screen.editable:
        _pick_row(app, screen)


def _pick_row(app: Dash, screen: Screen) -> None:
    """A clicked (selected) row fills the form, to edit it."""

    @app.callback(
        [Output(screen.box_id(box), "value") for box in screen.boxes],
        Input(screen.id("table"), "selectedRows"),
        prevent_initial_call=True,
    )
    def pick(selected: list[dict[str, Any]] | None) -> list[Any]:
        if not selected:
            return [no_update] * len(screen.boxes)
        row = selected[0]
        return [_box_value(box, row.get(box.name)) for box in screen.boxes]


def _box_value(box: Box, value: Any) -> Any:
    if box.kind == "password":
        return ""
    if box.kind == "multi":
        return [v for v in str(value or "").split(", ") if v]
    return value
