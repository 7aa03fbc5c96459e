"""Build the Dash app that the FastAPI server mounts under /dashboard (a2wsgi around Flask).

Routes are registered at "/" because the mount strips "/dashboard" from PATH_INFO, while the
browser must request "/dashboard/...": hence routes_pathname_prefix="/" and
requests_pathname_prefix="/dashboard/". Scripts and styles are served by the app itself, since
the server may have no internet. Dev tools stay off: they do not work through the mount.

Pages depend on who is looking (`sources.access`), so Dash must not build its validation layout:
it would call every page's layout once, for the first visitor, and send the result to every
browser after. Hence suppress_callback_exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import dash
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html

from dashboard import captions, delivery, sources
from dashboard.components import NAV_GROUP, NAV_LINK, USER, bilingual, header
from dashboard.pages import (
    compare,
    counters,
    devices,
    fields,
    fleet,
    importing,
    officer,
    officers,
    paper,
    rota,
    satisfaction,
    tokens,
    unit,
    units,
    users,
)
from server.access.roles import Forbidden
from server.ingest.store import IngestRules
from server.policy import Policy
from server.reporting.reports import default_policy

PAGES: tuple[ModuleType, ...] = (
    satisfaction,
    compare,
    devices,
    fleet,
    units,
    fields,
    counters,
    officers,
    rota,
    importing,
    paper,
    users,
    tokens,
    officer,  # the drill-down pages: opened from the review's rows, not in the header
    unit,
)
URL = "url"
LOGOUT = "/logout"  # the server's, outside the mount

_INDEX = """<!DOCTYPE html>
<html lang="vi">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def create_dash(
    session_factory: sources.SessionFactory,
    requests_pathname_prefix: str = "/dashboard/",
    *,
    today: Callable[[], date] = sources.vn_today,
    policy: Policy | None = None,
    accounts: Callable[[], sources.DeviceAccounts | None] | None = None,
    registry_changed: Callable[[], None] | None = None,
    alert_webhook: bool = False,
    ingest_rules: IngestRules | None = None,
    credential_secret: str = "",
) -> Dash:
    """The dashboard, reading through `session_factory()` (a context manager yielding a Session).

    `today` gives the Vietnam day that ends the default period; tests pass a fixed one. `policy`
    ranks and classifies as the API does: the server passes its own. The registry screens write
    devices with `accounts()` (the server's broker accounts; None: device writes are refused)
    and call `registry_changed()` after each write, as the API refreshes the units' Configs.
    Paper forms are stored with `ingest_rules` (None: the page refuses to enter them);
    officers' PINs and cards are set with `credential_secret` (the server's secret_key).
    """
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        routes_pathname_prefix="/",
        requests_pathname_prefix=requests_pathname_prefix,
        serve_locally=True,
        use_async=False,
        suppress_callback_exceptions=True,
        title="Hài Lòng",
        update_title="",  # keep the page title while callbacks run
        index_string=_INDEX,
    )
    delivery.lighten(app)
    policy = policy or default_policy()
    sources.install(
        app.server,
        sources.Sources(
            session_factory,
            today,
            policy,
            accounts=accounts or sources.Sources.accounts,
            registry_changed=registry_changed or sources.Sources.registry_changed,
            alert_webhook=alert_webhook,
            ingest_rules=ingest_rules,
            credential_secret=credential_secret,
        ),
    )
    app.server.register_error_handler(Forbidden, _forbidden)
    for page in PAGES:
        dash.register_page(page.__name__, layout=page.layout, **page.PAGE)
        page.register_callbacks(app)
    app.layout = html.Div(
        [dcc.Location(id=URL), header(app), html.Main(dash.page_container, className="page")]
    )
    _highlight_current_page(app)
    _menu_for_user(app)
    _show_user(app)
    return app


def _forbidden(exc: Forbidden) -> tuple[str, int]:
    """A request for what the user may not see (a crafted one: the page offers only what they
    may) is refused as the API refuses it, not reported as a server error."""
    return str(exc), 403


def _highlight_current_page(app: Dash) -> None:
    """dcc.Link has no "current page" state, so the header marks it from the URL."""

    @app.callback(
        Output({"role": "nav", "path": ALL}, "className"),
        Input(URL, "pathname"),
        State({"role": "nav", "path": ALL}, "id"),
    )
    def highlight(pathname: str | None, ids: list[dict[str, Any]]) -> list[str]:
        here = app.strip_relative_path(pathname or "") or ""
        return [
            f"{NAV_LINK} active" if link["path"].strip("/") == here else NAV_LINK for link in ids
        ]


def shown_paths(role: str) -> set[str]:
    """The pages `role` may open: a page names its roles in PAGE["roles"], or is for all."""
    return {
        page["path"]
        for page in dash.page_registry.values()
        if page.get("roles") is None or role in page["roles"]
    }


def _menu_for_user(app: Dash) -> None:
    """The user does not see links to pages they may not open, nor a group left empty. A
    group's button opens its drop-down; any page change closes it."""

    @app.callback(
        Output({"role": "nav", "path": ALL}, "style"),
        Output({"role": "nav-group", "group": ALL}, "hidden"),
        Input(URL, "pathname"),
        State({"role": "nav", "path": ALL}, "id"),
        State({"role": "nav-group", "group": ALL}, "id"),
    )
    def menu(
        _pathname: str | None, links: list[dict[str, Any]], groups: list[dict[str, Any]]
    ) -> tuple[list[dict[str, str]], list[bool]]:
        shown = shown_paths(sources.access().role)
        pages = dash.page_registry.values()
        empty = [
            not any(p["path"] in shown for p in pages if p.get("group") == g["group"])
            for g in groups
        ]
        styles = [{} if link["path"] in shown else {"display": "none"} for link in links]
        return styles, empty

    @app.callback(
        Output({"role": "nav-group", "group": ALL}, "className"),
        Input({"role": "nav-toggle", "group": ALL}, "n_clicks"),
        Input(URL, "pathname"),
        State({"role": "nav-group", "group": ALL}, "className"),
        State({"role": "nav-group", "group": ALL}, "id"),
        prevent_initial_call=True,
    )
    def toggle(
        _clicks: list[int], _pathname: str | None, classes: list[str], ids: list[dict[str, Any]]
    ) -> list[str]:
        pressed = ctx.triggered_id
        return [
            NAV_GROUP
            if not isinstance(pressed, dict) or pressed["group"] != group["group"] or "open" in now
            else f"{NAV_GROUP} open"
            for now, group in zip(classes, ids, strict=True)
        ]


def _show_user(app: Dash) -> None:
    """Who is logged in, and the way out, in the header."""

    @app.callback(Output(USER, "children"), Input(URL, "pathname"))
    def show(_pathname: str | None) -> list[Any]:
        access = sources.access()
        role = captions.ROLE_LABELS.get(access.role, (access.role, access.role))
        return [
            html.Span(
                [html.Strong(access.display_name, className="user-name"), bilingual(*role)],
                className="user-who",
                title=access.username,
            ),
            # A form, not a link: logging out is a POST that only the server's own pages send.
            html.Form(
                html.Button(bilingual("Đăng xuất", "Log out"), type="submit", className="logout"),
                action=LOGOUT,
                method="POST",
                className="logout-form",
            ),
        ]
