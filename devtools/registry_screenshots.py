"""`python -m devtools.registry_screenshots docs`: the registry screens on the demo registry, as
an admin sees them, one PNG each (docs/registry-units.png ...) at 1440×900.

Like `devtools.dashboard_screenshot`, it seeds a temporary SQLite database, serves the app
mounted as in production and photographs it in Chromium, so the pictures are never staged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, ViewportSize, expect

from dashboard.app import create_dash
from dashboard.pages import devices
from devtools.browser import WAIT_MS, mounted, photograph, serve
from devtools.dashboard_demo import OFFICERS, seed_registry
from hailong.mqtt import MqttTarget
from server.access.auth import add_user
from server.access.roles import Access
from server.access.tokens import add_token
from server.broker.dynsec import BrokerAccounts
from server.ingest.store import IngestRules
from server.storage.db import make_engine, migrate, session_scope
from server.storage.models import CounterField, ServiceField

VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
ADMIN = Access("admin", "quantri")
FIELDS = {"tu-phap": "Tư pháp", "dat-dai": "Đất đai", "ho-tich": "Hộ tịch"}
# page path -> its table and what the table shows once loaded
SCREENS = {
    "units": ("units-table", "Bộ phận Một cửa Phường Sài Gòn"),
    "fields": ("fields-table", "Tư pháp"),
    "counters": ("counters-table", "Quầy số 1"),
    "officers": ("officers-table", OFFICERS[0].name),
    "users": ("users-table", "truongq1"),
    "devices": (devices.TABLE, "HL-01"),
    "tokens": ("tokens-table", "queue-q1"),
}
# Where the pictured admin card would register devices; nothing is sent to it.
BROKER = MqttTarget("127.0.0.1", 1883)


def seed(engine_url: str, now: datetime) -> None:
    """The demo registry, its fields, and a login per kind of user."""
    engine = make_engine(engine_url)
    try:
        migrate(engine)
        with session_scope(engine) as session:
            seed_registry(session, now)
            session.add_all(ServiceField(id=key, name=name) for key, name in FIELDS.items())
            session.flush()
            session.add_all(
                CounterField(counter_id=f"Q-{officer.id[-2:]}", field_id=key)
                for officer, key in zip(OFFICERS, FIELDS, strict=False)
            )
            session.commit()
            add_user(session, "quantri", "quantri-password", "admin", full_name="Phan Văn Quân")
            head = "Võ Thị Thanh Tâm"
            add_user(session, "truongq1", "truongq1-pw", "unit_head", "Q1-MOTCUA", full_name=head)
            add_user(session, "phongnoivu", "phongnoivu-pw", "hr", full_name="Trần Thị Thu Hà")
            add_token(session, "queue-q1", "services", "Q1-MOTCUA", created_by="quantri", now=now)
    finally:
        engine.dispose()


@contextmanager
def demo_dashboard(
    access: Access, now: datetime | None = None, ingest_rules: IngestRules | None = None
) -> Iterator[str]:
    """The dashboard over a fresh demo registry, seen by `access`; yields its base URL.
    With `ingest_rules` its pages may store ratings (paper forms)."""
    with tempfile.TemporaryDirectory(prefix="hailong-registry-") as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        seed(url, now or datetime.now(UTC))
        engine = make_engine(url)
        try:
            accounts = BrokerAccounts(BROKER, BROKER)
            app = create_dash(
                lambda: session_scope(engine),
                accounts=lambda: accounts,
                ingest_rules=ingest_rules,
            )
            with serve(mounted(app, access)) as base:
                yield f"{base}/dashboard"
        finally:
            engine.dispose()


def take(browser: Browser, folder: Path) -> list[Path]:
    """One PNG per registry screen in `folder`; returns their paths."""
    made = []
    folder.mkdir(parents=True, exist_ok=True)
    with demo_dashboard(ADMIN) as base:
        page = browser.new_page(viewport=VIEWPORT)
        try:
            for screen, (table, shown) in SCREENS.items():
                page.goto(f"{base}/{screen}")
                expect(page.locator(f"#{table}")).to_contain_text(shown, timeout=WAIT_MS)
                path = folder / f"registry-{screen}.png"
                page.screenshot(path=path, full_page=True)
                made.append(path)
        finally:
            page.close()
    return made


def main(argv: list[str] | None = None) -> int:
    return photograph("devtools.registry_screenshots", __doc__, take, argv)


if __name__ == "__main__":
    raise SystemExit(main())
