"""A person's answer to an alert: acknowledged (seen, being handled), then resolved (dealt with,
with an optional note), each stamped with who and when and written to the audit log with it.

Only the roles that see alerts answer them (`SEE_ALERTS`), a unit_head only their own unit's.
Each answer is a conditional UPDATE, so of two people pressing at once one wins and the other is
told who was first; answering again is refused with when and by whom it was done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, update
from sqlmodel import Session

from hailong.errors import HailongError, UnknownId
from server.access import audit
from server.access.roles import SEE_ALERTS, Access
from server.storage.models import Alert
from server.timeutil import VN_TZ

ALERT: Table = Alert.__table__  # type: ignore[attr-defined]
NOTE_CHARS = 500  # what Alert.resolution_note holds

ACKNOWLEDGED = "alert.acknowledge"
RESOLVED = "alert.resolve"


class AlreadyAnswered(HailongError):
    """The alert was already acknowledged or resolved; the API answers 409 with the message."""


def _when(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


def visible_alert(session: Session, access: Access, alert_id: int) -> Alert:
    """The alert, if this user may see it: Forbidden for a role that sees no alerts or a
    unit_head asking for another unit's; UnknownId for none."""
    access.require(SEE_ALERTS)
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise UnknownId(f"Không có cảnh báo số {alert_id}. / No alert {alert_id}.")
    access.unit_scope(alert.unit_id)
    return alert


def _resolved_error(alert: Alert) -> AlreadyAnswered:
    assert alert.resolved_at is not None
    note = f' (ghi chú: "{alert.resolution_note}")' if alert.resolution_note else ""
    return AlreadyAnswered(
        f"Cảnh báo số {alert.id} đã được xử lý lúc {_when(alert.resolved_at)} bởi "
        f"{alert.resolved_by}{note}. / Alert {alert.id} was already resolved at "
        f"{alert.resolved_at.astimezone(VN_TZ):%Y-%m-%d %H:%M} (Vietnam time) by "
        f"{alert.resolved_by}."
    )


def _acknowledged_error(alert: Alert) -> AlreadyAnswered:
    assert alert.acknowledged_at is not None
    return AlreadyAnswered(
        f"Cảnh báo số {alert.id} đã được xem lúc {_when(alert.acknowledged_at)} bởi "
        f"{alert.acknowledged_by}; hãy đánh dấu đã xử lý khi xong. / Alert {alert.id} was "
        f"already acknowledged at {alert.acknowledged_at.astimezone(VN_TZ):%Y-%m-%d %H:%M} "
        f"(Vietnam time) by {alert.acknowledged_by}; resolve it when it is dealt with."
    )


def _claimed(session: Session, alert_id: int, column: str, values: dict[str, Any]) -> bool:
    """Set `values` if `column` is still empty; whether this call did."""
    done = session.execute(
        update(ALERT).where(ALERT.c.id == alert_id, ALERT.c[column].is_(None)).values(**values)
    )
    return cast(CursorResult[Any], done).rowcount == 1


def acknowledge(
    session: Session,
    access: Access,
    alert_id: int,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """Mark the alert seen by this user, audited; the caller commits. Refused with who and when
    if it was already acknowledged or resolved."""
    alert = visible_alert(session, access, alert_id)
    if alert.resolved_at is not None:
        raise _resolved_error(alert)
    at = now or datetime.now(UTC)
    values = {"acknowledged_at": at, "acknowledged_by": access.username[:64]}
    if not _claimed(session, alert_id, "acknowledged_at", values):
        session.refresh(alert)
        raise _acknowledged_error(alert)
    audit.record_access(
        session,
        access,
        ACKNOWLEDGED,
        target=f"alert:{alert_id}",
        client=client,
        detail={"unit_id": alert.unit_id, "rule": alert.rule},
    )
    session.flush()
    session.refresh(alert)
    return alert


def resolve(
    session: Session,
    access: Access,
    alert_id: int,
    note: str | None = None,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """Mark the alert dealt with by this user, with an optional note, audited; the caller
    commits. An alert nobody acknowledged is acknowledged by the same answer. Refused with who,
    when and the note if it was already resolved."""
    text = (note or "").strip() or None
    if text is not None and len(text) > NOTE_CHARS:
        raise ValueError(
            f"note: tối đa {NOTE_CHARS} ký tự, đã viết {len(text)}; hãy rút gọn. / At most "
            f"{NOTE_CHARS} characters, not {len(text)}."
        )
    alert = visible_alert(session, access, alert_id)
    at = now or datetime.now(UTC)
    who = access.username[:64]
    values = {"resolved_at": at, "resolved_by": who, "resolution_note": text}
    if not _claimed(session, alert_id, "resolved_at", values):
        session.refresh(alert)
        raise _resolved_error(alert)
    _claimed(session, alert_id, "acknowledged_at", {"acknowledged_at": at, "acknowledged_by": who})
    audit.record_access(
        session,
        access,
        RESOLVED,
        target=f"alert:{alert_id}",
        client=client,
        detail={"unit_id": alert.unit_id, "rule": alert.rule, "note": text},
    )
    session.flush()
    session.refresh(alert)
    return alert
