"""Paper survey forms through the real API over a real SQLite database: the template, an
upload of forms (XLSX and CSV) stored as paper ratings, refused whole on any error, never
entered twice, and a dry run that writes nothing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, col, select

from devtools.paper_screenshot import paper_workbook
from server.channels.paper import rating_id
from server.channels.paper_sheet import PHIEU
from server.storage import rollups
from server.storage.channels import PAPER_DEVICE, PaperBatch, PaperForm
from server.storage.models import AuditEvent, Rating
from server.web.api import deps
from tests.server.access.test_access import add_role_users, seed_second_unit
from tests.server.web.test_api import api_app, login, seed

NOW = datetime(2026, 10, 15, 3, 0, tzinfo=UTC)  # 10:00 on 15/10/2026 in Vietnam
FORMS = [
    # form_no, unit, counter, field, officer, date, level, reasons, comment
    ["PKS-0001", "DH", "DH-Q1", None, "CB-0042", "05/10/2026", 3, None, None],
    [
        "PKS-0002",
        "DH",
        "DH-Q1",
        None,
        None,
        "2026-10-06",
        "Không hài lòng",
        "wait_time; Thái độ chưa tốt",
        "Chờ lâu",
    ],
    ["PKS-0003", "DH", None, "tu-phap", None, "07/10/2026", "hai long", None, None],
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict]]:
    """Units DH (counter DH-Q1, officer CB-0042) and LDB (counter LDB-Q1, officer CB-0100), a
    login per role (the unit_head of DH among them); the API's clock fixed at NOW."""
    app = api_app(tmp_path_factory.mktemp("paper"))
    app.dependency_overrides[deps.now] = lambda: NOW
    with TestClient(app) as client:
        admin = login(client, "admin")
        seed(client, admin)
        seed_second_unit(client, admin)
        counter = {"id": "LDB-Q1", "name": "Quầy 1", "unit_id": "LDB"}
        assert client.post("/api/v1/counters", json=counter, headers=admin).status_code == 201
        add_role_users(app)
        yield client, {role: login(client, role) for role in ("admin", "hr", "unit_head")}


def csv_file(rows: Sequence[Sequence[Any]]) -> bytes:
    lines = [",".join(PHIEU.column_ids)]
    lines += [",".join("" if v is None else f'"{v}"' for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def upload(
    client: TestClient, headers: dict, content: bytes, name: str = "phieu.xlsx", **params: Any
) -> Any:
    return client.post(
        "/api/v1/paper", params=params, files={"file": (name, content)}, headers=headers
    )


def paper_ratings(client: TestClient, unit_id: str = "DH") -> list[Rating]:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(
            session.exec(
                select(Rating)
                .where(Rating.input == "paper", Rating.unit_id == unit_id)
                .order_by(col(Rating.seq))
            ).all()
        )


def channel_counts(client: TestClient) -> dict[tuple[str, str, str], int]:
    """The per-channel rollup of unit DH, as every report row's `channels` reads it."""
    table = rollups.CHANNELS.tables["day"]
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        rows = session.execute(
            select(table.c.counter_id, table.c.officer_id, table.c.input, table.c.n).where(
                table.c.unit_id == "DH"
            )
        ).all()
    return {(c, o, i): n for c, o, i, n in rows}


def template(client: TestClient, headers: dict) -> bytes:
    r = client.get("/api/v1/paper/template", headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def test_the_template_lays_out_the_form_and_lists_the_ids(world: tuple[TestClient, dict]) -> None:
    client, who = world
    book = load_workbook(io.BytesIO(template(client, who["hr"])))
    assert book.sheetnames[:3] == ["phieu", "vi_du", "huong_dan"]
    phieu = book["phieu"]
    assert [c.value for c in phieu[2]] == list(PHIEU.column_ids)
    assert phieu.cell(1, 1).value == "Số phiếu *"
    assert "Không hài lòng" in str(phieu.cell(1, PHIEU.column_ids.index("level") + 1).value)
    empty = [v for row in phieu.iter_rows(min_row=3, values_only=True) for v in row if v]
    assert empty == [], "no example in the sheet that is read"
    assert [c.value for c in book["don_vi"]["A"]] == ["unit_id", "DH", "LDB"]
    assert ("DH-Q1", "Quầy 1", "DH") in [tuple(r) for r in book["quay"].iter_rows(values_only=True)]
    assert "CB-0100" in [c.value for c in book["can_bo"]["A"]]
    assert "wait_time" in [c.value for c in book["ly_do"]["A"]]
    help_ids = [c.value for c in book["huong_dan"]["A"]]
    assert all(column_id in help_ids for column_id in PHIEU.column_ids)


def test_three_forms_make_three_paper_ratings_and_again_none(
    world: tuple[TestClient, dict],
) -> None:
    client, who = world
    content = paper_workbook(FORMS, template(client, who["hr"]))
    dry = upload(client, who["hr"], content, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["forms"], dry.json()["created"], dry.json()["written"]) == (3, 0, False)
    assert paper_ratings(client) == []

    r = upload(client, who["hr"], content)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["written"], report["errors"]) == (3, True, [])
    stored = paper_ratings(client)
    assert [
        (x.counter_id, x.officer_id, x.day, x.scale, x.score, x.reasons, x.comment) for x in stored
    ] == [
        ("DH-Q1", "CB-0042", date(2026, 10, 5), "vn3", 3, "", None),
        ("DH-Q1", None, date(2026, 10, 6), "vn3", 1, "wait_time,attitude", "Chờ lâu"),
        (None, None, date(2026, 10, 7), "vn3", 2, "", None),
    ]
    assert {x.device_id for x in stored} == {PAPER_DEVICE}
    assert channel_counts(client) == {
        ("DH-Q1", "CB-0042", "paper"): 1,
        ("DH-Q1", "", "paper"): 1,  # the rollups key nobody as ''
        ("", "", "paper"): 1,
    }
    assert stored[0].id == rating_id("DH", "PKS-0001")
    assert stored[0].pressed_at.replace(tzinfo=UTC) == datetime(2026, 10, 5, 5, 0, tzinfo=UTC)
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        batch = session.get(PaperBatch, report["batch_id"])
        assert batch is not None
        assert (batch.entered_by, batch.forms, batch.filename) == ("hr", 3, "phieu.xlsx")
        forms = session.exec(select(PaperForm).where(PaperForm.batch_id == batch.id)).all()
        assert sorted(f.form_no for f in forms) == ["PKS-0001", "PKS-0002", "PKS-0003"]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "paper.import")).one()
        assert (event.actor, event.target) == ("hr", str(batch.id))
        detail = json.loads(event.detail)
        assert (detail["batch"], detail["forms"]) == (batch.id, 3)

    again = upload(client, who["admin"], content)
    assert again.status_code == 422
    refused = again.json()
    assert (refused["created"], refused["written"], refused["refused_rows"]) == (
        0,
        False,
        [3, 4, 5],
    )
    assert [(e["sheet"], e["row"], e["column"]) for e in refused["errors"]] == [
        ("phieu", 3, "form_no"),
        ("phieu", 4, "form_no"),
        ("phieu", 5, "form_no"),
    ]
    first = refused["errors"][0]
    assert f"đợt {batch.id} ngày 15/10/2026" in first["message_vi"]
    assert f"batch {batch.id} on 15/10/2026" in first["message_en"]
    assert "PKS-0001" in first["message_vi"]
    assert len(paper_ratings(client)) == 3


def test_a_csv_file_works_too(world: tuple[TestClient, dict]) -> None:
    client, who = world
    rows = [
        ["Q-77", "LDB", "LDB-Q1", None, "CB-0100", "2026-10-14", "Rất hài lòng", None, "Tốt, nhanh"]
    ]
    r = upload(client, who["hr"], csv_file(rows), "phieu.csv")
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1
    [stored] = paper_ratings(client, "LDB")
    assert (stored.counter_id, stored.officer_id, stored.score, stored.comment) == (
        "LDB-Q1",
        "CB-0100",
        3,
        "Tốt, nhanh",
    )


def test_any_error_enters_nothing_and_each_is_named(world: tuple[TestClient, dict]) -> None:
    client, who = world
    rows = [
        ["E-1", "DH", "DH-Q1", None, None, "05/10/2026", 2, None, None],  # valid alone
        ["E-2", "NOPE", "DH-Q1", None, None, "05/10/2026", 2, None, None],
        ["E-3", "DH", "LDB-Q1", None, None, "05/10/2026", 2, None, None],
        ["E-4", "DH", "DH-Q1", None, "CB-0100", "05/10/2026", 2, None, None],
        ["E-5", "DH", "DH-Q1", None, None, "16/10/2026", 2, None, None],
        ["E-6", "DH", "DH-Q1", None, None, "05/10/2026", 4, None, None],
        ["E-7", "DH", "DH-Q1", None, None, None, 2, None, None],
        ["E-1", "DH", "DH-Q1", None, None, "05/10/2026", 2, None, None],
        ["E-9", "DH", "DH-Q1", None, None, "05/10/2026", 1, "slow", None],
        ["E-10", "DH", None, None, None, "05/10/2026", 1, None, None],
        ["E-11", "DH", None, "no-field", None, "32/10/2026", 1, None, None],
    ]
    before = len(paper_ratings(client))
    r = upload(client, who["hr"], paper_workbook(rows))
    assert r.status_code == 422, r.text
    errors = [(e["row"], e["column"]) for e in r.json()["errors"]]
    assert errors == [
        (4, "unit_id"),
        (5, "counter_id"),
        (6, "officer_id"),
        (7, "date"),
        (8, "level"),
        (9, "date"),
        (10, "form_no"),
        (11, "reasons"),
        (12, "counter_id"),
        (13, "date"),
    ]
    messages = {e["row"]: e for e in r.json()["errors"]}
    assert "NOPE" in messages[4]["message_en"] and "NOPE" in messages[4]["message_vi"]
    assert "belongs to unit 'LDB'" in messages[5]["message_en"]
    assert "in the future" in messages[7]["message_en"]
    assert "hàng 3" in messages[10]["message_vi"]
    assert r.json()["refused_rows"] == list(range(4, 14))
    assert len(paper_ratings(client)) == before
    dry = upload(client, who["hr"], paper_workbook(rows[:1]), dry_run=True)
    assert dry.json()["forms"] == 1 and not dry.json()["written"]


def test_a_unit_head_may_not_enter_forms(world: tuple[TestClient, dict]) -> None:
    client, who = world
    r = upload(client, who["unit_head"], paper_workbook(FORMS[:1]))
    assert r.status_code == 403
    assert client.get("/api/v1/paper/template", headers=who["unit_head"]).status_code == 403


def test_a_file_that_is_no_form_sheet_is_refused_whole(world: tuple[TestClient, dict]) -> None:
    client, who = world
    assert upload(client, who["hr"], b"\xff\xfe\x00bad", "x.csv").status_code == 415
    book = Workbook()
    out = io.BytesIO()
    book.save(out)
    r = upload(client, who["hr"], out.getvalue())
    assert r.status_code == 422
    assert "phieu" in r.json()["errors"][0]["message_en"]
