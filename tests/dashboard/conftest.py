"""Dashboard fixtures: real migrated SQLite databases, empty or seeded with the demo month."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dashboard.demo import seed_demo
from dashboard.sources import Sources
from server.db import make_engine, migrate, session_scope
from tests.dashboard.rows import NOW, TODAY, factory


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
        seed_demo(session, NOW)
    yield engine
    engine.dispose()


@pytest.fixture
def demo_sources(demo_engine: Engine) -> Sources:
    return Sources(factory(demo_engine), today=lambda: TODAY)
