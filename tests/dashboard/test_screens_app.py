"""The rota, import and fleet pages through Dash's HTTP routes, on a real SQLite registry: what
an admin writes lands in the registry through its rules, what a unit head sees is their unit."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from dash import Dash
from flask.testing import FlaskClient
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy.engine import Engine
from sqlmodel import select

from dashboard import absences, registry_view
from dashboard.app import create_dash
from dashboard.import_jobs import JOBS
from dashboard.pages import fleet, importing, rota
from devtools.import_workbook import registry_rows, xlsx_bytes
from server.access.roles import ACCESS_KEY, Access
from server.registry.fleet_status import COUNTED
from server.registry.rota_writes import list_rota
from server.storage.db import session_scope
from server.storage.models import AuditEvent, Counter, Officer
from tests.dashboard.rows import (
    add_counter,
    add_device,
    add_officer,
    add_unit,
    callback_body,
    factory,
)
from tests.dashboard.test_app import client_as
from tests.server.web.test_api import RecordingAccounts

ADMIN = Access("admin", "quantri")
HEAD_DH = Access("unit_head", "truongdh", unit_id="DH")
TODAY = date(2026, 12, 3)
Values = dict[tuple[str, str], Any]


def seed(engine: Engine, now: datetime) -> None:
    """Two units: DH with two counters and two officers, XA with one of each; a device at each
    counter, DH-Q1's online, DH-Q2's offline, XA's never seen."""
    with session_scope(engine) as session:
        add_unit(session, "DH", "Phường Diên Hồng")
        add_unit(session, "XA", "Xã An")
        add_counter(session, "DH-Q1", "Quầy 1", "DH")
        add_counter(session, "DH-Q2", "Quầy 2", "DH")
        add_counter(session, "XA-Q1", "Quầy Xã An", "XA")
        add_officer(session, "CB-A", "Nguyễn Thị An", "DH")
        add_officer(session, "CB-B", "Trần Văn Bình", "DH")
        add_officer(session, "CB-X", "Lê Thị Cúc", "XA")
        add_device(session, "dev-dh-q1", "DH-Q1", state="online", last_seen_at=now, firmware="1.4")
        add_device(
            session, "dev-dh-q2", "DH-Q2", state="offline", last_seen_at=now - timedelta(hours=2)
        )
        add_device(session, "dev-xa-q1", "XA-Q1")
        session.commit()


@pytest.fixture
def changed() -> list[int]:
    return []


@pytest.fixture
def app(engine: Engine, changed: list[int]) -> Iterator[Dash]:
    seed(engine, datetime.now(UTC))
    yield create_dash(
        factory(engine), today=lambda: TODAY, registry_changed=lambda: changed.append(1)
    )


def run(client: FlaskClient, output_id: str, inputs: Values, states: Values | None = None) -> Any:
    """The outputs of the callback writing `output_id`, by component id."""
    deps = client.get("/_dash-dependencies").get_json()
    response = client.post(
        "/_dash-update-component", json=callback_body(deps, output_id, inputs, states)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def status(
    client: FlaskClient, output_id: str, inputs: Values, states: Values | None = None
) -> int:
    """The status of a callback posted by hand, as a user could."""
    deps = client.get("/_dash-dependencies").get_json()
    body = callback_body(deps, output_id, inputs, states)
    return client.post("/_dash-update-component", json=body).status_code


def text_of(node: Any) -> str:
    """Every string in a component tree as Dash serialises it."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return " ".join(text_of(n) for n in node)
    if isinstance(node, dict):
        return text_of(node.get("props", {}).get("children", ""))
    return ""


def find(node: Any, element_id: str) -> Any:
    """The component with `element_id` in a serialised tree, or None."""
    if isinstance(node, list):
        return next((f for n in node if (f := find(n, element_id)) is not None), None)
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("id") == element_id:
            return node
        return find(props.get("children"), element_id)
    return None


# --- rota ---------------------------------------------------------------------------------------

FORM = {
    "officer": "CB-A",
    "from": "2026-12-01",
    "to": "2026-12-31",
    "days": ["mon", "wed"],
    "every": 1,
    "start": "07:30",
    "end": "11:30",
}


def add_row(client: FlaskClient, counter: str = "DH-Q1", **form: Any) -> Any:
    values = {**FORM, **form}
    return run(
        client,
        rota.FORM_MESSAGE,
        {(rota.ADD, "n_clicks"): 1},
        {
            (rota.COUNTER, "value"): counter,
            (rota.OFFICER, "value"): values["officer"],
            (rota.FROM, "value"): values["from"],
            (rota.TO, "value"): values["to"],
            (rota.DAYS, "value"): values["days"],
            (rota.EVERY, "value"): values["every"],
            (rota.START, "value"): values["start"],
            (rota.END, "value"): values["end"],
            (rota.ADDED, "data"): 0,
        },
    )


def redraw(client: FlaskClient, counter: str = "DH-Q1", month: str = "2026-12") -> Any:
    return run(
        client,
        rota.CALENDAR,
        {
            (rota.COUNTER, "value"): counter,
            (rota.MONTH, "data"): month,
            (rota.EDITED, "data"): 0,
            (rota.ADDED, "data"): 0,
        },
    )


def day_text(drawn: Any, day: str) -> str:
    return text_of(find(drawn[rota.CALENDAR]["children"], f"rota-day-{day}"))


def test_an_admin_adds_a_rota_row_and_the_calendar_shows_it(
    app: Dash, engine: Engine, changed: list[int]
) -> None:
    client = client_as(app, ADMIN)

    added = add_row(client)

    assert "Đã thêm" in text_of(added[rota.FORM_MESSAGE]["children"])
    assert added[rota.ADDED]["data"] == 1
    assert changed == [1], "the units' Configs are refreshed after the write"
    drawn = redraw(client)
    assert drawn[rota.MONTH_LABEL]["children"] == "Tháng 12/2026"
    assert "Nguyễn Thị An 07:30–11:30" in day_text(drawn, "2026-12-02")  # a Wednesday
    assert "Nguyễn Thị An" not in day_text(drawn, "2026-12-03")
    (record,) = drawn[rota.TABLE]["rowData"]
    assert (record["officer"], record["days"], record["start"]) == (
        "Nguyễn Thị An (CB-A)",
        "T2 T4",
        "07:30",
    )
    with session_scope(engine) as session:
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "rota.put")).all()
        assert (event.actor, event.target) == ("quantri", "DH-Q1/CB-A/2026-12-01")


def test_an_officer_at_two_counters_at_once_is_refused_next_to_the_form(
    app: Dash, engine: Engine
) -> None:
    client = client_as(app, ADMIN)
    add_row(client)

    refused = add_row(client, counter="DH-Q2", days=["wed"], start="09:00", end="10:00")

    message = text_of(refused[rota.FORM_MESSAGE]["children"])
    assert "DH-Q1" in message, message
    assert rota.ADDED not in refused, "nothing to redraw"
    with session_scope(engine) as session:
        assert [r.counter_id for r in list_rota(session)] == ["DH-Q1"]


def test_an_unreadable_form_says_which_field(app: Dash) -> None:
    refused = add_row(client_as(app, ADMIN), start="7h30")

    assert "start" in text_of(refused[rota.FORM_MESSAGE]["children"])


def edit_table(client: FlaskClient, edited: dict[str, Any]) -> Any:
    """The grid's event for one cell edited in `edited`'s row."""
    change = [{"rowIndex": 0, "rowId": str(edited["id"]), "colId": "end", "data": edited}]
    return run(
        client,
        rota.TABLE_MESSAGE,
        {(rota.TABLE, "cellValueChanged"): change},
        {(rota.EDITED, "data"): 0},
    )


def test_an_admin_edits_and_deletes_a_rota_row_in_the_table(app: Dash, engine: Engine) -> None:
    client = client_as(app, ADMIN)
    add_row(client)
    (record,) = redraw(client)[rota.TABLE]["rowData"]

    edited = edit_table(client, {**record, "days": "T3", "end": "17:00"})

    assert "Đã cập nhật" in text_of(edited[rota.TABLE_MESSAGE]["children"])
    drawn = redraw(client)
    assert "Nguyễn Thị An 07:30–17:00" in day_text(drawn, "2026-12-01")  # now Tuesdays
    assert "Nguyễn Thị An" not in day_text(drawn, "2026-12-02")

    (record,) = drawn[rota.TABLE]["rowData"]
    asked = run(
        client,
        rota.ROW_CONFIRM,
        {(rota.ROW_DELETE, "n_clicks"): 1},
        {(rota.TABLE, "selectedRows"): [record]},
    )

    assert asked[rota.ROW_CONFIRM]["displayed"] is True
    assert "Nguyễn Thị An (CB-A) 2026-12-01" in asked[rota.ROW_CONFIRM]["message"]
    assert asked[rota.ROW_PENDING]["data"] == [record["id"]]
    with session_scope(engine) as session:
        assert len(list_rota(session)) == 1, "nothing is deleted before the user confirms"
    deleted = run(
        client,
        rota.ROW_DELETED,
        {(rota.ROW_CONFIRM, "submit_n_clicks"): 1},
        {(rota.ROW_PENDING, "data"): [record["id"]], (rota.EDITED, "data"): 0},
    )

    assert "Đã xoá" in text_of(deleted[rota.ROW_DELETED]["children"])
    with session_scope(engine) as session:
        assert list(list_rota(session)) == []
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "rota.delete")).all()
        assert event.target == str(record["id"])


def test_a_unit_head_reads_their_units_rota_without_the_form(app: Dash, engine: Engine) -> None:
    page = layout_as_page(app, HEAD_DH, rota.layout)
    assert find(page, rota.ADD) is None
    client = client_as(app, HEAD_DH)

    options = run(client, rota.COUNTER, {(rota.UNIT, "value"): "DH"})
    assert [o["value"] for o in options[rota.COUNTER]["options"]] == ["DH-Q1", "DH-Q2"]
    assert status(client, rota.COUNTER, {(rota.UNIT, "value"): "XA"}) == 403, "another unit"

    deps = client.get("/_dash-dependencies").get_json()
    form = {(rota.COUNTER, "value"): "DH-Q1", (rota.OFFICER, "value"): "CB-A"}
    form[(rota.FROM, "value")] = "2026-12-01"
    crafted = callback_body(deps, rota.FORM_MESSAGE, {(rota.ADD, "n_clicks"): 1}, form)
    assert client.post("/_dash-update-component", json=crafted).status_code == 403
    with session_scope(engine) as session:
        assert list(list_rota(session)) == []


def test_the_officers_offered_are_the_counters_units_active_ones(app: Dash, engine: Engine) -> None:
    with session_scope(engine) as session:
        gone = session.get(Officer, "CB-B")
        assert gone is not None
        gone.active = False
        session.add(gone)
        session.commit()

    found = run(client_as(app, ADMIN), rota.OFFICER, {(rota.COUNTER, "value"): "DH-Q1"})

    assert [o["value"] for o in found[rota.OFFICER]["options"]] == ["CB-A"]


def test_the_month_steps_back_and_forth(app: Dash) -> None:
    client = client_as(app, ADMIN)
    states = {(rota.MONTH, "data"): "2026-01"}

    back = run(client, rota.MONTH, {(rota.PREV, "n_clicks"): 1}, states)
    on = run(client, rota.MONTH, {(rota.NEXT, "n_clicks"): 1}, states)

    assert (back[rota.MONTH]["data"], on[rota.MONTH]["data"]) == ("2025-12", "2026-02")


# --- leave and holidays -------------------------------------------------------------------------


def add_absence(client: FlaskClient, kind: str, first: str, last: str = "", **form: Any) -> Any:
    return run(
        client,
        absences.MESSAGE,
        {(absences.ADD, "n_clicks"): 1},
        {
            (absences.KIND, "value"): kind,
            (absences.OFFICER, "value"): form.get("officer"),
            (rota.UNIT, "value"): form.get("unit", "DH"),
            (absences.FIRST, "value"): first,
            (absences.LAST, "value"): last,
            (absences.NOTE, "value"): form.get("note", ""),
            (absences.SAVED, "data"): 0,
        },
    )


def absence_list(client: FlaskClient, unit: str = "DH", month: str = "2026-12") -> Any:
    drawn = run(client, absences.TABLE, {(rota.UNIT, "value"): unit, (rota.MONTH, "data"): month})
    return drawn[absences.TABLE]["rowData"]


def test_leave_takes_the_officer_off_the_calendar_on_those_days(
    app: Dash, engine: Engine, changed: list[int]
) -> None:
    client = client_as(app, ADMIN)
    add_row(client)  # CB-A on Mondays and Wednesdays of December

    added = add_absence(client, "leave", "2026-12-07", "2026-12-09", officer="CB-A", note="phép")

    assert "Đã thêm" in text_of(added[absences.MESSAGE]["children"])
    assert added[absences.SAVED]["data"] == 1
    drawn = redraw(client)
    assert "Nguyễn Thị An" not in day_text(drawn, "2026-12-07")
    assert "Nguyễn Thị An" not in day_text(drawn, "2026-12-09")
    assert "Nguyễn Thị An 07:30–11:30" in day_text(drawn, "2026-12-14")
    (record,) = absence_list(client)
    assert {k: v for k, v in record.items() if k != "id"} == {
        "kind": "Nghỉ phép của cán bộ · Officer leave",
        "officer": "Nguyễn Thị An (CB-A)",
        "from": "00:00 07/12/2026",
        "to": "24:00 09/12/2026",
        "note": "phép",
    }
    assert absence_list(client, month="2026-11") == [], "it does not touch November"
    assert absence_list(client, unit="XA") == [], "XA's list has not DH's officer's leave"
    assert len(changed) == 2, "the rota row and the leave each refresh the Configs"
    with session_scope(engine) as session:
        (event,) = session.exec(
            select(AuditEvent).where(AuditEvent.action == "absence.create")
        ).all()
        assert event.target == "CB-A"


def test_a_public_holiday_is_in_every_units_list_and_off_every_calendar(app: Dash) -> None:
    client = client_as(app, ADMIN)
    add_row(client)

    add_absence(client, "holiday", "2026-12-14", officer="CB-A", note="Lễ")

    assert "Nguyễn Thị An" not in day_text(redraw(client), "2026-12-14")
    (dh,) = absence_list(client, "DH")
    (xa,) = absence_list(client, "XA")
    assert dh == xa
    assert (dh["kind"], dh["officer"], dh["to"]) == (
        "Nghỉ lễ · Public holiday",
        "",
        "24:00 14/12/2026",
    ), "the officer chosen for leave is not kept on a holiday"


def test_an_unreadable_absence_is_refused_next_to_the_form(app: Dash, engine: Engine) -> None:
    client = client_as(app, ADMIN)

    no_officer = add_absence(client, "leave", "2026-12-07")
    backwards = add_absence(client, "unit", "2026-12-09", "2026-12-07")

    assert "officer" in text_of(no_officer[absences.MESSAGE]["children"])
    assert "last day" in text_of(backwards[absences.MESSAGE]["children"])
    assert absences.SAVED not in backwards, "nothing to redraw"
    assert absence_list(client) == []


def test_an_absence_is_deleted_only_once_confirmed(app: Dash, engine: Engine) -> None:
    client = client_as(app, ADMIN)
    add_absence(client, "unit", "2026-12-24", note="Tất niên")
    (record,) = absence_list(client)
    assert record["kind"] == "Đơn vị nghỉ · Unit day off"

    asked = run(
        client,
        absences.CONFIRM,
        {(absences.DELETE, "n_clicks"): 1},
        {(absences.TABLE, "selectedRows"): [record]},
    )

    assert asked[absences.CONFIRM]["displayed"] is True
    assert "24:00 24/12/2026" in asked[absences.CONFIRM]["message"]
    assert absence_list(client) == [record]

    deleted = run(
        client,
        absences.LIST_MESSAGE,
        {(absences.CONFIRM, "submit_n_clicks"): 1},
        {(absences.PENDING, "data"): asked[absences.PENDING]["data"], (absences.SAVED, "data"): 0},
    )

    assert "Đã xoá" in text_of(deleted[absences.LIST_MESSAGE]["children"])
    assert absence_list(client) == []
    with session_scope(engine) as session:
        (event,) = session.exec(
            select(AuditEvent).where(AuditEvent.action == "absence.delete")
        ).all()
        assert event.target == str(record["id"])


def test_a_unit_head_reads_their_units_absences_and_cannot_write(app: Dash, engine: Engine) -> None:
    add_absence(client_as(app, ADMIN), "leave", "2026-12-07", officer="CB-A")
    page = layout_as_page(app, HEAD_DH, rota.layout)
    assert find(page, absences.TABLE) is not None
    assert find(page, absences.ADD) is None
    client = client_as(app, HEAD_DH)

    (record,) = absence_list(client)
    assert status(client, absences.TABLE, {(rota.UNIT, "value"): "XA"}) == 403, "another unit"

    form = {(absences.KIND, "value"): "holiday", (absences.FIRST, "value"): "2026-12-25"}
    assert status(client, absences.MESSAGE, {(absences.ADD, "n_clicks"): 1}, form) == 403
    confirmed = {(absences.CONFIRM, "submit_n_clicks"): 1}
    pending = {(absences.PENDING, "data"): [record["id"]]}
    assert status(client, absences.LIST_MESSAGE, confirmed, pending) == 403
    assert absence_list(client) == [record]


def layout_as_page(app: Dash, access: Access, layout: Any) -> Any:
    """A page's layout as this user gets it, serialised as Dash sends it."""
    with app.server.test_request_context("/", environ_base={"asgi.scope": {ACCESS_KEY: access}}):
        return json.loads(json.dumps(layout(), cls=PlotlyJSONEncoder))


# --- import -------------------------------------------------------------------------------------


def upload(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


def import_file(client: FlaskClient, content: bytes, button: str) -> Any:
    started = run(
        client,
        importing.JOB,
        {(button, "n_clicks"): 1},
        {
            (importing.UPLOAD, "contents"): upload(content),
            (importing.UPLOAD, "filename"): "dang-ky.xlsx",
            (importing.JOB, "data"): None,
        },
    )
    job = started[importing.JOB]["data"]
    assert started[importing.POLL]["disabled"] is False
    JOBS.wait(job["id"])
    return run(
        client,
        importing.JOB,
        {(importing.POLL, "n_intervals"): 1},
        {(importing.JOB, "data"): job},
    )


def small_registry() -> bytes:
    rows = registry_rows(counters=2, fields=1)
    del rows["devices"]  # a device's broker account is the registry pages' concern
    return xlsx_bytes(rows)


def test_an_admin_checks_then_imports_a_workbook_and_sees_the_report(
    app: Dash, engine: Engine, changed: list[int]
) -> None:
    client = client_as(app, ADMIN)

    checked = import_file(client, small_registry(), importing.CHECK)

    assert checked[importing.REPORT_BOX]["hidden"] is False
    assert checked[importing.POLL]["disabled"] is True
    assert "Tệp hợp lệ" in text_of(checked[importing.SUMMARY]["children"])
    sheets = {r["sheet"]: r for r in checked[importing.SHEETS]["rowData"]}
    assert sheets["counters"]["created"] == 2 and sheets["rota"]["created"] == 4
    with session_scope(engine) as session:
        assert session.get(Counter, "DH-Q01") is None, "a check writes nothing"

    imported = import_file(client, small_registry(), importing.RUN)

    assert "Đã nhập" in text_of(imported[importing.SUMMARY]["children"])
    assert "Đã xử lý" in text_of(imported[importing.PROGRESS]["children"])
    with session_scope(engine) as session:
        assert session.get(Counter, "DH-Q01") is not None
    assert changed == [1]


def test_new_devices_get_their_broker_accounts_or_nothing_is_written(engine: Engine) -> None:
    seed(engine, datetime.now(UTC))
    rows = registry_rows(counters=2, fields=1)
    accounts = RecordingAccounts()
    with_broker = create_dash(factory(engine), accounts=lambda: accounts)
    without = create_dash(factory(engine))

    refused = import_file(client_as(without, ADMIN), xlsx_bytes(rows), importing.RUN)

    assert registry_view.NO_BROKER in text_of(refused[importing.PROGRESS]["children"])
    with session_scope(engine) as session:
        assert session.get(Counter, "DH-Q01") is None

    import_file(client_as(with_broker, ADMIN), xlsx_bytes(rows), importing.RUN)

    assert sorted(accounts.made) == ["dev-dh-q01", "dev-dh-q02"]


def test_errors_are_listed_by_sheet_row_and_column(app: Dash) -> None:
    rows = registry_rows(counters=1, fields=1)
    del rows["devices"]
    rows["rota"][0]["officer_id"] = "CB-NOBODY"

    report = import_file(client_as(app, ADMIN), xlsx_bytes(rows), importing.RUN)

    assert importing.ERRORS_BOX not in report or report[importing.ERRORS_BOX]["hidden"] is False
    (error,) = report[importing.ERRORS]["rowData"]
    assert (error["sheet"], error["column"]) == ("rota", "officer_id")
    assert "không ghi gì" in text_of(report[importing.SUMMARY]["children"])


def test_a_file_that_is_no_workbook_says_so(app: Dash) -> None:
    report = import_file(client_as(app, ADMIN), b"not a workbook", importing.CHECK)

    assert "không thành công" in text_of(report[importing.PROGRESS]["children"])


def test_only_an_admin_imports(app: Dash) -> None:
    page = layout_as_page(app, HEAD_DH, importing.layout)
    assert find(page, importing.UPLOAD) is None
    assert "không xem được" in text_of(page)


def test_the_template_downloads(app: Dash) -> None:
    got = run(
        client_as(app, ADMIN), importing.TEMPLATE_DOWNLOAD, {(importing.TEMPLATE, "n_clicks"): 1}
    )

    download = got[importing.TEMPLATE_DOWNLOAD]["data"]
    assert download["filename"].endswith(".xlsx") and download["base64"] is True
    assert base64.b64decode(download["content"])[:2] == b"PK"


# --- fleet --------------------------------------------------------------------------------------


def fleet_view(client: FlaskClient, unit: str = "*", status: str = "*", search: str = "") -> Any:
    return run(
        client,
        fleet.TABLE,
        {
            (fleet.REFRESH, "n_intervals"): 1,
            (fleet.UNIT, "value"): unit,
            (fleet.STATUS, "value"): status,
            (fleet.SEARCH, "value"): search,
        },
    )


def counts(shown: Any) -> dict[str, str]:
    return {s: shown[fleet.count_value_id(s)]["children"] for s in COUNTED}


def test_the_admin_sees_every_units_counts_and_filters_them(app: Dash) -> None:
    client = client_as(app, ADMIN)

    everything = fleet_view(client)

    assert counts(everything) == {"online": "1", "silent": "0", "offline": "1", "never_seen": "1"}
    assert {r["device"] for r in everything[fleet.TABLE]["rowData"]} == {
        "dev-dh-q1",
        "dev-dh-q2",
        "dev-xa-q1",
    }
    offline = fleet_view(client, status="offline")
    (row,) = offline[fleet.TABLE]["rowData"]
    assert (row["device"], row["status"]) == ("dev-dh-q2", "Mất kết nối (offline)")
    assert row["since"] != "—"
    searched = fleet_view(client, search="xa-q1")
    assert [r["device"] for r in searched[fleet.TABLE]["rowData"]] == ["dev-xa-q1"]
    none = fleet_view(client, search="nothing like it")
    assert none[fleet.TABLE_BOX]["hidden"] is True and none[fleet.EMPTY]["hidden"] is False


def test_clicking_a_count_filters_by_it(app: Dash) -> None:
    picked = run(
        client_as(app, ADMIN), fleet.STATUS, {(fleet.count_id("never_seen"), "n_clicks"): 1}
    )

    assert picked[fleet.STATUS]["value"] == "never_seen"


def test_a_unit_head_sees_their_units_fleet_only(app: Dash) -> None:
    client = client_as(app, HEAD_DH)

    own = fleet_view(client, unit="DH")

    assert counts(own) == {"online": "1", "silent": "0", "offline": "1", "never_seen": "0"}
    assert "dev-xa-q1" not in str(own)
    deps = client.get("/_dash-dependencies").get_json()
    other = client.post(
        "/_dash-update-component",
        json=callback_body(
            deps,
            fleet.TABLE,
            {
                (fleet.REFRESH, "n_intervals"): 1,
                (fleet.UNIT, "value"): "XA",
                (fleet.STATUS, "value"): "*",
                (fleet.SEARCH, "value"): "",
            },
        ),
    )
    assert other.status_code == 403


def test_a_viewer_does_not_see_the_fleet(app: Dash) -> None:
    page = layout_as_page(app, Access("viewer", "xem"), fleet.layout)

    assert find(page, fleet.TABLE) is None
