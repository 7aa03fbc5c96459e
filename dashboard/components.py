"""The dashboard's shared building blocks: bilingual labels, the header, cards and tables.

Every label is Vietnamese first with the English below it in small text, so the pages state
that once here rather than in each layout. Classes refer to `assets/style.css`.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_ag_grid as dag
from dash import Dash, dcc, html

from dashboard.figures import EMPTY_EN, EMPTY_VI

NAV_LINK = "nav-link"
NAV_GROUP = "nav-group"  # "nav-group open" while its drop-down shows
USER = "user-badge"
# Pages whose PAGE names a "group" sit in a drop-down of the header under this name.
NAV_GROUPS = {"registry": ("Quản lý", "Manage")}


def bilingual(vi: str, en: str, class_name: str = "") -> html.Span:
    return html.Span(
        [html.Span(vi, className="vi"), html.Span(en, className="en")],
        className=f"bilingual {class_name}".strip(),
    )


def _nav_link(app: Dash, page: dict[str, Any]) -> dcc.Link:
    return dcc.Link(
        bilingual(page["name"], page.get("name_en", "")),
        href=app.get_relative_path(page["path"]),
        id={"role": "nav", "path": page["path"]},
        className=NAV_LINK,
    )


def header(app: Dash) -> html.Header:
    """The product name and one link per registered page, in the registry's order; pages of a
    group (NAV_GROUPS) in a drop-down after the others; none for a page whose PAGE says
    "nav": False (a drill-down, opened from a row)."""
    pages = [page for page in dash.page_registry.values() if page.get("nav", True)]
    links: list[Any] = [_nav_link(app, page) for page in pages if not page.get("group")]
    for group, (vi, en) in NAV_GROUPS.items():
        members = [_nav_link(app, page) for page in pages if page.get("group") == group]
        if members:
            links.append(
                html.Div(
                    [
                        html.Button(
                            bilingual(vi, en),
                            id={"role": "nav-toggle", "group": group},
                            n_clicks=0,
                            className=f"{NAV_LINK} nav-toggle",
                        ),
                        html.Div(members, className="nav-menu"),
                    ],
                    id={"role": "nav-group", "group": group},
                    className=NAV_GROUP,
                )
            )
    return html.Header(
        html.Div(
            [
                html.Div(
                    [
                        html.Span("Hài Lòng", className="brand-name"),
                        bilingual(
                            "Đánh giá mức độ hài lòng của người dân",
                            "Citizen satisfaction at public service counters",
                            "brand-tagline",
                        ),
                    ],
                    className="brand",
                ),
                html.Nav(links, className="nav"),
                html.Div(id=USER, className="user"),
            ],
            className="header-inner",
        ),
        className="header",
    )


def page_title(vi: str, en: str) -> html.H1:
    return html.H1(bilingual(vi, en), className="page-title")


def refused_page(title_vi: str, title_en: str) -> html.Div:
    """A page this user's role does not see: its title and why, instead of its content."""
    return html.Div(
        [
            page_title(title_vi, title_en),
            html.Div(
                bilingual(
                    "Vai trò của bạn không xem được trang này", "Your role does not see this page"
                ),
                className="empty-state",
            ),
        ]
    )


def card(title_vi: str, title_en: str, *children: Any) -> html.Section:
    return html.Section(
        [html.H2(bilingual(title_vi, title_en), className="card-title"), *children],
        className="card",
    )


def field(label_vi: str, label_en: str, control: Any) -> html.Div:
    return html.Div(
        [html.Div(bilingual(label_vi, label_en), className="field-label"), control],
        className="field",
    )


def kpi(
    value_id: str, label_vi: str, label_en: str, accent: str, note_id: str | None = None
) -> html.Div:
    """A headline figure; `note_id` names a small line under it (the interval of a share)."""
    note = [html.Div(id=note_id, className="kpi-note")] if note_id else []
    return html.Div(
        [
            html.Div(bilingual(label_vi, label_en), className="kpi-label"),
            html.Div(id=value_id, className="kpi-value"),
            *note,
        ],
        className="kpi",
        style={"borderTopColor": accent},
    )


def empty_state(element_id: str, vi: str = EMPTY_VI, en: str = EMPTY_EN) -> html.Div:
    return html.Div(bilingual(vi, en), id=element_id, className="empty-state", hidden=True)


# Vietnamese words for the grid's own texts (AG Grid's localeText keys).
GRID_LOCALE_VI = {
    "noRowsToShow": "Không có dòng nào",
    "loadingOoo": "Đang tải…",
    "page": "Trang",
    "of": "trên",
    "to": "đến",
    "more": "thêm",
    "firstPage": "Trang đầu",
    "lastPage": "Trang cuối",
    "nextPage": "Trang sau",
    "previousPage": "Trang trước",
    "pageSizeSelectorLabel": "Số dòng mỗi trang:",
    "ariaSortableColumn": "Bấm để sắp xếp",
}


def column(field: str, vi: str, en: str, **options: Any) -> dict[str, Any]:
    """One grid column headed Vietnamese first, English after (headers wrap on a phone)."""
    return {"field": field, "headerName": f"{vi} · {en}", "headerTooltip": en, **options}


def count_column(field: str, vi: str, en: str, **options: Any) -> dict[str, Any]:
    """A column of whole numbers written the Vietnamese way ("1.234"), sorted as numbers."""
    return column(
        field,
        vi,
        en,
        type="numericColumn",
        valueFormatter={
            "function": "params.value == null ? '' : params.value.toLocaleString('vi-VN')"
        },
        **options,
    )


def coloured_by(code_field: str, colours: dict[str, str]) -> dict[str, Any]:
    """A column's `cellStyle`: its text in the colour of the row's `code_field` (a status)."""
    return {
        "styleConditions": [
            {
                "condition": f"params.data.{code_field} === {json.dumps(code)}",
                "style": {"color": colour, "fontWeight": "600"},
            }
            for code, colour in colours.items()
        ]
    }


# AG Grid 33's Theming API (the default in dash-ag-grid 33+) builds the theme's CSS in the
# browser from the grid's own script, so it works served locally with no internet; an
# `ag-theme-*` class is the legacy way, ignored while the Theming API is on, and its CSS files
# come only from a CDN (dash_ag_grid.themes). The parameters match assets/style.css.
GRID_THEME = {
    "function": "themeQuartz.withParams({"
    "fontFamily: 'inherit', fontSize: 14, headerFontSize: 13, headerFontWeight: 600, "
    "headerBackgroundColor: '#f8fafc', headerTextColor: '#0f172a', "
    "foregroundColor: '#0f172a', borderColor: '#e2e8f0', rowBorder: {color: '#eef2f7'}, "
    "accentColor: '#0b5394', wrapperBorderRadius: 8, spacing: 6})"
}


def grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    *,
    row_id: str | None = None,
    page_size: int | None = None,
    **kwargs: Any,
) -> dag.AgGrid:
    """A table in the dashboard's style (dash-ag-grid): sortable, resizable columns that fit
    the box and scroll inside it on a narrow screen, never the page; long texts wrap in their
    cell rather than end in "…". `row_id` names the field that identifies a row, so a redraw
    keeps selection and scroll; `page_size` pages long lists (no page-size chooser: one less
    control on a phone). Rows go in `rowData`, columns (`column(...)`) in `columnDefs`."""
    options: dict[str, Any] = {
        "theme": GRID_THEME,
        "domLayout": "autoHeight",
        "localeText": GRID_LOCALE_VI,
        "enableCellTextSelection": True,
        "ensureDomOrder": True,
        "suppressDragLeaveHidesColumns": True,
    }
    if page_size is not None:
        options |= {
            "pagination": True,
            "paginationPageSize": page_size,
            "paginationPageSizeSelector": False,
        }
    options |= kwargs.pop("dashGridOptions", {})
    if row_id is not None:
        kwargs.setdefault("getRowId", f"params.data.{row_id}")
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=kwargs.pop("rowData", []),
        defaultColDef={
            "sortable": True,
            "resizable": True,
            "wrapHeaderText": True,
            "autoHeaderHeight": True,
            "wrapText": True,
            "autoHeight": True,
            "minWidth": 120,
        },
        dashGridOptions=options,
        columnSize="responsiveSizeToFit",
        className=f"hl-grid {kwargs.pop('className', '')}".strip(),
        style={"width": "100%"},
        **kwargs,
    )
