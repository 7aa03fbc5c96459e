"""Phiếu khảo sát giấy: hr and admins upload the paper survey forms typed into the template
(XLSX, or CSV with the same columns), check them ("Kiểm tra", a dry run that enters nothing)
and enter them ("Nhập"); the errors are listed by sheet, row and column, and the last batches
below.

Both buttons call the API's service (server.channels.paper, as POST /api/v1/paper) within the
request: a month's forms are checked in well under a second, so no job runs beside the page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard import import_view, paper_view, sources
from dashboard.components import bilingual, card, grid, page_title, refused_page
from dashboard.upload_form import UploadIds, decode, show_file_name, upload_form
from server.access.roles import ENTER_PAPER, Access
from server.channels import paper
from server.channels.paper_template import template_workbook
from server.registry.importing import UnreadableFile
from server.registry.importing.reading import MAX_BYTES

PAGE = {
    "path": "/paper",
    "name": "Phiếu giấy",
    "name_en": "Paper forms",
    "title": "Phiếu khảo sát giấy · Hài Lòng",
    "order": 3,
    "roles": ENTER_PAPER,
}

IDS = UploadIds("paper")
UPLOAD, FILE_NAME, CHECK, RUN = IDS.upload, IDS.file_name, IDS.check, IDS.run
TEMPLATE, TEMPLATE_DOWNLOAD = IDS.template, IDS.template_download
MESSAGE = "paper-message"
ERRORS = "paper-errors"
ERRORS_BOX = "paper-errors-box"
BATCHES = "paper-batches"
TEMPLATE_NAME = "hailong-mau-phieu-khao-sat.xlsx"
NO_RULES = (
    "Bảng điều khiển này không lưu được đánh giá: hãy nhập phiếu qua máy chủ (POST /api/v1/paper)",
    "this dashboard cannot store ratings: enter the forms through the server (POST /api/v1/paper)",
)


def layout(**_query: str) -> html.Div:
    access = sources.access()
    if access.role not in ENTER_PAPER:
        return refused_page("Phiếu khảo sát giấy", "Paper survey forms")
    return html.Div(
        [
            page_title("Phiếu khảo sát giấy", "Paper survey forms"),
            card(
                "Tệp phiếu",
                "File of forms",
                html.P(
                    bilingual(
                        "Gõ mỗi phiếu vào một hàng của sheet phieu trong tệp mẫu, rồi kiểm tra "
                        "và nhập. Số phiếu đã nhập sẽ không được nhập lại.",
                        "Type each form into a row of the template's phieu sheet, then check "
                        "and enter it. A form number entered once is not entered again.",
                    ),
                    className="caption",
                ),
                *upload_form(
                    IDS,
                    ".xlsx,.csv",
                    MAX_BYTES,  # the service's own limit
                    (
                        "Kéo thả hoặc bấm để chọn tệp XLSX hoặc CSV",
                        "Drop or click to choose an XLSX or CSV file",
                    ),
                    ("Nhập", "Enter"),
                ),
                html.Div(id=MESSAGE, className="form-message"),
                html.Div(
                    grid(ERRORS, import_view.ERROR_COLUMNS, page_size=50),
                    id=ERRORS_BOX,
                    hidden=True,
                ),
            ),
            card(
                "Các đợt đã nhập",
                "Last batches",
                grid(BATCHES, paper_view.BATCH_COLUMNS, row_id="id", rowData=batches(access)),
            ),
        ]
    )


def batches(access: Access) -> list[dict[str, Any]]:
    with sources.current().session_factory() as session:
        return paper_view.batch_records(paper.last_batches(session, access))


def enter(
    src: sources.Sources,
    access: Access,
    content: bytes,
    filename: str,
    dry_run: bool,
    now: datetime,
) -> dict[str, Any]:
    """The upload through the API's service (audited there); its report as the API's JSON.
    Raises `UnreadableFile` for a file that is not a form sheet."""
    if src.ingest_rules is None:
        raise UnreadableFile(*NO_RULES)
    with src.session_factory() as session:
        report = paper.enter_forms(
            session,
            src.ingest_rules,
            content,
            filename,
            access=access,
            now=now,
            dry_run=dry_run,
            client=sources.client(),
        )
    return report.model_dump(mode="json")


Shown = tuple[Any, list[dict[str, Any]], bool, Any]


def _failed(text: str) -> html.Span:
    return html.Span(text, className="field-error")


def shown(report: dict[str, Any], access: Access) -> Shown:
    errors = import_view.error_records(report)
    vi, en = paper_view.summary(report)
    message = html.Span(bilingual(vi, en), className="field-error" if errors else "ok")
    listed = batches(access) if report.get("written") else no_update
    return message, errors, not errors, listed


def register_callbacks(app: Dash) -> None:
    show_file_name(app, IDS)

    @app.callback(
        Output(TEMPLATE_DOWNLOAD, "data"), Input(TEMPLATE, "n_clicks"), prevent_initial_call=True
    )
    def template(_n: int | None) -> dict[str, Any]:
        sources.access().require(ENTER_PAPER)
        with sources.current().session_factory() as session:
            return dcc.send_bytes(template_workbook(session), TEMPLATE_NAME)

    @app.callback(
        Output(MESSAGE, "children"),
        Output(ERRORS, "rowData"),
        Output(ERRORS_BOX, "hidden"),
        Output(BATCHES, "rowData"),
        Input(CHECK, "n_clicks"),
        Input(RUN, "n_clicks"),
        State(UPLOAD, "contents"),
        State(UPLOAD, "filename"),
        prevent_initial_call=True,
    )
    def run(
        _check: int | None, _run: int | None, contents: str | None, filename: str | None
    ) -> Shown:
        access = sources.access()
        access.require(ENTER_PAPER)
        if not contents or not filename:
            return _failed("Chưa chọn tệp / choose a file first"), [], True, no_update
        try:
            content = decode(contents)
            report = enter(
                sources.current(),
                access,
                content,
                filename,
                ctx.triggered_id == CHECK,
                datetime.now(UTC),
            )
        except (ValueError, UnreadableFile) as exc:
            return _failed(str(exc)), [], True, no_update
        return shown(report, access)
