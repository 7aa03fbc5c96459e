"""The citizen's rating page over HTTP in the real app, and the counters' QR card sheet: the page
is small, self-contained and strict (its own policy allows exactly its style), the form works
without script in two steps after a low score, a ticket's link takes one rating, and the sheet
carries each counter's link as text and as a QR code."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import segno
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from device.layout import LEVELS as UNIT_LEVELS
from hailong.protocol import SCALES
from server.access.auth import add_user
from server.channels.cards import sheet_html, unit_cards
from server.channels.links import PATH, card_invite, ticket_invite
from server.storage.channels import WEB_DEVICE, QueueTicket, RatingInvite
from server.storage.models import AuditEvent, Rating
from server.timeutil import vn_day
from server.web import citizen_page
from tests.server.web.test_api import api_app, login, seed

PAGE_LIMIT = 100 * 1024


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = api_app(tmp_path)
    with TestClient(app) as c:
        seed(c, login(c, "admin"))
        yield c


def engine_of(client: TestClient) -> object:
    return client.app.state.engine  # type: ignore[attr-defined]


def ticket_link(client: TestClient, code: str = "A-0153") -> str:
    now = datetime.now(UTC)
    with Session(engine_of(client)) as session:  # type: ignore[arg-type]
        ticket = QueueTicket(
            unit_id="DH",
            day=vn_day(now),
            ticket=code,
            state="served",
            served_at=now,
            counter_id="DH-Q1",
            officer_id="CB-0042",
        )
        session.add(ticket)
        session.commit()
        token = ticket_invite(session, ticket, now, days=7).token
        session.commit()
    return f"{PATH}{token}"


def card_link(client: TestClient) -> str:
    with Session(engine_of(client)) as session:  # type: ignore[arg-type]
        token = card_invite(session, "DH-Q1", "DH", datetime.now(UTC)).token
        session.commit()
    return f"{PATH}{token}"


def stored(client: TestClient) -> list[Rating]:
    with Session(engine_of(client)) as session:  # type: ignore[arg-type]
        return list(session.exec(select(Rating).where(Rating.device_id == WEB_DEVICE)).all())


def test_the_page_is_small_self_contained_and_strict(client: TestClient) -> None:
    url = ticket_link(client)
    r = client.get(url)
    assert r.status_code == 200
    page = r.text
    assert len(r.content) <= PAGE_LIMIT
    assert re.findall(r"(?:https?:)?//", page) == [], "no address of anywhere else in the page"
    assert re.findall(r"<script|<link rel=\"stylesheet\"|@import|url\(", page) == []
    token = url.removeprefix(PATH)
    assert re.findall(r'action="([^"]*)"', page) == [token]  # its own address, relative
    for text in ("Phường Diên Hồng", "Quầy 1", "A-0153", "Nguyễn Thị Lan", "Rất hài lòng"):
        assert text in page
    assert [int(v) for v in re.findall(r'name="score" value="(\d)"', page)] == [1, 2, 3, 4]

    policy = r.headers["content-security-policy"]
    assert policy.startswith("default-src 'none';")
    assert "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    [style] = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy, "the policy allows exactly the page's style"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"
    assert (
        client.get("/api/v1/units")
        .headers["content-security-policy"]
        .startswith("default-src 'self'")
    ), "every other answer keeps the server's policy"


def test_the_levels_look_as_on_the_unit() -> None:
    scale = SCALES["vn4"]
    for level, (fill, ink, smile) in citizen_page.LEVELS.items():
        unit = UNIT_LEVELS[scale.labels_vi[level - 1]]
        assert (fill, ink, smile) == (
            "#{:02x}{:02x}{:02x}".format(*unit.fill),
            "#{:02x}{:02x}{:02x}".format(*unit.ink),
            unit.smile,
        )
        assert f".l{level}{{background:{fill};color:{ink}}}" in citizen_page.STYLE


def test_a_low_score_asks_reasons_then_the_link_is_spent(client: TestClient) -> None:
    url = ticket_link(client)
    asked = client.post(url, data={"score": "1"})
    assert asked.status_code == 200
    assert "Chúng tôi cần cải thiện điều gì?" in asked.text
    assert 'name="reasons" value="wait_time"' in asked.text
    assert stored(client) == [], "nothing is stored before the reasons are sent"

    sent = client.post(
        url,
        data={"score": "1", "reasons": ["wait_time", "attitude"], "comment": "Lâu", "step": "send"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{url.removeprefix(PATH)}?sent=1"
    thanks = client.get(f"{url}?sent=1")
    assert thanks.status_code == 200 and "Cảm ơn quý khách!" in thanks.text
    [rating] = stored(client)
    assert (rating.score, rating.reasons, rating.comment, rating.ticket, rating.officer_id) == (
        1,
        "wait_time,attitude",
        "Lâu",
        "A-0153",
        "CB-0042",
    )

    again = client.post(url, data={"score": "4"})
    assert again.status_code == 409
    assert "Giao dịch này đã được đánh giá. Xin cảm ơn!" in again.text
    reopened = client.get(url)
    assert reopened.status_code == 409 and "đã được đánh giá" in reopened.text
    assert len(stored(client)) == 1


def test_a_high_score_is_stored_at_once_and_skip_drops_the_reasons(client: TestClient) -> None:
    happy = ticket_link(client, "A-0001")
    assert client.post(happy, data={"score": "4"}, follow_redirects=False).status_code == 303
    skipped = ticket_link(client, "A-0002")
    r = client.post(
        skipped,
        data={"score": "2", "reasons": ["wait_time"], "comment": "x", "step": "skip"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    ratings = sorted(stored(client), key=lambda rating: rating.ticket or "")
    assert [(x.ticket, x.score, x.reasons, x.comment) for x in ratings] == [
        ("A-0001", 4, "", None),
        ("A-0002", 2, "", None),
    ]


def test_a_wrong_answer_is_shown_again_with_what_to_do(client: TestClient) -> None:
    url = ticket_link(client)
    r = client.post(url, data={"score": "9"})
    assert r.status_code == 422 and "Xin quý khách chọn một mức" in r.text
    long = client.post(url, data={"score": "1", "comment": "x" * 501, "step": "send"})
    assert long.status_code == 422 and "Góp ý dài quá 500 ký tự" in long.text
    assert "x" * 501 in long.text, "what the citizen wrote is kept for them to shorten"
    assert stored(client) == []


def test_unknown_links_and_a_card_over_its_limit_are_refused_politely(client: TestClient) -> None:
    r = client.get(f"{PATH}not-a-token")
    assert r.status_code == 404 and "Không tìm thấy liên kết" in r.text
    card = card_link(client)
    for _ in range(3):  # Settings.card_ratings_per_address
        assert client.post(card, data={"score": "3"}, follow_redirects=False).status_code == 303
    assert "Cảm ơn quý khách!" in client.get(f"{card}?sent=1").text
    refused = client.post(card, data={"score": "3"})
    assert refused.status_code == 429 and "đã gửi 3 đánh giá" in refused.text
    assert [r.flags for r in stored(client)] == ["web_unverified"] * 3


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "apt-get install poppler-utils"
    source = tmp_path / "cards.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        [pdftotext, str(source), "-"], check=True, capture_output=True, text=True
    ).stdout


def test_the_qr_card_sheet_has_every_counters_link(tmp_path: Path) -> None:
    app = api_app(tmp_path)
    app.state.settings = app.state.settings.model_copy(
        update={"public_url": "https://hailong.example.gov.vn"}
    )
    with TestClient(app) as client:
        admin = login(client, "admin")
        seed(client, admin)
        body = {"id": "DH-Q2", "name": "Quầy 2", "unit_id": "DH", "field_ids": []}
        assert client.post("/api/v1/counters", json=body, headers=admin).status_code == 201
        r = client.get("/api/v1/units/DH/qr-cards.pdf", headers=admin)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert 'filename="the-qr-danh-gia-DH.pdf"' in r.headers["content-disposition"]
        assert r.content.startswith(b"%PDF")
        with Session(app.state.engine) as session:
            invites = session.exec(select(RatingInvite).order_by(col(RatingInvite.counter_id)))
            tokens = {i.counter_id: i.token for i in invites}
            [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "export.qr_cards"))
        assert sorted(tokens) == ["DH-Q1", "DH-Q2"]
        text = pdf_text(r.content, tmp_path)
        for token in tokens.values():
            assert f"https://hailong.example.gov.vn/r/{token}" in text.replace("\n", "")
        assert text.count("Quét mã để đánh giá") == 2 and "Quầy 2" in text
        assert (event.actor, event.target) == ("admin", "DH")

        again = client.get("/api/v1/units/DH/qr-cards.pdf", headers=admin)
        assert pdf_text(again.content, tmp_path) == text, "a reprint carries the same links"
        assert client.get(f"{PATH}{tokens['DH-Q2']}").status_code == 200
        assert client.get("/api/v1/units/XX/qr-cards.pdf", headers=admin).status_code == 404

        other_unit = {"id": "LDB", "name": "Xã Châu Phong", "kind": "commune"}
        assert client.post("/api/v1/units", json=other_unit, headers=admin).status_code == 201
        with Session(app.state.engine) as session:
            add_user(session, "head-other", "head-other-password", "unit_head", "LDB")
            add_user(session, "head-dh", "head-dh-password", "unit_head", "DH")
        own = client.get("/api/v1/units/DH/qr-cards.pdf", headers=login(client, "head-dh"))
        assert own.status_code == 200
        other = client.get("/api/v1/units/DH/qr-cards.pdf", headers=login(client, "head-other"))
        assert other.status_code == 403


def test_the_sheet_puts_each_counters_own_qr_inline(client: TestClient) -> None:
    body = {"id": "DH-Q2", "name": "Quầy 2", "unit_id": "DH", "field_ids": []}
    assert client.post("/api/v1/counters", json=body, headers=login(client, "admin")).is_success
    with Session(engine_of(client)) as session:  # type: ignore[arg-type]
        found = unit_cards(session, "DH", "http://10.0.0.5:8000/", datetime.now(UTC))
    assert [card.counter_name for card in found] == ["Quầy 1", "Quầy 2"]
    assert all(card.url.startswith("http://10.0.0.5:8000/r/") for card in found)
    html = sheet_html(found)
    images = re.findall(r'<img class="qr" src="([^"]+)"', html)
    assert images == [qr_image(card.url) for card in found], "each card shows its own link"
    assert re.findall(r'src="(?!data:image/svg\+xml)', html) == []


def qr_image(url: str) -> str:
    return segno.make_qr(url, error="m").svg_data_uri(border=2, scale=4)
