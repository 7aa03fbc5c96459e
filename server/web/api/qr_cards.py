"""The printed QR cards of a unit's counters, as an A4 PDF to download (admin; a unit head for
their own unit). Printing makes each counter's card link the first time (a write, audited)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status

from hailong.errors import RegistryError, UnknownId
from server.access import audit
from server.access.roles import PRINT_QR_CARDS
from server.channels import cards
from server.reporting.monthly_pdf import MEDIA_TYPE
from server.web.api.deps import AccessDep, NowDep, SessionDep, SettingsDep, client_address

qr_cards_api = APIRouter(prefix="/api/v1")


@qr_cards_api.get(
    "/units/{unit_id}/qr-cards.pdf",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
)
def unit_qr_cards(
    unit_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    access: AccessDep,
    now: NowDep,
) -> Response:
    """One card per counter, eight to an A4 page: the unit's and counter's names, "Quét mã để
    đánh giá", the QR of the counter's rating link and the link in text. The link's address is
    HAILONG_PUBLIC_URL, else the address this request came to."""
    access.require(PRINT_QR_CARDS)
    access.unit_scope(unit_id)
    base = settings.public_url or str(request.base_url)
    try:
        found = cards.unit_cards(session, unit_id, base, now)
    except UnknownId as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except RegistryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    pdf = cards.sheet_pdf(found)
    audit.record_access(
        session,
        access,
        "export.qr_cards",
        target=unit_id,
        client=client_address(request),
        detail={"cards": len(found)},
    )
    session.commit()
    return Response(
        pdf,
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{cards.filename(unit_id)}"'},
    )
