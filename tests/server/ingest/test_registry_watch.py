"""The ingest sees registry writes another process made (an API process without ingest) in the
audit log, so units get their Config within seconds, not at the next periodic refresh."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.access import audit
from server.ingest import registry_watch
from server.ingest.registry_watch import RegistryWatch
from server.storage.db import make_engine


def test_a_registry_write_is_seen_and_reads_and_logins_are_not(session: Session) -> None:
    watch = RegistryWatch()
    assert watch.changed(session), "the first look refreshes: writes before it are unseen"
    assert not watch.changed(session)

    for action in ("login.ok", "report.officers", "services.events", "signin.in"):
        audit.record(session, "hr", action)
    session.commit()
    assert not watch.changed(session)

    audit.record(session, "admin", "report.units")
    audit.record(session, "admin", "device.create", target="dev-9")
    session.commit()
    assert watch.changed(session)
    assert not watch.changed(session), "each write is seen once"

    audit.record(session, "admin", "registry.import", target="bo-phan.xlsx")
    session.commit()
    assert watch.changed(session)


def test_many_new_events_are_read_as_a_change(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = RegistryWatch()
    watch.changed(session)
    monkeypatch.setattr(registry_watch, "MAX_ROWS", 3)
    for _ in range(3):
        audit.record(session, "hr", "login.ok")
    session.commit()
    assert watch.changed(session), "more than it reads at once: refresh rather than miss one"


def test_a_database_that_is_down_says_no_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    engine: Engine = make_engine("sqlite:////nonexistent-folder/hailong.db")
    assert not RegistryWatch().written(engine)
    assert "could not read the audit log" in caplog.text
