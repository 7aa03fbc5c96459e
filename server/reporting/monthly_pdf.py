"""The printed month as a PDF: WeasyPrint lays out the very HTML page the browser prints
(server/reporting/monthly.py), so the paper and the page cannot differ.

WeasyPrint reads the page's print styles (A4, the decree's margins, page numbers) and draws the
text with the system's fonts through Pango: Liberation Serif (metrics of Times New Roman, with
Vietnamese letters from its version 2) or DejaVu Serif. The page refers to nothing outside
itself; the fetcher refuses any other address, so no text in it can make the server fetch one.
"""

from __future__ import annotations

from weasyprint import HTML
from weasyprint.urls import URLFetcher

MEDIA_TYPE = "application/pdf"


def pdf_bytes(page: str) -> bytes:
    """The page laid out on A4 as a PDF document."""
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    document = HTML(string=page, url_fetcher=fetcher, media_type="print")
    data = document.write_pdf()
    assert data is not None  # with no target, write_pdf returns the bytes
    return data


def filename(unit_id: str, month_text: str) -> str:
    """The file's name as offered for download; a unit id is letters, digits and . _ - only."""
    return f"bao-cao-hai-long-{unit_id}-{month_text}.pdf"
