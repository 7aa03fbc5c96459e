"""The registry import through the API on SQLite: a district's month in one file, a second
import that changes nothing, a dry run, errors that write nothing, a zip of CSV files and the
template. Broker accounts are recorded (tests/server/web/test_api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devtools.import_workbook import (
    counter_id,
    csv_zip_bytes,
    device_id,
    officer_id,
    registry_rows,
    xlsx_bytes,
)
from tests.server.web.test_api import RecordingAccounts, api_app, login

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FULL = {"units": 1, "fields": 8, "counters": 40, "officers": 40, "devices": 40, "rota": 80}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(api_app(tmp_path)) as c:
        yield c


def post(
    client: TestClient, content: bytes, *, name: str = "dang-ky.xlsx", dry_run: bool = False
) -> Any:
    return client.post(
        "/api/v1/import",
        params={"dry_run": "true"} if dry_run else {},
        files={"file": (name, content, XLSX)},
        headers=login(client, "admin"),
    )


def counts(report: dict[str, Any], status: str) -> dict[str, int]:
    return {sheet: len(result[status]) for sheet, result in report["sheets"].items()}


def stored_counts(client: TestClient) -> dict[str, int]:
    auth = login(client, "admin")
    return {
        path: len(client.get(f"/api/v1/{path}", headers=auth).json())
        for path in ("units", "fields", "counters", "officers", "devices")
    }


def accounts(client: TestClient) -> RecordingAccounts:
    found: RecordingAccounts = client.app.state.accounts  # type: ignore[attr-defined]
    return found


def test_a_district_month_imports_and_a_second_import_changes_nothing(client: TestClient) -> None:
    content = xlsx_bytes(registry_rows())
    first = post(client, content)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["written"] is True and report["errors"] == []
    assert counts(report, "created") == FULL
    assert report["sheets"]["rota"]["created"][:2] == [
        f"{counter_id(1)}/{officer_id(1)}/2026-12-01",
        f"{counter_id(1)}/{officer_id(2)}/2026-12-02",
    ]
    assert stored_counts(client) == {k: FULL[k] for k in stored_counts(client)}
    made = accounts(client).made
    assert sorted(made) == sorted(device_id(i) for i in range(1, 41))
    assert len(set(made.values())) == 40  # a random password each

    again = post(client, content)
    assert again.status_code == 200, again.text
    assert counts(again.json(), "created") == dict.fromkeys(FULL, 0)
    assert counts(again.json(), "updated") == dict.fromkeys(FULL, 0)
    assert counts(again.json(), "unchanged") == FULL
    assert len(accounts(client).made) == 40

    auth = login(client, "admin")
    events = client.get("/api/v1/audit", params={"action": "registry.import"}, headers=auth)
    assert len(events.json()) == 2
    assert events.json()[0]["target"] == "dang-ky.xlsx"
    assert events.json()[1]["detail"]["counts"]["devices"] == {
        "created": 40,
        "updated": 0,
        "unchanged": 0,
    }


def test_a_dry_run_reports_the_same_and_writes_nothing(client: TestClient) -> None:
    answer = post(client, xlsx_bytes(registry_rows()), dry_run=True)
    assert answer.status_code == 200, answer.text
    assert answer.json()["dry_run"] is True and answer.json()["written"] is False
    assert counts(answer.json(), "created") == FULL
    assert stored_counts(client) == dict.fromkeys(stored_counts(client), 0)
    assert accounts(client).made == {}


def test_errors_name_sheet_row_and_column_and_nothing_is_written(client: TestClient) -> None:
    rows = registry_rows(counters=3)
    rows["units"].append({"id": "XH", "name": "Huyện cũ", "kind": "huyện", "province": None})
    rows["counters"][1]["unit_id"] = "XX"  # row 4
    rows["officers"].append(dict(rows["officers"][0]))  # a second CB-0001, row 6
    rows["rota"][2]["from"] = "31/02/2026"  # row 5
    rows["rota"][3]["start"] = "18:00"  # after its end, row 6
    rows["rota"][4]["to"] = "31/12/3026"  # row 7
    rows["devices"].append({"id": "dev-extra", "counter_id": counter_id(1)})  # row 6
    answer = post(client, xlsx_bytes(rows))
    assert answer.status_code == 422, answer.text
    report = answer.json()
    assert report["written"] is False
    found = {(e["sheet"], e["row"], e["column"]): e for e in report["errors"]}
    assert set(found) == {
        ("units", 4, "kind"),
        ("counters", 4, "unit_id"),
        ("officers", 6, "id"),
        ("devices", 6, "counter_id"),
        ("rota", 5, "from"),
        ("rota", 6, "end"),
        ("rota", 7, "to"),
    }
    assert "huyện" in found[("units", 4, "kind")]["message_vi"]
    assert "unknown kind" in found[("units", 4, "kind")]["message_en"]
    assert found[("counters", 4, "unit_id")]["message_en"].startswith("unknown unit 'XX'")
    assert "không có đơn vị" in found[("counters", 4, "unit_id")]["message_vi"]
    assert "giờ kết thúc phải sau giờ bắt đầu" in found[("rota", 6, "end")]["message_vi"]
    assert "năm" in found[("rota", 7, "to")]["message_vi"]
    assert "between" in found[("rota", 7, "to")]["message_en"]
    assert counts(report, "created") == dict.fromkeys(FULL, 0)
    assert stored_counts(client) == dict.fromkeys(stored_counts(client), 0)
    assert accounts(client).made == {}


def test_a_zip_of_csv_files_imports_like_the_workbook(client: TestClient) -> None:
    rows = registry_rows(counters=4)
    answer = post(client, csv_zip_bytes(rows), name="dang-ky.zip")
    assert answer.status_code == 200, answer.text
    assert counts(answer.json(), "created") == {
        "units": 1,
        "fields": 8,
        "counters": 4,
        "officers": 4,
        "devices": 4,
        "rota": 8,
    }
    plain = csv_zip_bytes(rows, bom=False, vietnamese_header=False)
    again = post(client, plain, name="dang-ky.zip")
    assert again.status_code == 200, again.text
    assert again.json()["sheets"]["rota"]["created"] == []
    assert len(again.json()["sheets"]["rota"]["unchanged"]) == 8


def test_an_update_is_reported_as_updated(client: TestClient) -> None:
    rows = registry_rows(counters=3)
    assert post(client, xlsx_bytes(rows)).status_code == 200
    rows["officers"][1]["name"] = "Trần Văn Bình"
    rows["counters"][0]["field_ids"] = "lv-8"
    rows["rota"][0]["end"] = "16:30"
    answer = post(client, xlsx_bytes(rows))
    assert answer.status_code == 200, answer.text
    sheets = answer.json()["sheets"]
    assert sheets["officers"]["updated"] == [officer_id(2)]
    assert sheets["counters"]["updated"] == [counter_id(1)]
    assert sheets["rota"]["updated"] == [f"{counter_id(1)}/{officer_id(1)}/2026-12-01"]
    assert len(sheets["officers"]["unchanged"]) == 2
    auth = login(client, "admin")
    listed = {c["id"]: c for c in client.get("/api/v1/counters", headers=auth).json()}
    assert listed[counter_id(1)]["field_ids"] == ["lv-8"]
    officers = {o["id"]: o for o in client.get("/api/v1/officers", headers=auth).json()}
    assert officers[officer_id(2)]["name"] == "Trần Văn Bình"


def test_the_template_downloads_and_imports_once_filled(client: TestClient) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    r = client.get("/api/v1/import/template", headers=login(client, "admin"))
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    book = load_workbook(BytesIO(r.content))
    assert {"units", "rota", "vi_du", "huong_dan"} <= set(book.sheetnames)
    assert book["units"]["A2"].value == "id"
    empty = post(client, r.content, name="mau.xlsx")
    assert empty.status_code == 200, empty.text
    assert empty.json()["written"] is True and empty.json()["errors"] == []
    book["units"].append(["NT", "Xã Nam Tiến", "xã", None])
    filled = BytesIO()
    book.save(filled)
    answer = post(client, filled.getvalue(), name="mau.xlsx")
    assert answer.status_code == 200, answer.text
    assert answer.json()["sheets"]["units"]["created"] == ["NT"]
    units = client.get("/api/v1/units", headers=login(client, "admin")).json()
    assert units == [
        {"id": "NT", "name": "Xã Nam Tiến", "kind": "commune", "province": None, "signin": "none"}
    ]


def test_files_that_are_not_an_import_are_refused(client: TestClient) -> None:
    r = post(client, b"id,name\nDH,x\n", name="units.csv")
    assert r.status_code == 415
    assert "XLSX" in r.json()["detail"]
    big = post(client, b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024 + 1))
    assert big.status_code == 413
    r = client.post(
        "/api/v1/import",
        files={"file": ("a.xlsx", xlsx_bytes(registry_rows(counters=1)), XLSX)},
        headers=login(client, "viewer"),
    )
    assert r.status_code == 403


def test_a_broker_that_is_down_rolls_the_whole_import_back(client: TestClient) -> None:
    accounts(client).down = True
    r = post(client, xlsx_bytes(registry_rows(counters=2)))
    assert r.status_code == 503
    assert "nothing was imported" in r.json()["detail"]
    assert stored_counts(client) == dict.fromkeys(stored_counts(client), 0)


def test_a_second_device_on_a_counter_and_a_move_with_shifts_ahead_are_errors(
    client: TestClient,
) -> None:
    rows = registry_rows(counters=2)
    rows["rota"] = [dict(r, to=None) for r in rows["rota"]]  # open-ended: shifts ahead
    assert post(client, xlsx_bytes(rows)).status_code == 200
    rows["units"].append({"id": "NT", "name": "Xã Nam Tiến", "kind": "xã", "province": None})
    rows["officers"][0]["unit_id"] = "NT"
    rows["devices"].append({"id": "dev-second", "counter_id": counter_id(2)})
    answer = post(client, xlsx_bytes(rows))
    assert answer.status_code == 422, answer.text
    found = {(e["sheet"], e["row"], e["column"]): e for e in answer.json()["errors"]}
    assert set(found) == {("devices", 5, "counter_id"), ("officers", 3, "unit_id")}
    assert device_id(2) in found[("devices", 5, "counter_id")]["message_en"]
    assert counter_id(1) in found[("officers", 3, "unit_id")]["message_en"]
    assert [
        u["id"] for u in client.get("/api/v1/units", headers=login(client, "admin")).json()
    ] == ["DH"]


def test_a_counter_moved_to_another_unit_is_an_error_as_on_the_screen(client: TestClient) -> None:
    rows = registry_rows(counters=2)
    assert post(client, xlsx_bytes(rows)).status_code == 200
    rows["units"].append({"id": "NT", "name": "Xã Nam Tiến", "kind": "xã", "province": None})
    rows["counters"][1]["unit_id"] = "NT"
    answer = post(client, xlsx_bytes(rows))
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["sheet"], error["row"], error["column"]) == ("counters", 4, "unit_id")
    assert error["message_en"].startswith(f"counter {counter_id(2)!r} belongs to unit 'DH'")
    assert error["message_vi"].startswith(f"quầy {counter_id(2)!r} thuộc đơn vị 'DH'")
    counters = client.get("/api/v1/counters", headers=login(client, "admin")).json()
    assert {c["unit_id"] for c in counters} == {"DH"}


def test_rota_rules_are_checked_beside_the_cells_of_other_rows(client: TestClient) -> None:
    rows = registry_rows(counters=2)
    clash = dict(rows["rota"][0], counter_id=counter_id(2))  # officer 1 at counter 2 too, row 7
    rows["rota"].append(clash)
    rows["fields"][0]["name"] = "x" * 201  # row 3, a cell of another sheet
    answer = post(client, xlsx_bytes(rows))
    assert answer.status_code == 422, answer.text
    found = {(e["sheet"], e["row"], e["column"]): e for e in answer.json()["errors"]}
    assert ("fields", 3, "name") in found
    [rota] = [e for e in answer.json()["errors"] if e["sheet"] == "rota"]
    assert rota["row"] == 7
    assert "already" in rota["message_en"] and "(Vietnam time)" in rota["message_en"]
    assert "giờ Việt Nam" in rota["message_vi"] and "already" not in rota["message_vi"]
    assert stored_counts(client) == dict.fromkeys(stored_counts(client), 0)


def test_an_officer_made_inactive_has_their_shifts_ended(client: TestClient) -> None:
    rows = registry_rows(counters=2)
    rows["rota"] = [dict(r, to=None) for r in rows["rota"]]
    assert post(client, xlsx_bytes(rows)).status_code == 200
    rows["officers"][0]["active"] = "không"
    rows["rota"] = [r for r in rows["rota"] if r["officer_id"] != officer_id(1)]
    answer = post(client, xlsx_bytes(rows))
    assert answer.status_code == 200, answer.text
    assert answer.json()["sheets"]["officers"]["updated"] == [officer_id(1)]
    auth = login(client, "admin")
    rota = client.get("/api/v1/rota", headers=auth).json()
    mine = [r for r in rota if r["officer_id"] == officer_id(1)]
    assert mine and all(r["to"] is not None for r in mine)
    again = post(client, xlsx_bytes(rows))
    assert counts(again.json(), "updated") == dict.fromkeys(FULL, 0)
