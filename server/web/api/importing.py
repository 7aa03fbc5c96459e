"""The registry import: a workbook or a zip of CSV files in, a report of every row out
(server/registry/importing/), and the template to fill in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hailong.errors import BrokerError
from server.registry.importing import (
    FileTooLarge,
    ImportReport,
    UnreadableFile,
    import_registry,
    template_workbook,
)
from server.registry.importing.reading import MAX_BYTES, too_large
from server.web.api.deps import AdminUser, SessionDep, client_address
from server.web.api.reports import MEDIA_TYPES

importing_api = APIRouter(prefix="/api/v1", tags=["import"])
TEMPLATE_NAME = "hailong-mau-nhap.xlsx"

_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": f"the file is over {MAX_BYTES // (1024 * 1024)} MB"},
    415: {"description": "the file is neither an XLSX workbook nor a zip of CSV files"},
    422: {"model": ImportReport, "description": "errors in the file: nothing was written"},
    503: {"description": "the broker could not make the new devices' accounts: nothing written"},
}


def read_file(file: UploadFile) -> bytes:
    """The upload's bytes, refused (FileTooLarge) once over MAX_BYTES without reading more."""
    content = file.file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise too_large(len(content))
    return content


@contextmanager
def upload_refusals() -> Iterator[None]:
    """A file too large: 413; a file that is not what the route reads: 415."""
    try:
        yield
    except FileTooLarge as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(exc)) from None
    except UnreadableFile as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None


def refused(report: BaseModel) -> JSONResponse:
    """A report with errors in the file: 422, with the report as the body."""
    return JSONResponse(
        report.model_dump(mode="json"), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


@importing_api.post("/import", responses=_RESPONSES)
def import_file(
    file: UploadFile,
    session: SessionDep,
    access: AdminUser,
    request: Request,
    dry_run: Annotated[bool, Query(description="check and report, write nothing")] = False,
) -> ImportReport:
    """Units, fields, counters, officers, devices and rota rows, each created, updated or left
    unchanged by its id; any error and nothing is written (docs/registry-import.md)."""
    try:
        with upload_refusals():
            report = import_registry(
                session,
                read_file(file),
                file.filename or "upload",
                access=access,
                put_accounts=request.app.state.accounts.put_devices,
                dry_run=dry_run,
                client=client_address(request),
            )
    except BrokerError as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"nothing was imported: {exc}"
        ) from None
    if report.errors:
        return refused(report)  # type: ignore[return-value]
    ingest = getattr(request.app.state, "ingest", None)
    if report.written and ingest is not None:
        ingest.request_config_refresh()
    return report


@importing_api.get(
    "/import/template",
    responses={200: {"content": {MEDIA_TYPES["xlsx"]: {"schema": {"type": "string"}}}}},
)
def import_template(_: AdminUser) -> Response:
    """The XLSX to fill in: the sheets with their headers, an example sheet and a guide."""
    return Response(
        template_workbook(),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="{TEMPLATE_NAME}"'},
    )
