"""The alerts API: what the policy's alert rules raised, for the people who act on them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from hailong.errors import UnknownId
from server.access.roles import SEE_ALERTS, Access
from server.alerts import answers, listing
from server.alerts.checks import recent
from server.storage.models import Alert, Moment
from server.web.api.deps import SessionDep, SettingsDep, client_address, require_role
from server.web.api.routes import UnitFilter

alerts_api = APIRouter(prefix="/api/v1", tags=["alerts"])

AlertReader = Annotated[Access, Depends(require_role(SEE_ALERTS))]


class AlertPublic(BaseModel):
    id: int
    rule: str
    unit_id: str
    counter_id: str | None
    raised_at: datetime
    window_start: datetime
    window_end: datetime
    value: float | None
    message: str
    delivered: bool
    delivered_at: datetime | None
    delivery: listing.Delivery  # not_configured (no webhook set), sent, failed, waiting
    delivery_vi: str  # the same in Vietnamese, with when it was sent or the last error
    last_error: str | None
    state: listing.State  # new, acknowledged, resolved
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None

    @classmethod
    def of(cls, alert: Alert, webhook: bool) -> AlertPublic:
        assert alert.id is not None
        return cls(
            id=alert.id,
            rule=alert.rule,
            unit_id=alert.unit_id,
            counter_id=alert.counter_id,
            raised_at=alert.raised_at,
            window_start=alert.window_start,
            window_end=alert.window_end,
            value=alert.value,
            message=alert.message,
            delivered=alert.delivered_at is not None,
            delivered_at=alert.delivered_at,
            delivery=listing.delivery(alert, webhook),
            delivery_vi=listing.delivery_text(alert, webhook),
            last_error=alert.last_error,
            state=listing.state(alert),
            acknowledged_at=alert.acknowledged_at,
            acknowledged_by=alert.acknowledged_by,
            resolved_at=alert.resolved_at,
            resolved_by=alert.resolved_by,
            resolution_note=alert.resolution_note,
        )


@alerts_api.get("/alerts")
def list_alerts(
    session: SessionDep,
    settings: SettingsDep,
    access: AlertReader,
    unit_id: UnitFilter = None,
    since: Annotated[
        Moment | None, Query(description="only those raised at or after this moment")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first")] = 100,
) -> list[AlertPublic]:
    """Alerts newest first: admin and hr see every unit's, a unit_head only their own unit's
    (asking for another is refused). Officers and viewers are refused: a counter's alert points
    at whoever sat there, and viewers see aggregate figures only."""
    found = recent(session, unit_id=access.unit_scope(unit_id), since=since, limit=limit)
    webhook = bool(settings.alert_webhook_url)
    return [AlertPublic.of(a, webhook) for a in found]


class Resolution(BaseModel):
    note: str | None = Field(
        None, max_length=answers.NOTE_CHARS, description="What was done, for the record"
    )


def _answered(
    session: SessionDep, settings: SettingsDep, answer: Callable[[], Alert]
) -> AlertPublic:
    """Run an answer and commit it with its audit event; 404 for no such alert, 409 if it was
    already answered (the message says when and by whom)."""
    try:
        alert = answer()
    except UnknownId as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except answers.AlreadyAnswered as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    session.commit()
    return AlertPublic.of(alert, bool(settings.alert_webhook_url))


@alerts_api.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: int, request: Request, session: SessionDep, settings: SettingsDep, access: AlertReader
) -> AlertPublic:
    """Mark an alert seen (being handled), audited; a unit_head only their own unit's."""
    client = client_address(request)
    return _answered(
        session,
        settings,
        lambda: answers.acknowledge(session, access, alert_id, client=client),
    )


@alerts_api.post("/alerts/{alert_id}/resolve")
def resolve_alert(
    alert_id: int,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    access: AlertReader,
    body: Annotated[Resolution | None, Body()] = None,
) -> AlertPublic:
    """Mark an alert dealt with, with an optional note (JSON {"note": …}), audited."""
    client = client_address(request)
    note = None if body is None else body.note
    return _answered(
        session,
        settings,
        lambda: answers.resolve(session, access, alert_id, note, client=client),
    )
