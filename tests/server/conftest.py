"""Fixtures shared by the server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from server.storage.db import make_engine, migrate
from tests.server.factories import seed_registry


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    """A session on a migrated database (each backend) holding `seed_registry`'s unit."""
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as s:
        seed_registry(s)
        yield s
    engine.dispose()
