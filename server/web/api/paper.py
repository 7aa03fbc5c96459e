"""Paper survey forms: an upload of forms in (server/channels/paper.py), the template to type
them into out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile

from server.access.roles import ENTER_PAPER, Access
from server.channels.paper import PaperReport, enter_forms
from server.channels.paper_template import template_workbook
from server.registry.importing.reading import MAX_BYTES
from server.web.api.deps import NowDep, SessionDep, client_address, require_role
from server.web.api.importing import read_file, refused, upload_refusals
from server.web.api.reports import MEDIA_TYPES

paper_api = APIRouter(prefix="/api/v1", tags=["paper"])
PaperUser = Annotated[Access, Depends(require_role(ENTER_PAPER))]
TEMPLATE_NAME = "hailong-mau-phieu-khao-sat.xlsx"

_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": f"the file is over {MAX_BYTES // (1024 * 1024)} MB"},
    415: {"description": "the file is neither an XLSX workbook nor a UTF-8 CSV file"},
    422: {"model": PaperReport, "description": "errors in the file: no form was entered"},
}


@paper_api.post("/paper", responses=_RESPONSES)
def enter_paper(
    file: UploadFile,
    session: SessionDep,
    access: PaperUser,
    request: Request,
    now: NowDep,
    dry_run: Annotated[bool, Query(description="check and report, enter nothing")] = False,
) -> PaperReport:
    """Paper survey forms, one per row (docs/paper-forms.md): all entered, or with any error
    none; a form number entered before is refused by row."""
    with upload_refusals():
        report = enter_forms(
            session,
            request.app.state.ingest_rules,
            read_file(file),
            file.filename or "upload",
            access=access,
            now=now,
            dry_run=dry_run,
            client=client_address(request),
        )
    if report.errors:
        return refused(report)  # type: ignore[return-value]
    return report


@paper_api.get(
    "/paper/template",
    responses={200: {"content": {MEDIA_TYPES["xlsx"]: {"schema": {"type": "string"}}}}},
)
def paper_template(session: SessionDep, _: PaperUser) -> Response:
    """The XLSX to type forms into, with the ids of units, counters, fields, officers and
    reasons to copy."""
    return Response(
        template_workbook(session),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{TEMPLATE_NAME}"'},
    )
