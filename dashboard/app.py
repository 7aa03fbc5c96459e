"""Build the Dash app that the FastAPI server mounts under /dashboard (a2wsgi around Flask).

Routes are registered at "/" because the mount strips "/dashboard" from PATH_INFO, while the
browser must request "/dashboard/...": hence routes_pathname_prefix="/" and
requests_pathname_prefix="/dashboard/". Scripts and styles are served by the app itself, since
the server may have no internet. Dev tools stay off: they do not work through the mount.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import ModuleType
from typing import Any

import dash
from dash import ALL, Dash, Input, Output, State, dcc, html

from dashboard import sources
from dashboard.components import NAV_LINK, header
from dashboard.pages import devices, satisfaction

PAGES: tuple[ModuleType, ...] = (satisfaction, devices)
URL = "url"

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
) -> Dash:
    """The dashboard, reading through `session_factory()` (a context manager yielding a Session).

    `today` gives the Vietnam day that ends the default period; tests pass a fixed one.
    """
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        routes_pathname_prefix="/",
        requests_pathname_prefix=requests_pathname_prefix,
        serve_locally=True,
        use_async=False,
        title="Hài Lòng",
        update_title="",  # keep the page title while callbacks run
        index_string=_INDEX,
    )
    sources.install(app.server, sources.Sources(session_factory, today))
    for page in PAGES:
        dash.register_page(page.__name__, layout=page.layout, **page.PAGE)
        page.register_callbacks(app)
    app.layout = html.Div(
        [dcc.Location(id=URL), header(app), html.Main(dash.page_container, className="page")]
    )
    _highlight_current_page(app)
    return app


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
