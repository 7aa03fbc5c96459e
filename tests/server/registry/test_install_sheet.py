"""The install sheet and the unit's list, as Chromium prints them: each on one A4 page, even
with the longest names the registry takes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser

from devtools.browser import chromium
from server.registry.install_sheet import BundleFacts, install_sheet, qr_png, unit_index

LONGEST = "Trung tâm Phục vụ hành chính công tỉnh Gia Lai, chi nhánh phường Diên Hồng " * 2
AT = datetime(2026, 10, 5, 1, 30, tzinfo=UTC)


def facts(number: int) -> BundleFacts:
    device_id = f"dev-{'x' * 56}-{number:03d}"  # 64 characters, the most an id may have
    return BundleFacts(
        device_id=device_id,
        counter_id=f"Q-{'y' * 58}{number:03d}",
        counter_name=LONGEST[:200],
        unit_id="DH",
        unit_name=LONGEST[:200],
        broker="hailong.xa-an-binh.lan:8883",
        tls=True,
        issued_at=AT,
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def printed_pages(browser: Browser, html: str) -> int:
    page = browser.new_page()
    try:
        page.set_content(html)
        pdf = page.pdf(prefer_css_page_size=True)
    finally:
        page.close()
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_the_install_sheet_prints_on_one_a4_page(browser: Browser) -> None:
    one = facts(1)
    html = install_sheet(one, qr_png(one.device_id))
    assert "size: A4" in html
    assert printed_pages(browser, html) == 1


def test_the_unit_list_of_forty_devices_prints_on_one_a4_page(browser: Browser) -> None:
    devices = [
        BundleFacts(
            device_id=f"dev-dh-q{n:02d}",
            counter_id=f"DH-Q{n:02d}",
            counter_name=f"Quầy {n}: Tư pháp – Hộ tịch",
            unit_id="DH",
            unit_name="Phường Diên Hồng",
            broker="hailong.xa-an-binh.lan:8883",
            tls=True,
            issued_at=AT,
        )
        for n in range(1, 41)
    ]
    html = unit_index("DH", "Phường Diên Hồng", devices, AT)
    assert html.count("<tr>") == 41
    assert printed_pages(browser, html) == 1


def test_names_are_text_not_markup() -> None:
    odd = BundleFacts(
        device_id="dev-1",
        counter_id="Q1",
        counter_name='Quầy <script>alert("x")</script>',
        unit_id="DH",
        unit_name="Phường <b>Diên Hồng</b>",
        broker="127.0.0.1:1883",
        tls=False,
        issued_at=AT,
    )
    html = install_sheet(odd, qr_png("dev-1"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;Diên Hồng&lt;/b&gt;" in html
    assert "(TLS)" not in html and "chứng chỉ máy chủ" not in html, "no CA without TLS"
    assert "08:30 05/10/2026" in html, "issued in Vietnam time"
