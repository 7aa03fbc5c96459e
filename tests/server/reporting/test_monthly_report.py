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

from devtools.browser import chromium
from devtools.figures import level_figures as figures
from server.reporting import monthly as monthly_report
from server.reporting import vietnamese
from server.reporting.periods import parse_period
from server.reporting.reports import DayRow
from server.storage.db import make_engine, migrate
from server.storage.models import AuditEvent, User
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
    assert "tháng 10 năm 2026" in page and "Phường Diên Hồng" in page
    assert "@media print" in page and "size: A4" in page and "<script" not in page
    assert "phiên bản <strong>2026-12-vi-du-3</strong>" in page
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
        "Hoàn thành tốt nhiệm vụ Căn cứ: tỷ lệ hài lòng từ 78 % trở lên và "
        "tỷ lệ “Không hài lòng” không quá 5 % (chính sách 2026-12-vi-du-3)",
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


class _Text(HTMLParser):
    """The text inside the element with the given id, its own tags included."""

    VOID = frozenset({"br", "meta", "hr", "img", "col"})

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.found = element_id, 0, False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif ("id", self.element_id) in attrs:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(page: str, element_id: str) -> str:
    """The text of the element with this id, its spaces as one."""
    parser = _Text(element_id)
    parser.feed(page)
    assert parser.found, f"no element {element_id!r}"
    return " ".join(" ".join(parser.parts).split())


def test_the_page_has_the_parts_of_an_administrative_document(client: TestClient) -> None:
    """Nghị định 30/2020/NĐ-CP, Phụ lục I: the issuing body under the body above it, the
    number left to fill in, the Quốc hiệu and Tiêu ngữ, the place and date line in italics, the
    kind and gist, "Nơi nhận" and the signer; A4 with the decree's margins in a Times-like
    serif."""
    page = client.get(URL, headers=login(client, "hr")).text
    head = text_of(page, "letterhead")
    assert head.startswith("UBND PHƯỜNG DIÊN HỒNG TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG Số: ")
    assert "Số:" + "\u00a0" * 8 + "/BC-TTPVHCC" in page  # room to write the number by hand
    assert text_of(page, "nation") == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert text_of(page, "motto") == "Độc lập - Tự do - Hạnh phúc"
    assert re.search(r"\.motto \{[^}]*border-bottom", page)  # underlined, as long as the words
    made = re.search(r"Thời điểm lập:</td><td>\d\d/\d\d/(\d{4}) ", page)
    assert made is not None
    year = made.group(1)  # the year the document was made, in Vietnam
    assert text_of(page, "date-line") == f"Diên Hồng, ngày …… tháng …… năm {year}"
    assert re.search(r"\.date-line \{[^}]*font-style: italic", page)
    assert '<p class="kind">BÁO CÁO</p>' in page
    assert text_of(page, "gist") == (
        "Kết quả đánh giá mức độ hài lòng của người dân đối với việc tiếp nhận, giải quyết "
        "thủ tục hành chính tháng 10 năm 2026"
    )
    assert "Gợi ý xếp loại và căn cứ" in page
    assert text_of(page, "recipients") == (
        "Nơi nhận: - UBND phường Diên Hồng (để báo cáo); "
        "- Cán bộ, công chức có tên tại Mục II; - Lưu: VT, TTPVHCC."
    )
    assert "GIÁM ĐỐC" in text_of(page, "signature")
    assert "margin: 20mm 15mm 20mm 30mm" in page  # top, right, bottom, left
    assert 'font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif' in page
    assert re.search(r"body \{[^}]*font-size: 13pt", page)


def test_the_page_reads_on_a_phone_without_sideways_scrolling(client: TestClient) -> None:
    page = client.get(URL, headers=login(client, "hr")).text
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 390, "height": 844})
        tab.set_content(page)
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        # the officers' table scrolls inside its own box instead
        box = tab.locator("#officers")
        assert box.evaluate("e => e.scrollWidth > e.clientWidth")


def test_each_print_is_audited_with_its_policy_version(client: TestClient) -> None:
    page = client.get(URL, headers=login(client, "hr")).text
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        q = select(AuditEvent).where(AuditEvent.action == "export.monthly.html")
        event = session.exec(q.order_by(col(AuditEvent.id).desc())).first()
    assert event is not None and (event.actor, event.role, event.target) == ("hr", "hr", "unit:DH")
    detail = json.loads(event.detail)
    assert (detail["month"], detail["policy_version"]) == ("2026-10", "2026-12-vi-du-3")
    assert f"Mã lần lập (nhật ký):</td><td>{event.id}<" in page
    assert detail["sha256"] in page


def test_the_maker_is_named_as_the_registry_names_them(client: TestClient) -> None:
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        admin = session.exec(select(User).where(User.username == "admin")).one()
        admin.full_name = "Nguyễn Thị Lan"
        session.add(admin)
        session.commit()
    page = client.get(URL, headers=login(client, "admin")).text
    assert "Người lập:</td><td>Nguyễn Thị Lan (admin)<" in page


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
    pdf = tmp_path / "dh-2026-10.pdf"
    assert main([*args[:-1], str(pdf), "--data-dir", str(tmp_path)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    with Session(engine) as session:
        assert session.exec(
            select(AuditEvent).where(AuditEvent.action == "export.monthly.pdf")
        ).one()
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
