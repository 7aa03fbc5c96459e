"""The printed month as a PDF (WeasyPrint from the same page): a real A4 document holding the
page's words and figures, refused to whoever may not print the page, audited like it; and the
letterhead each kind of unit gets (Nghị định 30/2020/NĐ-CP)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from server.reporting import letterhead
from server.storage.models import AuditEvent, Unit
from tests.server.report_data import login, report_app

URL = "/api/v1/reports/units/DH/monthly?month=2026-10"
PDF = URL + "&format=pdf"


def _poppler(tool: str, pdf: Path, *out: str) -> str:
    """The output of a poppler-utils tool (`./dev test` installs them) over the document."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: apt-get install poppler-utils (./dev test does)")
    done = subprocess.run([path, str(pdf), *out], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(report_app(tmp_path_factory.mktemp("monthly-pdf"))) as c:
        yield c


@pytest.fixture(scope="module")
def pdf(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = client.get(PDF, headers=login(client, "head-dh"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == (
        'attachment; filename="bao-cao-hai-long-DH-2026-10.pdf"'
    )
    assert r.content.startswith(b"%PDF-")
    path = tmp_path_factory.mktemp("pdf") / "month.pdf"
    path.write_bytes(r.content)
    return path


def test_the_pdf_is_an_a4_document_with_the_page_s_words_and_figures(pdf: Path) -> None:
    text = " ".join(_poppler("pdftotext", pdf, "-").split())
    for words in (
        "UBND PHƯỜNG DIÊN HỒNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "/BC-TTPVHCC",
        "Diên Hồng, ngày …… tháng …… năm",
        "BÁO CÁO",
        "Kết quả đánh giá mức độ hài lòng của người dân",
        "tháng 10 năm 2026",
        "Nguyễn Thị An",
        "74,38 – 96,54",  # the figures as the page writes them
        "Gợi ý xếp loại",
        "Nơi nhận:",
        "Lưu: VT, TTPVHCC.",
        "GIÁM ĐỐC",
        "2026-12-vi-du-3",
    ):
        assert words in text, words
    assert "Citizen satisfaction report" not in text  # English lines are for the screen only
    info = _poppler("pdfinfo", pdf)
    assert "(A4)" in info and "Pages:" in info
    fonts = _poppler("pdffonts", pdf)
    assert "Liberation-Serif" in fonts or "DejaVu-Serif" in fonts, fonts  # a serif with Vietnamese


def test_the_pdf_is_refused_as_the_page_is(client: TestClient) -> None:
    for role in ("viewer", "officer-a"):
        assert client.get(PDF, headers=login(client, role)).status_code == 403, role
    other = PDF.replace("/DH/", "/XA/")
    assert client.get(other, headers=login(client, "head-dh")).status_code == 403
    assert client.get(other, headers=login(client, "hr")).status_code == 200
    assert client.get(URL + "&format=doc", headers=login(client, "hr")).status_code == 422


def test_each_pdf_is_audited_with_the_figures_of_the_page(client: TestClient) -> None:
    hr = login(client, "hr")
    page = client.get(URL, headers=hr).text
    assert client.get(PDF, headers=hr).status_code == 200
    with Session(client.app.state.engine) as session:  # type: ignore[attr-defined]
        newest = select(AuditEvent).where(col(AuditEvent.action).startswith("export.monthly."))
        pdf_run, html_run = session.exec(newest.order_by(col(AuditEvent.id).desc()).limit(2))
    assert (pdf_run.action, html_run.action) == ("export.monthly.pdf", "export.monthly.html")
    assert (pdf_run.actor, pdf_run.target) == ("hr", "unit:DH")
    detail = json.loads(pdf_run.detail)
    assert detail["sha256"] == json.loads(html_run.detail)["sha256"] and detail["sha256"] in page
    assert detail["policy_version"] == "2026-12-vi-du-3"


PRINTED = datetime(2026, 12, 31, 18, 0, tzinfo=UTC)  # 1 January 2027 in Vietnam


def test_each_kind_of_unit_gets_its_letterhead() -> None:
    ward = letterhead.letterhead(
        Unit(id="DHOI", name="Phường Đồng Hới", kind="ward", province="Quảng Trị"), PRINTED
    )
    assert (ward.parent, ward.issuer) == ("UBND PHƯỜNG ĐỒNG HỚI", letterhead.CENTRE_LINES)
    assert ward.issuer_name == "Trung tâm Phục vụ hành chính công phường Đồng Hới"
    assert ward.date_line == "Đồng Hới, ngày …… tháng …… năm 2027"  # the year in Vietnam
    assert ward.recipients[0] == "UBND phường Đồng Hới (để báo cáo);"
    commune = letterhead.letterhead(
        Unit(id="LDB", name="Xã Long Điền – An Giang", kind="commune", province=None), PRINTED
    )
    assert (commune.parent, commune.place) == ("UBND XÃ LONG ĐIỀN", "Long Điền")
    named = Unit(id="BN", name="Bộ phận Một cửa Phường Bến Thành", kind="ward")
    assert letterhead.own_name(named) == "Bến Thành"  # the ward's name, wherever it stands
    centre = letterhead.letterhead(
        Unit(id="QT", name="Trung tâm tỉnh", kind="provincial_centre", province="Quảng Trị"),
        PRINTED,
    )
    assert (centre.parent, centre.place) == ("UBND TỈNH QUẢNG TRỊ", "Quảng Trị")
    assert centre.issuer_name == "Trung tâm Phục vụ hành chính công tỉnh Quảng Trị"
    city = Unit(id="HCM", name="Trung tâm", kind="provincial_centre", province="TP Hồ Chí Minh")
    hcm = letterhead.letterhead(city, PRINTED)
    assert (hcm.parent, hcm.place) == ("UBND THÀNH PHỐ HỒ CHÍ MINH", "Thành phố Hồ Chí Minh")
    assert letterhead.province_phrase("Hà Nội") == "thành phố Hà Nội"
    assert letterhead.province_phrase("Tỉnh Gia Lai") == "tỉnh Gia Lai"
    unknown = letterhead.letterhead(
        Unit(id="X", name="Trung tâm", kind="provincial_centre"), PRINTED
    )
    assert (unknown.parent, unknown.place) == ("UBND TỈNH ……", "……")  # a blank, not a guess
