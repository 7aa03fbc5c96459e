"""Dashboard fixtures: real migrated SQLite databases, empty, seeded with the demo month, or with
the hand-computed report data of the server tests (and two alerts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dashboard.sources import Sources
from devtools.dashboard_demo import seed_demo
from server.storage.db import make_engine, migrate, session_scope
from server.timeutil import VN_TZ
from tests.dashboard.rows import NOW, TODAY, add_alert, factory
from tests.server import report_data
from tests.server.factories import RULES

DH_ALERT = "3 đánh giá Không hài lòng tại Quầy 1 (Phường Diên Hồng)"
XA_ALERT = "Tỷ lệ hài lòng của Xã An ngày 07/10/2026: 60 %"


def seed_alerts(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_alert(session, "DH", DH_ALERT, datetime(2026, 10, 5, 10, 0, tzinfo=VN_TZ), "DH-Q1")
        add_alert(session, "XA", XA_ALERT, datetime(2026, 10, 8, 0, 30, tzinfo=VN_TZ))
        session.commit()


def migrated_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database with the current schema."""
    engine = migrated_engine(tmp_path / "hailong.db")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo month up to NOW; shared by a module's tests, which only read it."""
    engine = migrated_engine(tmp_path_factory.mktemp("demo") / "hailong.db")
    with session_scope(engine) as session:
        seed_demo(session, NOW, RULES)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_sources(demo_engine: Engine) -> Sources:
    return Sources(factory(demo_engine), today=lambda: TODAY)


@pytest.fixture(scope="module")
def report_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """tests/server/report_data.py (units DH and XA, October 2026) and one alert per unit."""
    engine = migrated_engine(tmp_path_factory.mktemp("reports") / "hailong.db")
    report_data.seed(engine)
    seed_alerts(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def report_sources(report_engine: Engine) -> Sources:
    return Sources(factory(report_engine), today=lambda: TODAY)


@pytest.fixture
def alerts_engine(tmp_path: Path) -> Iterator[Engine]:
    """report_engine's data and alerts, in a database of the test's own: the alerts panel's
    tests answer the alerts."""
    engine = migrated_engine(tmp_path / "alerts.db")
    report_data.seed(engine)
    seed_alerts(engine)
    yield engine
    engine.dispose()
