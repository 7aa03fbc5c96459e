"""Nhập dữ liệu: an administrator uploads a workbook (XLSX, or a zip of CSV files), checks it
("Kiểm tra", a dry run that writes nothing) and imports it ("Nhập"), watching its progress.

The import is the API's service (server.registry.importing, as POST /api/v1/import), run in a
thread of this process (dashboard/import_jobs.py) that the page polls; the report is its answer:
what each sheet created, updated and left unchanged, and every error by sheet, row and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard import import_view, registry_view, sources
from dashboard.components import bilingual, card, grid, page_title, refused_page
from dashboard.import_jobs import JOBS, Progress
from dashboard.upload_form import UploadIds, decode, show_file_name, upload_form
from hailong.errors import BrokerError
from server.access.roles import ADMINISTER, Access
from server.registry import importing

PAGE = {
    "path": "/import",
    "name": "Nhập dữ liệu",
    "name_en": "Import",
    "title": "Nhập dữ liệu · Hài Lòng",
    "order": 16,
    "group": "registry",
    "roles": ADMINISTER,
}
POLL_MS = 700
MAX_BYTES = 20 * 1024 * 1024  # a province's registry is far smaller

IDS = UploadIds("import")
UPLOAD, FILE_NAME, CHECK, RUN = IDS.upload, IDS.file_name, IDS.check, IDS.run
TEMPLATE, TEMPLATE_DOWNLOAD = IDS.template, IDS.template_download
JOB = "import-job"
POLL = "import-poll"
PROGRESS = "import-progress"
REPORT_BOX = "import-report"
SUMMARY = "import-summary"
SHEETS = "import-sheets"
ERRORS = "import-errors"
ERRORS_BOX = "import-errors-box"
TEMPLATE_NAME = "hailong-mau-nhap-du-lieu.xlsx"
FAILED = "Nhập không thành công / the import failed: "


def layout(**_query: str) -> html.Div:
    if sources.access().role not in ADMINISTER:
        return refused_page("Nhập dữ liệu", "Import")
    return html.Div(
        [
            page_title("Nhập dữ liệu", "Import"),
            card(
                "Tệp nhập",
                "File to import",
                *upload_form(
                    IDS,
                    ".xlsx,.zip",
                    MAX_BYTES,
                    (
                        "Kéo thả hoặc bấm để chọn tệp XLSX hoặc zip (CSV)",
                        "Drop or click to choose an XLSX workbook or a zip of CSV files",
                    ),
                    ("Nhập", "Import"),
                ),
                html.Div(id=PROGRESS, className="form-message"),
            ),
            html.Div(
                card(
                    "Kết quả",
                    "Report",
                    html.Div(id=SUMMARY, className="caption"),
                    grid(SHEETS, import_view.SHEET_COLUMNS),
                    html.Div(
                        grid(ERRORS, import_view.ERROR_COLUMNS, page_size=50),
                        id=ERRORS_BOX,
                    ),
                ),
                id=REPORT_BOX,
                hidden=True,
            ),
            dcc.Store(id=JOB),
            dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
        ]
    )


def _no_broker(_passwords: Mapping[str, str]) -> None:
    """Without the server's broker accounts a new device cannot be made: the import says so and
    writes nothing, as the API does when the broker is down."""
    raise BrokerError(registry_view.NO_BROKER)


def start(
    src: sources.Sources, access: Access, content: bytes, filename: str, dry_run: bool
) -> str:
    """Start the import in a thread, as the API runs it (audited by the service); its job id."""
    access.require(ADMINISTER)
    client = sources.client()
    accounts = src.accounts()

    def work(progress: Progress) -> dict[str, Any]:
        with src.session_factory() as session:
            report = importing.import_registry(
                session,
                content,
                filename,
                access=access,
                put_accounts=_no_broker if accounts is None else accounts.put_devices,
                dry_run=dry_run,
                client=client,
                progress=progress,
            )
        if report.written:
            src.registry_changed()
        return report.model_dump(mode="json")

    return JOBS.start(access.username, work)


Shown = tuple[Any, bool, Any, bool, Any, list[dict[str, Any]], list[dict[str, Any]], bool]


def _without_report(job: Any, progress: Any, *, polling: bool = False) -> Shown:
    """The page with no report on it: `progress` in words, polling on or off."""
    return job, not polling, progress, True, "", [], [], True


def _failed(text: str) -> html.Span:
    return html.Span(text, className="field-error")


def poll(access: Access, job: dict[str, Any] | None) -> Shown:
    """What the page shows of a job: progress, and the report once it is done."""
    found = JOBS.get(job["id"], access.username) if job else None
    if found is None:
        return _without_report(job, "")
    if found.failure is not None:
        return _without_report(job, _failed(f"{FAILED}{found.failure}"))
    if found.report is None:
        done = import_view.progress_text(found.done, found.total)
        return _without_report(job, done, polling=True)
    report = found.report
    errors = import_view.error_records(report)
    vi, en = import_view.summary(report)
    return (
        job,
        True,
        import_view.progress_text(found.total, found.total) if found.total else "",
        False,
        html.Span(bilingual(vi, en), className="field-error" if errors else "ok"),
        import_view.sheet_records(report),
        errors,
        not errors,
    )


def register_callbacks(app: Dash) -> None:
    show_file_name(app, IDS)

    @app.callback(
        Output(TEMPLATE_DOWNLOAD, "data"), Input(TEMPLATE, "n_clicks"), prevent_initial_call=True
    )
    def template(_n: int | None) -> dict[str, Any]:
        sources.access().require(ADMINISTER)
        return dcc.send_bytes(importing.template_workbook(), TEMPLATE_NAME)

    @app.callback(
        Output(JOB, "data"),
        Output(POLL, "disabled"),
        Output(PROGRESS, "children"),
        Output(REPORT_BOX, "hidden"),
        Output(SUMMARY, "children"),
        Output(SHEETS, "rowData"),
        Output(ERRORS, "rowData"),
        Output(ERRORS_BOX, "hidden"),
        Input(CHECK, "n_clicks"),
        Input(RUN, "n_clicks"),
        Input(POLL, "n_intervals"),
        State(UPLOAD, "contents"),
        State(UPLOAD, "filename"),
        State(JOB, "data"),
        prevent_initial_call=True,
    )
    def run(
        _check: int | None,
        _run: int | None,
        _poll: int | None,
        contents: str | None,
        filename: str | None,
        job: dict[str, Any] | None,
    ) -> Shown:
        access = sources.access()
        if ctx.triggered_id == POLL:
            return poll(access, job)
        if not contents or not filename:
            return _without_report(no_update, _failed("Chưa chọn tệp / choose a file first"))
        try:
            content = decode(contents)
        except ValueError as exc:
            return _without_report(no_update, _failed(str(exc)))
        dry_run = ctx.triggered_id == CHECK
        job_id = start(sources.current(), access, content, filename, dry_run)
        started = import_view.progress_text(0, 0)
        return _without_report({"id": job_id}, started, polling=True)
