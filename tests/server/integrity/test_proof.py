"""`hailong verify` proves what the reports read: the rollups recounted from the chained ratings,
and every device's chain head against the anchors kept outside the database, on both databases.

Each tampering below passed the old `verify` (the chain walk alone, asserted in each test as
`verify(...).ok`), and the tail rollback passed `rollups check` as well."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hailong.errors import ConfigError
from server.housekeeping import housekeeping_jobs
from server.ingest.services import ServiceIn, record_services
from server.ingest.store import IngestRules, store_rows
from server.integrity import anchors, proof
from server.integrity.key import load_key
from server.integrity.verify import verify
from server.integrity.write import prepare, seal_unchained
from server.jobs import Jobs
from server.policy import load_policy
from server.reporting import recount
from server.settings import Settings
from server.storage import rollups
from server.storage.db import make_engine, migrate
from server.timeutil import VN_TZ
from server.web.app import create_app
from tests.server.factories import rating_row, seed_registry
from tests.server.integrity.test_chain import _delete_tail, _head, _tamper

KEY = bytes(range(50, 82))
WRONG_KEY = bytes(32)
RULES = IngestRules(chain_key=KEY)
COUNTED = RULES.misuse.count
NOW = datetime(2027, 1, 3, 3, 0, tzinfo=UTC)
DAYS = (date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 2))


def _row(device: str, seq: int, day: date = DAYS[1], tag: str = "") -> dict[str, Any]:
    pressed = datetime.combine(day, time(9), VN_TZ) + timedelta(minutes=seq)
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{device}/{seq}/{day}/{tag}")),
        "device_id": device,
        "seq": seq,
        "pressed_at": pressed,
        "device_pressed_at": pressed.isoformat(),
        "received_at": pressed + timedelta(seconds=2),
        "day": day,
        "scale": "vn4",
        "score": 1 + seq % 4,
        "officer_id": "CB-0042",
        "counter_id": "DH-Q1",
        "unit_id": "DH",
        "reported_officer_id": None,
        "reported_counter_id": None,
        "ticket": f"A-{seq}" if seq % 3 == 0 else None,
        "reasons": "slow" if seq % 4 == 0 else "",
        "comment": None,
        "input": "button",
        "clock_synced": True,
        "flags": "cooldown" if seq % 5 == 0 else "",
    }


def _store(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with Session(engine) as session:
        store_rows(session, [rating_row(**r) for r in rows], RULES, NOW)
        session.commit()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as session:
        seed_registry(session)
    seal_unchained(engine, KEY)
    yield engine
    engine.dispose()


@pytest.fixture
def stored(engine: Engine) -> Engine:
    """Two devices over two months of two years, some ratings flagged, with reasons, with
    tickets; and services announced by the queue system."""
    rows = [
        _row(device, 10 * i + s, day)
        for i, day in enumerate(DAYS)
        for s in range(1, 9)
        for device in ("dev-a", "dev-b")
    ]
    _store(engine, rows)
    served = datetime.combine(DAYS[1], time(10), VN_TZ)
    items = [ServiceIn(counter_id="DH-Q1", ticket=f"A-{i}", served_at=served) for i in range(3)]
    with Session(engine) as session:
        record_services(session, items, NOW)
        session.commit()
    return engine


def _prove(engine: Engine, path: Path, **options: Any) -> proof.Proof:
    return proof.prove(engine, KEY, options.pop("counted", COUNTED), path, **options)


def _stop(engine: Engine, path: Path) -> None:
    """What a server or ingest process does at a clean stop."""
    anchors.Outside(path, KEY).at_stop(engine)


# the rollups ----------------------------------------------------------------------------------


def test_an_untampered_database_is_proved(stored: Engine, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    _stop(stored, path)
    months: list[date] = []
    found = _prove(stored, path, months_progress=lambda _d, _t, month: months.append(month))
    assert found.ok, (found.ratings.problems, found.rollups, found.heads)
    assert found.warnings == []
    assert found.ratings.checked == 48
    assert found.families == tuple(f.name for f in rollups.FAMILIES)
    assert found.months == len(months) and {date(2026, 12, 1), date(2027, 1, 1)} <= set(months)
    assert found.outside is not None and found.outside.lines == 1


ROLLUP_EDITS = [
    (rollups.RATINGS, "day", DAYS[1], "vn4 4", {"score": 4}),
    (rollups.RATINGS, "month", date(2026, 12, 1), "vn4 4", {"score": 4}),
    (rollups.RATINGS, "year", date(2026, 1, 1), "vn4 4", {"score": 4}),
    (rollups.REASONS, "month", date(2027, 1, 1), "slow", {"reason": "slow"}),
    (rollups.SERVICES, "year", date(2026, 1, 1), "", {}),
]


@pytest.mark.parametrize(
    ("family", "level", "when", "shown", "keys"),
    ROLLUP_EDITS,
    ids=[f"{f.name}-{level}" for f, level, *_ in ROLLUP_EDITS],
)
def test_an_edited_rollup_row_is_named(
    stored: Engine,
    tmp_path: Path,
    family: rollups.Family,
    level: rollups.Level,
    when: date,
    shown: str,
    keys: dict[str, Any],
) -> None:
    """The edit that turned 55 % "không hoàn thành" into 76 % "hoàn thành" in every report."""
    path = tmp_path / "anchors.jsonl"
    _stop(stored, path)
    table: Table = family.tables[level]
    row = update(table).where(table.c[level] == when, table.c.officer_id == "CB-0042")
    for name, value in keys.items():
        row = row.where(table.c[name] == value)
    _tamper(stored, row.values(n=table.c.n + 7))
    assert verify(stored, KEY).ok  # all the old `hailong verify` looked at
    found = _prove(stored, path)
    assert not found.ok and found.rollup_count == 1, found.rollups
    named = f"{table.name} {when.isoformat()} counter=DH-Q1 officer=CB-0042 {shown}".rstrip()
    assert found.rollups[0].startswith(f"{named}: raw rows say n "), found.rollups
    said, kept = found.rollups[0].split(": raw rows say ")[1].split("; rollup says ")
    assert int(kept.split(",")[0].split()[1]) == int(said.split(",")[0].split()[1]) + 7
    assert found.ratings.ok and not found.heads


def test_the_flagged_counts_are_proved_under_the_policy_in_force(
    stored: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    _stop(stored, path)
    assert _prove(stored, path).ok
    other_policy = [flag for flag in COUNTED if flag != "cooldown"]
    found = _prove(stored, path, counted=other_policy)
    assert not found.ok
    assert found.rollups[0].startswith("rollup_day 2026-12-30 counter=DH-Q1 officer=CB-0042")
    assert "flagged 0" in found.rollups[0].split("; rollup says")[0]


# the anchors outside the database -------------------------------------------------------------


def test_a_tail_rolled_back_with_an_older_head_is_caught_by_the_anchor_file(
    engine: Engine, tmp_path: Path
) -> None:
    """The newest ratings of a device deleted with their links, an old copy of its head (valid
    MAC) put back, the rollups recounted to agree: the chain and the rollups alone pass."""
    path = tmp_path / "anchors.jsonl"
    _store(engine, [_row("dev-a", s) for s in (1, 2, 3)] + [_row("dev-b", 1)])
    old_head = _head(engine, "dev-a")
    _store(engine, [_row("dev-a", s) for s in (4, 5)])
    _stop(engine, path)
    at = anchors.read(path, KEY).latest
    _delete_tail(engine, "dev-a", 3, old_head)
    recount.rebuild(engine, COUNTED)
    assert verify(engine, KEY).ok and recount.check(engine, COUNTED) == []
    found = _prove(engine, path)
    assert found.heads == [
        f"device 'dev-a': the chain head is at position 3, behind position 5 in the external "
        f"anchor of {at}: its newest ratings were removed and an older head put back"
    ]
    assert not found.ok and found.ratings.ok and found.rollup_count == 0
    # The server runs on over the shortened chain; its next anchor records it, and the older
    # line still shows that position 5 was another link.
    _store(engine, [_row("dev-a", s, tag="after") for s in (4, 5, 6)])
    _stop(engine, path)
    assert anchors.read(path, KEY).lines == 2
    assert _prove(engine, path).heads == [
        f"device 'dev-a' position 5: the link is not the one in the external anchor of {at}: "
        "the chain was rolled back and written again"
    ]


def test_a_head_at_the_anchored_position_with_another_hash_is_named(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    _store(engine, [_row("dev-a", s) for s in (1, 2, 3)])
    old_head = _head(engine, "dev-a")
    _store(engine, [_row("dev-a", s) for s in (4, 5)])
    _stop(engine, path)
    _delete_tail(engine, "dev-a", 3, old_head)
    _store(engine, [_row("dev-a", s, tag="after") for s in (4, 5)])
    assert verify(engine, KEY).ok
    at = anchors.read(path, KEY).latest
    assert _prove(engine, path).heads == [
        f"device 'dev-a': the chain head is not the one at position 5 in the external anchor of "
        f"{at}: rewritten"
    ]
    _stop(engine, path)  # the next clean stop records the rewritten chain: the lines disagree
    heads = _prove(engine, path).heads
    assert heads[0].startswith(f"device 'dev-a' position 5: the external anchors of {at} and ")
    assert heads[0].endswith(" disagree: the chain was rolled back and written again between them")


def test_a_device_removed_whole_is_named(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    _store(engine, [_row("dev-a", 1), _row("dev-b", 1), _row("dev-b", 2)])
    _stop(engine, path)
    gone = [_row("dev-b", s)["id"] for s in (1, 2)]
    _tamper(
        engine,
        *(f"DELETE FROM rating WHERE id = '{r}'" for r in gone),
        "DELETE FROM rating_chain WHERE device_id = 'dev-b'",
        "DELETE FROM chain_head WHERE device_id = 'dev-b'",
    )
    recount.rebuild(engine, COUNTED)
    assert verify(engine, KEY).ok
    found = _prove(engine, path)
    assert len(found.heads) == 1
    assert found.heads[0].startswith("device 'dev-b' has no chain head now, but position 2 ")
    assert found.heads[0].endswith(": its ratings are gone")


def test_a_forged_line_is_reported_and_a_cut_one_only_warned(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "anchors.jsonl"
    _store(engine, [_row("dev-a", 1)])
    _stop(engine, path)
    with path.open("ab") as f:
        f.write(anchors.anchor_line(WRONG_KEY, {"dev-a": [99, "0" * 64]}, NOW, anchors.STOP))
        f.write(b'{"at": "2027-01-03T03:00:00+00:00", "why": "st')
    found = _prove(engine, path)
    assert found.heads == [
        f"{path} line 2 (at 2027-01-03T03:00:00+00:00) fails its MAC: written without the "
        "chain key, or edited"
    ]
    assert found.warnings == [f"{path} line 3 is not an anchor line (cut short?): ignored"]
    assert not found.ok and found.ratings.ok


def test_a_missing_anchor_file_is_a_warning_unless_required(engine: Engine, tmp_path: Path) -> None:
    _store(engine, [_row("dev-a", 1)])
    path = tmp_path / "none.jsonl"
    found = _prove(engine, path)
    assert found.ok
    assert found.warnings == [
        f"no anchor file at {path}: nothing proves that no device's newest ratings were removed "
        "with its chain head put back (HAILONG_ANCHOR_FILE names the file)"
    ]
    required = _prove(engine, path, require_anchors=True)
    assert not required.ok and required.heads[0].startswith(f"no anchor file at {path}")


def test_the_anchor_file_is_private_and_only_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "chain-anchors.jsonl"
    outside = anchors.Outside(path, KEY)
    outside.record({"dev-a": [1, "a" * 64]}, NOW, anchors.DAILY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    with path.open("ab") as f:
        f.write(b'{"cut short')  # a power cut in the middle of a line
    outside.record({"dev-a": [2, "b" * 64], "dev-b": [1, "c" * 64]}, NOW, anchors.STOP)
    text = path.read_bytes()
    assert text.startswith(first + b'{"cut short\n')
    lines = [json.loads(line) for line in text.splitlines() if line.startswith(b'{"at"')]
    assert [(e["why"], e["heads"]) for e in lines] == [
        ("daily", {"dev-a": [1, "a" * 64]}),
        ("stop", {"dev-a": [2, "b" * 64], "dev-b": [1, "c" * 64]}),
    ]
    read = anchors.read(path, KEY)
    assert read.lines == 2 and read.problems == [] and len(read.unreadable) == 1
    assert read.furthest["dev-a"] == anchors.Anchored(2, "b" * 64, "2027-01-03T03:00:00+00:00")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unreadable_anchor_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the anchor file .*HAILONG_ANCHOR_FILE"):
        anchors.read(tmp_path, KEY)  # a folder: as unreadable as a file of another user


def test_the_default_anchor_file_is_beside_the_key_and_named_after_it(tmp_path: Path) -> None:
    assert anchors.anchor_path(Settings(data_dir=tmp_path)) == tmp_path / "chain-anchors.jsonl"
    key = tmp_path / "keys" / "province.key"
    assert anchors.anchor_path(Settings(chain_key_file=key)) == key.with_name(
        "province-anchors.jsonl"
    )
    chosen = tmp_path / "elsewhere.jsonl"
    assert anchors.anchor_path(Settings(data_dir=tmp_path, anchor_file=chosen)) == chosen


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server: Any = self.server
        server.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(server.status)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.bodies, server.status = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_the_webhook_receives_each_anchor_and_a_failed_one_later(
    webhook: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{webhook.server_address[1]}/anchors"
    path = tmp_path / "anchors.jsonl"
    outside = anchors.Outside.from_settings(
        Settings(data_dir=tmp_path, anchor_file=path, anchor_webhook_url=url), KEY
    )
    webhook.status = 503
    outside.record({"dev-a": [1, "a" * 64]}, NOW, anchors.DAILY)
    assert len(webhook.bodies) == 1 and len(outside.unsent) == 1
    assert "chain anchor not delivered to 127.0.0.1 (HTTP 503)" in caplog.text
    webhook.status = 200
    outside.record({"dev-a": [2, "b" * 64]}, NOW, anchors.STOP)
    assert webhook.bodies[1:] == path.read_bytes().splitlines(keepends=True)
    assert outside.unsent == []
    with socket.socket() as s:  # a port nobody listens on: the webhook's host is down
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    down = anchors.Outside(path, KEY, f"http://127.0.0.1:{closed}/")
    down.record({"dev-a": [3, "c" * 64]}, NOW, anchors.STOP)
    assert len(down.unsent) == 1 and anchors.read(path, KEY).lines == 3


def test_a_bad_webhook_url_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, anchor_webhook_url="ftp://example.org/x")
    with pytest.raises(ConfigError, match="HAILONG_ANCHOR_WEBHOOK_URL must be an http"):
        anchors.Outside.from_settings(settings, KEY)


# the processes --------------------------------------------------------------------------------


def test_the_daily_anchor_job_appends_every_head(stored: Engine, tmp_path: Path) -> None:
    made = housekeeping_jobs(Settings(data_dir=tmp_path), load_policy(None), KEY)
    jobs = Jobs(stored, made, clock=lambda: NOW)
    assert "chain-anchor" in jobs.run_due()
    path = tmp_path / "chain-anchors.jsonl"
    lines = [json.loads(line) for line in path.read_bytes().splitlines()]
    assert [(e["why"], sorted(e["heads"])) for e in lines] == [("daily", ["dev-a", "dev-b"])]
    assert lines[0]["heads"]["dev-a"] == [24, _head(stored, "dev-a")["hash"]]
    for job in jobs.jobs:
        job.next_at = 0
    jobs.run_due()  # the same Vietnam day: no anchor in the audit log, none in the file
    assert len(path.read_bytes().splitlines()) == 1


def test_a_clean_stop_of_the_server_appends_an_anchor(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hailong.db'}", secret_key="k" * 40, data_dir=tmp_path
    )
    app = create_app(settings, ingest=False)
    with TestClient(app):
        pass
    assert not (tmp_path / "chain-anchors.jsonl").exists()  # no rating yet: nothing to anchor
    key = load_key(tmp_path / "chain.key")
    with Session(app.state.engine) as session:
        store_rows(session, [rating_row(**_row("dev-a", 1))], IngestRules(chain_key=key), NOW)
        session.commit()
    with TestClient(app):
        pass
    read = anchors.read(tmp_path / "chain-anchors.jsonl", key)
    assert read.lines == 1 and list(read.furthest) == ["dev-a"]
    assert read.furthest["dev-a"].position == 1


# the command ----------------------------------------------------------------------------------


def test_hailong_verify_names_a_rollup_row_and_a_rolled_back_head(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    key = prepare(engine, Settings(database_url=database_url, data_dir=tmp_path))
    rules = IngestRules(chain_key=key)

    def store(rows: list[dict[str, Any]]) -> None:
        with Session(engine) as session:
            store_rows(session, [rating_row(**r) for r in rows], rules, NOW)
            session.commit()

    env = {"PATH": "/usr/bin:/bin"}
    if not database_url.startswith("sqlite"):
        env["HAILONG_DATABASE_URL"] = database_url

    def hailong(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "system.cli", "verify", "--data-dir", str(tmp_path), *extra],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    store([_row("dev-a", s) for s in (1, 2, 3)])
    unanchored = hailong()
    assert unanchored.returncode == 0, unanchored.stderr
    assert unanchored.stdout.splitlines()[-1].startswith("warning: no anchor file at ")
    assert hailong("--require-anchors").returncode == 1
    old_head = _head(engine, "dev-a")
    store([_row("dev-a", s) for s in (4, 5)])
    path = tmp_path / "chain-anchors.jsonl"
    anchors.Outside(path, key).at_stop(engine)
    clean = hailong()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    lines = clean.stdout.splitlines()
    assert lines[0] == "verified 5 ratings of 1 devices: no rating was altered, inserted or removed"
    assert lines[1].startswith("verified the rollups (ratings, reasons, flags, services")
    assert "services are recounted from the service table, append-only but not chained" in lines[1]
    assert lines[2].startswith(f"verified the chain heads against 1 external anchors in {path}")
    assert len(lines) == 3 and "months of rollups" in clean.stderr and "5/5 ratings" in clean.stderr

    _tamper(engine, "UPDATE rollup_month SET n = n + 40 WHERE officer_id = 'CB-0042' AND score = 4")
    edited = hailong()
    assert edited.returncode == 1, edited.stderr
    lines = edited.stdout.splitlines()
    assert lines[0].startswith("verified 5 ratings of 1 devices")
    assert lines[1].startswith(
        "first differing rollup row: rollup_month 2026-12-01 counter=DH-Q1 officer=CB-0042 vn4 4: "
        "raw rows say n 1, flagged 0, ticketed 1; rollup says n 41, flagged 0, ticketed 1"
    )
    assert lines[-1] == (
        "1 problem: the ratings and the counts reports read are not all as the server stored them"
    )

    _delete_tail(engine, "dev-a", 3, old_head)
    recount.rebuild(engine, COUNTED)
    rolled_back = hailong()
    assert rolled_back.returncode == 1, rolled_back.stderr
    lines = rolled_back.stdout.splitlines()
    assert lines[0] == "verified 3 ratings of 1 devices: no rating was altered, inserted or removed"
    assert lines[2].startswith(
        "external anchors: device 'dev-a': the chain head is at position 3, behind position 5"
    )
    engine.dispose()


def test_no_process_leaves_the_anchor_file_open_to_others(tmp_path: Path) -> None:
    """Whatever the umask, the file is created owner-only."""
    old = os.umask(0)
    try:
        anchors.append(tmp_path / "a.jsonl", b"{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.jsonl").stat().st_mode) == 0o600
