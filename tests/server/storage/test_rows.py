"""The stored-rating row and the `rating` table have the same columns, in the same order."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

from server.storage.models import Rating
from server.storage.rows import COLUMNS, RatingRow
from tests.server.factories import stored_row


def test_the_row_has_every_column_of_the_rating_table_in_order() -> None:
    """A column added to the model fails here until the row carries it too."""
    table = Rating.__table__  # type: ignore[attr-defined]
    assert tuple(table.c.keys()) == COLUMNS
    assert tuple(f.name for f in fields(RatingRow)) == COLUMNS


def test_a_row_as_a_dict_is_its_columns() -> None:
    row = stored_row(datetime(2026, 11, 20, 3, 0, tzinfo=UTC), "burst", seq=3, ticket="A-1")
    values = row.as_dict()
    assert list(values) == list(COLUMNS)
    assert [values[c] for c in COLUMNS] == [getattr(row, c) for c in COLUMNS]
    assert (values["seq"], values["ticket"], values["flags"]) == (3, "A-1", "burst")
