"""The alerts API: what the policy's alert rules raised, for the people who act on them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from server.access.roles import SEE_ALERTS, Access
from server.alerts.checks import recent
from server.storage.models import Alert, Moment
from server.web.api.deps import SessionDep, require_role
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

    @classmethod
    def of(cls, alert: Alert) -> AlertPublic:
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
        )


@alerts_api.get("/alerts")
def list_alerts(
    session: SessionDep,
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
    return [AlertPublic.of(a) for a in found]
