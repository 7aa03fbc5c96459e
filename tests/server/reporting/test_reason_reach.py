"""A report says which input could reach which reason (`reason_reach`), in the API's JSON; the
claim about buttons is checked against the unit's own code in tests/device/test_reason_pages.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from server.reporting.reason_reach import CHART_NOTE_EN, CHART_NOTE_VI, reason_reach
from server.storage.reasons import REASONS
from tests.server.report_data import login, report_app

CODES = [r.code for r in REASONS]


def test_every_device_input_reaches_every_reason_and_buttons_once_reached_the_first_three() -> None:
    reach = reason_reach()
    assert reach["by_input"] == {"button": CODES, "touch": CODES, "keyboard": CODES}
    assert reach["button_before_paging"] == {
        "four_buttons": ["wait_time", "attitude", "guidance"],
        "three_buttons": ["wait_time", "attitude"],
    }
    assert "3 lý do đầu" in reach["note_vi"] and "first 3 reasons" in reach["note_en"]
    assert "3 lý do đầu" in CHART_NOTE_VI and "first 3 reasons" in CHART_NOTE_EN


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(report_app(Path(tmp_path_factory.mktemp("reach")))) as c:
        yield c


@pytest.mark.parametrize("scope", ["officers", "counters", "fields", "units"])
def test_every_report_in_the_api_carries_the_reach(client: TestClient, scope: str) -> None:
    r = client.get(f"/api/v1/reports/{scope}?period=2026-10", headers=login(client, "hr"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reason_reach"] == reason_reach()
    assert set(body["total"]["reason_counts"]) <= set(CODES)  # the codes the reach speaks of
