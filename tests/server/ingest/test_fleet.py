"""The fleet view on real SQLite and PostgreSQL (counts, filter, accent-blind search, the officer
on duty, missing seqs, a unit's scope), its route's roles, and a unit that stops on a real
Mosquitto moving from online to offline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hailong import protocol
from hailong.mqtt import new_client
from server.access.auth import add_user
from server.ingest.fleet import fleet_view, fold
from server.storage.models import (
    Assignment,
    Counter,
    Device,
    DeviceConnection,
    Officer,
    SeqGap,
    Unit,
)
from tests.conftest import Broker
from tests.server.factories import seed_registry
from tests.server.ingest.test_live_status import engine, start_server  # noqa: F401  (fixture)
from tests.server.test_faults import wait_until
from tests.server.web.test_api import api_app, login

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam, a Wednesday
MIN = timedelta(minutes=1)


def add_fleet(session: Session) -> None:
    """Next to seed_registry's never-seen dev-dh-q1 (Nguyễn Thị Lan on duty at DH-Q1): one unit
    of each status in DH, and an online one in another unit."""
    session.add(Unit(id="HB", name="Xã Hòa Bình", kind="commune"))
    session.commit()
    session.add(Officer(id="CB-0100", name="Trần Văn Đức", unit_id="HB"))
    session.add(Officer(id="CB-0043", name="Lê Văn Bình", unit_id="DH"))
    for counter, name, unit in [
        ("DH-Q2", "Quầy Đất đai", "DH"),
        ("DH-Q3", "Quầy Hộ tịch", "DH"),
        ("DH-Q4", "Quầy Cũ", "DH"),
        ("HB-Q1", "Quầy Một cửa", "HB"),
    ]:
        session.add(Counter(id=counter, name=name, unit_id=unit))
    session.commit()
    made = NOW - timedelta(days=30)
    session.add_all(
        [
            Device(
                id="dev-dh-q2",
                counter_id="DH-Q2",
                created_at=made,
                state="online",
                last_seen_at=NOW - 10 * MIN,
                firmware="1.2.0",
                outbox=7,
                ignored_presses=2,
            ),
            Device(
                id="dev-dh-q3",
                counter_id="DH-Q3",
                created_at=made,
                state="offline",
                last_seen_at=NOW - 30 * MIN,
            ),
            Device(
                id="dev-dh-q4",
                counter_id="DH-Q4",
                created_at=made,
                revoked_at=NOW - timedelta(days=1),
                state="online",
                last_seen_at=NOW - timedelta(days=1),
            ),
            Device(
                id="dev-hb-1",
                counter_id="HB-Q1",
                created_at=made,
                state="online",
                last_seen_at=NOW - MIN,
                firmware="1.3.0",
                outbox=0,
            ),
            DeviceConnection(
                device_id="dev-dh-q2", state="online", received_at=NOW - 120 * MIN, live=True
            ),
            # dev-dh-q3: an earlier spell, then the last connection, its Last Will, and the
            # retained Will again when the server reconnected
            *(
                DeviceConnection(device_id="dev-dh-q3", state=state, received_at=at, live=True)
                for state, at in [
                    ("online", NOW - timedelta(days=2)),
                    ("offline", NOW - timedelta(days=1)),
                    ("online", NOW - 180 * MIN),
                    ("offline", NOW - 60 * MIN),
                    ("offline", NOW - 30 * MIN),
                ]
            ),
            DeviceConnection(
                device_id="dev-hb-1", state="online", received_at=NOW - 300 * MIN, live=True
            ),
            SeqGap(device_id="dev-dh-q2", first_seq=3, last_seq=5),
            SeqGap(device_id="dev-dh-q2", first_seq=9, last_seq=None),  # above the highest
            Assignment(officer_id="CB-0100", counter_id="HB-Q1", start=NOW - 60 * MIN),
            Assignment(  # ended before now: nobody on duty at DH-Q3
                officer_id="CB-0043",
                counter_id="DH-Q3",
                start=NOW - 300 * MIN,
                end=NOW - 10 * MIN,
            ),
        ]
    )
    session.commit()


@pytest.fixture
def fleet(session: Session) -> Session:
    add_fleet(session)
    return session


def test_counts_and_rows(fleet: Session) -> None:
    view = fleet_view(fleet, NOW)
    assert view.counts == {
        "online": 1,
        "silent": 1,
        "offline": 1,
        "never_seen": 1,
        "revoked": 1,
        "total": 4,
    }
    rows = {r.device_id: r for r in view.rows}
    assert {d: r.status for d, r in rows.items()} == {
        "dev-dh-q1": "never_seen",
        "dev-dh-q2": "silent",
        "dev-dh-q3": "offline",
        "dev-dh-q4": "revoked",
        "dev-hb-1": "online",
    }
    assert [r.device_id for r in view.rows] == sorted(rows, key=lambda d: (rows[d].unit_id, d))
    assert rows["dev-dh-q2"].since == NOW - 10 * MIN, "silent since last heard"
    assert rows["dev-dh-q3"].since == NOW - 60 * MIN, "offline since its Will, not the copy"
    assert rows["dev-hb-1"].since == NOW - 300 * MIN, "online since it connected"
    assert rows["dev-dh-q4"].since == NOW - timedelta(days=1)
    assert rows["dev-dh-q1"].since is None and rows["dev-dh-q1"].last_seen_at is None
    silent = rows["dev-dh-q2"]
    assert (silent.counter_name, silent.unit_id, silent.unit_name) == (
        "Quầy Đất đai",
        "DH",
        "Phường Diên Hồng",
    )
    assert (silent.outbox, silent.missing_seqs, silent.firmware, silent.ignored_presses) == (
        7,
        3,
        "1.2.0",
        2,
    )
    assert rows["dev-hb-1"].missing_seqs == 0
    assert (rows["dev-dh-q1"].officer_id, rows["dev-dh-q1"].officer_name) == (
        "CB-0042",
        "Nguyễn Thị Lan",
    )
    assert rows["dev-hb-1"].officer_name == "Trần Văn Đức"
    assert rows["dev-dh-q3"].officer_id is None, "the shift there ended"
    assert rows["dev-dh-q2"].officer_id is None


def test_a_unit_scope_and_a_filter_keep_the_scopes_counts(fleet: Session) -> None:
    dh = fleet_view(fleet, NOW, unit_id="DH")
    assert {r.unit_id for r in dh.rows} == {"DH"}
    assert (dh.counts["online"], dh.counts["total"], dh.counts["revoked"]) == (0, 3, 1)
    offline = fleet_view(fleet, NOW, unit_id="DH", status="offline")
    assert [r.device_id for r in offline.rows] == ["dev-dh-q3"]
    assert offline.counts == dh.counts
    assert fleet_view(fleet, NOW, unit_id="HB", status="silent").rows == []
    with pytest.raises(ValueError, match="status 'gone' is unknown; use one of online"):
        fleet_view(fleet, NOW, status="gone")


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("nguyen", ["dev-dh-q1"]),  # the officer on duty, without accents
        ("NGUYỄN thị", ["dev-dh-q1"]),
        ("duc", ["dev-hb-1"]),  # đ is d
        ("đất", ["dev-dh-q2"]),  # the counter's name
        ("quay ho tich", ["dev-dh-q3"]),
        ("hb-q1", ["dev-hb-1"]),  # the counter's id
        ("DEV-DH-Q", ["dev-dh-q1", "dev-dh-q2", "dev-dh-q3", "dev-dh-q4"]),
        ("binh", []),  # Lê Văn Bình's shift has ended
        ("   ", ["dev-dh-q1", "dev-dh-q2", "dev-dh-q3", "dev-dh-q4", "dev-hb-1"]),
    ],
)
def test_search_ignores_case_and_accents(fleet: Session, search: str, found: list[str]) -> None:
    view = fleet_view(fleet, NOW, search=search)
    assert [r.device_id for r in view.rows] == found
    assert view.counts["total"] == 4


def test_fold() -> None:
    assert fold("Nguyễn Thị Lan – Đức") == "nguyen thi lan – duc"
    assert fold("ĐÀ LẠT") == "da lat"


def test_the_route_by_role(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    with Session(app.state.engine) as session:
        seed_registry(session)
        add_fleet(session)
        add_user(session, "head-dh", "head-dh-password", "unit_head", unit_id="DH")
        add_user(session, "officer", "officer-password", "officer", officer_id="CB-0042")
    with TestClient(app) as client:
        for user in ("admin", "hr"):
            r = client.get("/api/v1/fleet", headers=login(client, user))
            assert r.status_code == 200, r.text
            assert r.json()["counts"]["total"] == 4
        head = login(client, "head-dh")
        r = client.get("/api/v1/fleet", headers=head, params={"status": "silent"})
        assert r.status_code == 200, r.text
        assert [row["device_id"] for row in r.json()["rows"]] == ["dev-dh-q2"]
        assert r.json()["counts"]["total"] == 3, "their own unit only"
        r = client.get("/api/v1/fleet", headers=head, params={"unit_id": "HB"})
        assert r.status_code == 403 and "only their own unit" in r.json()["detail"]
        for user in ("viewer", "officer"):
            r = client.get("/api/v1/fleet", headers=login(client, user))
            assert r.status_code == 403, (user, r.text)
        admin = login(client, "admin")
        r = client.get("/api/v1/fleet", headers=admin, params={"search": "nguyen"})
        assert [row["officer_name"] for row in r.json()["rows"]] == ["Nguyễn Thị Lan"]
        r = client.get("/api/v1/fleet", headers=admin, params={"status": "gone"})
        assert r.status_code == 422 and "unknown" in r.text
        assert client.get("/api/v1/fleet").status_code == 401


# --- a real unit stopping on a real broker ------------------------------------------------------


def status(state: str) -> bytes:
    return protocol.Status(
        state=state,  # type: ignore[arg-type]
        firmware="1.0",
        outbox=0,
        uptime_s=1,
        at=datetime.now(UTC),
    ).to_payload()


def counts(db: Engine) -> dict[str, int]:
    with Session(db) as session:
        return fleet_view(session, datetime.now(UTC)).counts


@pytest.mark.parametrize("stop", ["link_lost", "clean"])
def test_a_unit_that_stops_moves_from_online_to_offline(
    broker: Broker,
    engine: Engine,  # noqa: F811
    stop: str,
) -> None:
    """A unit connects with its Last Will set as device/link.py sets it and says it is online;
    then its connection drops without a word (the broker publishes the Will) or it stops
    cleanly (it says offline itself). Either way the fleet counts it offline."""
    server = start_server(engine, broker)
    target = broker.add_device("dev-dh-q1")
    unit = new_client("dev-dh-q1", target)
    topic = protocol.topic("dev-dh-q1", "status")
    unit.will_set(topic, status("offline"), qos=1, retain=True)
    unit.connect(target.host, target.port, keepalive=30)
    unit.loop_start()
    try:
        assert counts(engine)["never_seen"] == 1
        unit.publish(topic, status("online"), qos=1, retain=True).wait_for_publish(10)
        wait_until(lambda: counts(engine)["online"] == 1, "the unit to show online")
        if stop == "clean":
            unit.publish(topic, status("offline"), qos=1, retain=True).wait_for_publish(10)
            unit.disconnect()
        unit.loop_stop()
        if stop == "link_lost":
            sock = unit.socket()
            assert sock is not None
            sock.close()  # no DISCONNECT: the broker publishes the Will
        wait_until(lambda: counts(engine)["offline"] == 1, "the unit to show offline")
        found = counts(engine)
        assert (found["online"], found["silent"], found["total"]) == (0, 0, 1)
        with Session(engine) as session:
            (row,) = fleet_view(session, datetime.now(UTC)).rows
        assert row.since is not None and row.since <= datetime.now(UTC)
    finally:
        server.stop()


def statements(session: Session) -> int:
    """How many SQL statements one fleet view runs."""
    seen: list[str] = []
    bind = session.get_bind()

    def count(*_: object) -> None:
        seen.append("")

    event.listen(bind, "before_cursor_execute", count)
    try:
        fleet_view(session, NOW, search="quay")
    finally:
        event.remove(bind, "before_cursor_execute", count)
    return len(seen)


def test_the_view_runs_the_same_few_queries_for_any_number_of_units(fleet: Session) -> None:
    few = statements(fleet)
    for i in range(40):
        fleet.add(Device(id=f"dev-x-{i}", counter_id="HB-Q1", created_at=NOW, state="online"))
        fleet.add(
            DeviceConnection(device_id=f"dev-x-{i}", state="online", received_at=NOW, live=True)
        )
        fleet.add(SeqGap(device_id=f"dev-x-{i}", first_seq=1, last_seq=2))
    fleet.commit()
    assert fleet_view(fleet, NOW, unit_id="HB").counts["total"] == 41
    assert statements(fleet) == few <= 8  # devices, shifts on duty (rotas too), names, seqs
