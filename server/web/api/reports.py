"""Report routes: per officer, counter, field or unit as JSON, CSV or XLSX, and a unit's
printable month, as server/reporting/access_reports.py runs them for the user: held to what
they may see, audited with the query, the policy version and the SHA-256 of the content; the
audit event's id is the report's `run_id`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from hailong.errors import UnknownId
from server.policy import Policy
from server.reporting import access_reports, exports, monthly_pdf, report_json, reports
from server.reporting import monthly as monthly_report
from server.reporting.access_reports import SCOPE_OF
from server.reporting.periods import FORMS, Period, parse_period
from server.timeutil import vn_day
from server.web.api.deps import AccessDep, NowDep, SessionDep, client_address

reports_api = APIRouter(prefix="/api/v1", tags=["reports"])

PathScope = Literal["officers", "counters", "fields", "units"]
Format = Literal["json", "csv", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "JSON by default; with format=csv or xlsx, the same report as a file",
    }
}


def _policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


def _period(period: str | None, start: date | None, end: date | None) -> Period:
    """`period`, or `start` and `end` as the older clients give them; never both, never
    neither."""
    if period is not None:
        if start is not None or end is not None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "period: give either period, or start and end, not both",
            )
        try:
            return parse_period(period)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"period: {exc}") from None
    if start is None or end is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"period: required, written as {FORMS}; or give both start and end",
        )
    if end < start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "end: must not be before start")
    try:
        return reports.period_between(start, end)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"start, end: {exc}") from None


def _filename(scope: report_json.Scope, period: Period, fmt: str) -> str:
    return f"hailong-{scope}-{period.text}.{fmt}"


@reports_api.get("/reports/{scope}", responses=_FILE_RESPONSES)
def scope_report(
    scope: PathScope,
    request: Request,
    session: SessionDep,
    access: AccessDep,
    period: Annotated[
        str | None, Query(description=f"Vietnam days: {FORMS}", examples=["2026-10"])
    ] = None,
    start: Annotated[
        date | None, Query(description="instead of period: first day, YYYY-MM-DD")
    ] = None,
    end: Annotated[date | None, Query(description="with start: last day (inclusive)")] = None,
    unit_id: Annotated[
        str | None, Query(description="only this unit (a unit_head's is always their own)")
    ] = None,
    officer_id: Annotated[str | None, Query(description="only this officer's ratings")] = None,
    field_id: Annotated[
        str | None, Query(description="only the counters serving this field (lĩnh vực)")
    ] = None,
    include_flagged: Annotated[
        bool, Query(description="count ratings flagged as misuse in the figures too")
    ] = False,
    format: Annotated[Format, Query(description="json, csv or xlsx")] = "json",
    *,
    now: NowDep,
) -> Response:
    """One row per officer, counter, field or unit with its figures, how many ratings carried
    each flag (`flags`: why `flagged` ones were left out, and which were counted though
    flagged), the previous period's figures and the change, its 95 % Wilson interval and its
    rank by the interval's lower bound (rows with fewer ratings than the policy's minimum are
    not ranked); officers also get the policy's suggested classification and the rule that gave
    it. A field counts the ratings at the counters serving it, so a counter serving two fields
    counts in both.

    A period not over yet (today Vietnam time or later) is compared with as many days from the
    start of the period before: 1-3 December with 1-3 November.

    A unit_head sees their own unit, an officer only their own row, a viewer officers' rows
    without officer_id or name."""
    kind = SCOPE_OF[scope]
    chosen = _period(period, start, end)
    today = vn_day(now)  # a period still running compares with as many days before it
    query = reports.Query(kind, chosen, unit_id, officer_id, field_id, include_flagged, today)
    body = access_reports.run(
        session,
        access,
        query,
        _policy(request),
        export=None if format == "json" else format,
        client=client_address(request),
    ).body()
    if format == "json":
        answer: Response = JSONResponse(body)
    else:
        if format == "csv":
            data = exports.csv_bytes(body)
        else:
            data = exports.xlsx_bytes(body, exports.names_of(session, body))
        answer = Response(
            data,
            media_type=MEDIA_TYPES[format],
            headers={
                "Content-Disposition": f'attachment; filename="{_filename(kind, chosen, format)}"'
            },
        )
    session.commit()
    return answer


@reports_api.get(
    "/reports/units/{unit_id}/monthly",
    response_class=HTMLResponse,
    responses={
        200: {
            "content": {
                "text/html": {},
                monthly_pdf.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "the page, to print; with format=pdf, the same page as a PDF file",
        }
    },
)
def unit_monthly_report(
    unit_id: str,
    request: Request,
    session: SessionDep,
    access: AccessDep,
    month: Annotated[str, Query(description="the month, e.g. 2026-10", examples=["2026-10"])],
    include_flagged: Annotated[
        bool, Query(description="count ratings flagged as misuse in the figures too")
    ] = False,
    format: Annotated[
        Literal["html", "pdf"], Query(description="html (the page) or pdf (a file to download)")
    ] = "html",
) -> Response:
    """A unit's month as an A4 administrative document in Vietnamese (Nghị định 30/2020/NĐ-CP:
    Quốc hiệu, issuing body, number, place and date, "Nơi nhận", the signer): its officers'
    table with the suggested classes and their rules, charts, reasons, totals against the month
    before, the policy version, run id and SHA-256. As HTML to print from the browser, or with
    format=pdf the same page as a PDF; each is audited (export.monthly.html, .pdf)."""
    access_reports.check_monthly(access, unit_id)
    try:
        chosen = monthly_report.parse_month(month)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"month: {exc}") from None
    try:
        page = access_reports.monthly(
            session,
            access,
            unit_id,
            chosen,
            _policy(request),
            client=client_address(request),
            include_flagged=include_flagged,
            fmt=format,
        )
    except UnknownId as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    answer: Response = HTMLResponse(page)
    if format == "pdf":
        name = monthly_pdf.filename(unit_id, chosen.text)
        answer = Response(
            monthly_pdf.pdf_bytes(page),
            media_type=monthly_pdf.MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    session.commit()
    return answer
