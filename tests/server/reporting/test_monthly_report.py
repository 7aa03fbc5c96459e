"""The printable monthly report of a unit: its figures (those of tests/server/report_data.py),
who may print it, its audit record, and the same page from `hailong report monthly`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from devtools.figures import level_figures as figures
from server.reporting import monthly as monthly_report
from server.reporting import vietnamese
from server.reporting.periods import parse_period
from server.reporting.reports import DayRow
from server.storage.db import make_engine, migrate
from server.storage.models import AuditEvent
from system.cli import main
from tests.server.report_data import login, report_app, seed

URL = "/api/v1/reports/units/DH/monthly?month=2026-10"


class _Cells(HTMLParser):
    """The text of each cell of each row of the table with the given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows = table_id, False, []  # type: ignore[var-annotated]
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", self.table_id) in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join(" ".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def cells(page: str, table_id: str) -> list[list[str]]:
    parser = _Cells(table_id)
    parser.feed(page)
    return [row for row in parser.rows if row]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(report_app(tmp_path_factory.mktemp("monthly"))) as c:
        yield c


def test_the_page_holds_the_officers_table_totals_reasons_and_policy(client: TestClient) -> None:
    r = client.get(URL, headers=login(client, "head-dh"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "Tháng 10/2026" in page and "Phường Diên Hồng" in page
    assert "@media print" in page and "size: A4" in page and "<script" not in page
    assert "phiên bản <strong>2026-12-vi-du-2</strong>" in page
    assert "Chính sách mẫu / Example policy" in page
    assert "gợi ý cho người xem xét" in page and "suggestion to the reviewer" in page
    assert "Người lập:</td><td>head-dh" in page

    a, b = cells(page, "officers")  # ranked first, then those without enough ratings
    assert a == [
        "1",
        "Nguyễn Thị An Công chức",
        "30",
        "90,00",
        "74,38 – 96,54",
        "84,44",
        "+10,00",
        "1 Bấm lại quá nhanh: 1",  # left out, and why
        "Hoàn thành tốt nhiệm vụ Hoàn thành tốt nhiệm vụ: tỷ lệ hài lòng từ 78 % trở lên và "
        "tỷ lệ “Không hài lòng” không quá 5 % (chính sách 2026-12-vi-du-2)",
    ]
    assert b[:5] == ["chưa đủ dữ liệu", "Trần Văn Bình Công chức", "29", "100,00", "88,30 – 100,00"]
    assert b[-1] == "chưa đủ dữ liệu"

    (unit,) = cells(page, "unit-total")  # every rating at the unit's counters
    # 56 of 59 satisfied; September 8 of 10 → +14,92 points; 10 rated of 12 announced
    assert unit[:2] == ["59", "94,92"] and unit[5:] == ["83,33", "1", "80,00", "+14,92"]
    assert cells(page, "flags") == [
        ["Bấm lại quá nhanh Pressed again too soon", "1", "không tính điểm left out"]
    ]
    assert cells(page, "reasons") == [
        ["Chờ đợi lâu Long wait", "3", "75,00"],
        ["Thái độ chưa tốt Poor attitude", "1", "25,00"],
        ["Thủ tục, giấy tờ phức tạp Complex paperwork", "0", "0,00"],  # the flagged one's
    ]
    assert page.count("<svg") == 2 and 'aria-label="Tỷ lệ hài lòng theo ngày"' in page


def test_each_print_is_audited_with_its_policy_version(client: TestClient) -> None:
    page = client.get(URL, headers=login(client, "hr")).text
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        q = select(AuditEvent).where(AuditEvent.action == "export.monthly.html")
        event = session.exec(q.order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and (event.actor, event.role, event.target) == ("hr", "hr", "unit:DH")
    detail = json.loads(event.detail)
    assert (detail["month"], detail["policy_version"]) == ("2026-10", "2026-12-vi-du-2")
    assert f"Mã lần lập (nhật ký):</td><td>{event.id}<" in page
    assert detail["sha256"] in page


def test_who_may_print_which_unit(client: TestClient) -> None:
    assert client.get(URL.replace("DH", "XA"), headers=login(client, "head-dh")).status_code == 403
    assert client.get(URL.replace("DH", "XA"), headers=login(client, "hr")).status_code == 200
    for role in ("viewer", "officer-a"):
        assert client.get(URL, headers=login(client, role)).status_code == 403, role
    admin = login(client, "admin")
    assert client.get(URL.replace("DH", "NOPE"), headers=admin).status_code == 404
    bad = client.get(URL.replace("2026-10", "2026-Q4"), headers=admin)
    assert bad.status_code == 422 and "2026-10" in bad.text


def test_the_command_writes_the_same_page(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HAILONG_DATABASE_URL", raising=False)
    monkeypatch.delenv("HAILONG_POLICY_FILE", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'hailong.db'}")
    migrate(engine)
    seed(engine)
    out = tmp_path / "dh-2026-10.html"
    args = ["report", "monthly", "--unit", "DH", "--month", "2026-10", "--out", str(out)]
    assert main([*args, "--data-dir", str(tmp_path)]) == 0
    printed = out.read_text(encoding="utf-8")
    served = client.get(URL, headers=login(client, "hr")).text
    for table in ("officers", "unit-total", "reasons"):
        assert cells(printed, table) == cells(served, table), table
    assert re.findall(r"SHA-256:</td><td><code[^>]*>(\w+)<", printed) == re.findall(
        r"SHA-256:</td><td><code[^>]*>(\w+)<", served
    )  # the same figures, whichever way they were asked for
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "export.monthly.html")
        ).one()
    assert event.actor == "console" and (event.client or "").startswith("hailong on ")
    engine.dispose()
    assert main([*args[:-2], "--month", "2026-13", "--data-dir", str(tmp_path)]) == 2


def test_numbers_are_written_the_vietnamese_way() -> None:
    assert vietnamese.number(1234.5) == "1.234,50"
    assert vietnamese.number(1234) == "1.234"
    assert vietnamese.number(None) == "—"
    assert (vietnamese.signed(10.0), vietnamese.signed(-0.5)) == ("+10,00", "-0,50")


def test_charts_leave_days_and_officers_without_ratings_empty() -> None:
    october = parse_period("2026-10")
    day = DayRow(date(2026, 10, 5), figures({("vn4", 4): 3, ("vn4", 1): 1}))
    svg = monthly_report.days_chart(october, [day])
    assert svg.count("<rect") == 1 and "05/10: 75,00 % (4 đánh giá)" in svg
    rows = [
        {"name": "A <b>", "ratings": 4, "satisfied_pct": 75.0, "ranked": False,
         "wilson_low": 30.06, "wilson_high": 95.44},
        {"name": "B", "ratings": 0, "satisfied_pct": None, "ranked": False,
         "wilson_low": None, "wilson_high": None},
    ]  # fmt: skip
    bars = monthly_report.officers_chart(rows)
    assert bars.count("<rect") == 1 and "A &lt;b&gt;" in bars and ">B<" not in bars
