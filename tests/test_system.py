"""The README's run command for real: `hailong demo` as a person would start and stop it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from devtools.browser import WAIT_MS, console_errors, launch_chromium
from server.broker.mosquitto import free_port
from server.timeutil import VN_TZ
from tests.child import Child


class Demo(Child):
    def __init__(self, data_dir: Path) -> None:
        self.http_port = free_port()
        self.mqtt_port = free_port()
        self.base = f"http://127.0.0.1:{self.http_port}"
        super().__init__(
            [
                sys.executable,
                "-m",
                "system.cli",
                "demo",
                "--data-dir",
                str(data_dir),
                "--http-port",
                str(self.http_port),
                "--mqtt-port",
                str(self.mqtt_port),
                "--days",
                "3",
                "--live-every",
                "1",
            ]
        )


def get_json(url: str, token: str | None = None, form: dict[str, str] | None = None) -> object:
    data = urllib.parse.urlencode(form).encode() if form else None
    request = urllib.request.Request(url, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def mosquitto_running(data_dir: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", str(data_dir / "broker")], capture_output=True)
    return found.returncode == 0


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "hailong-data"


def test_demo_runs_shows_the_dashboard_and_stops_cleanly(data_dir: Path) -> None:
    demo = Demo(data_dir)
    try:
        login_line = demo.wait_for("admin login:")
        # piped output (a journal) is told where the password is, never the password itself
        secrets = data_dir / "secrets.json"
        assert str(secrets) in login_line
        password = json.loads(secrets.read_text())["admin_password"]
        assert password not in login_line
        demo.wait_for("history complete")
        demo.wait_for("live ratings")
        health = get_json(f"{demo.base}/healthz")
        assert health == {"status": "ok", "database": "ok", "mqtt": "connected"}
        token = get_json(
            f"{demo.base}/api/v1/auth/token", form={"username": "admin", "password": password}
        )["access_token"]  # type: ignore[index]
        today = datetime.now(VN_TZ).date()
        q = f"start={(today - timedelta(days=4)).isoformat()}&end={today.isoformat()}"
        report = get_json(f"{demo.base}/api/v1/reports/officers?{q}", token)
        officers = report["officers"]  # type: ignore[index]
        assert len(officers) == 20
        assert sum(o["ratings"] for o in officers) > 100
        # the simulated queue's tickets: rated ÷ served is real, about three in four
        assert all(o["response_rate"] is not None for o in officers)
        assert (
            50
            < sum(o["rated_services"] for o in officers)
            * 100
            / sum(o["announced"] for o in officers)
            < 95
        )
        busiest = max(officers, key=lambda o: o["ratings"])

        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = console_errors(page)
            page.goto(f"{demo.base}/dashboard/")
            assert "/login" in page.url, "the dashboard is behind the login"
            page.fill("#username", "admin")
            page.fill("#password", password)
            page.click("button[type=submit]")
            expect(page.locator("body")).to_contain_text(busiest["name"], timeout=WAIT_MS)
            browser.close()
        assert errors == []
    finally:
        code = demo.stop(signal.SIGINT) if demo.proc.poll() is None else demo.proc.returncode
        demo.kill()
    assert code == 0, demo.output[-3000:]
    demo.wait_for("Hài Lòng stopped.")
    assert not mosquitto_running(data_dir), "the broker stops with the demo"

    again = Demo(data_dir)
    try:
        again.wait_for("live ratings")
        assert "history complete" not in again.output, "history is sent once"
    finally:
        assert again.stop(signal.SIGINT) == 0
        again.kill()
