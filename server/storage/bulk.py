"""Many-row upserts that cost one statement, whatever the batch size, on both databases.

SQLite runs an executemany of a small prepared statement in C, which is already fast. For
PostgreSQL, SQLAlchemy's executemany renders one giant VALUES list that psycopg re-parses on every
batch (most of the ingest's time, measured); instead each column travels as one array and
`unnest` turns the arrays back into rows, so the statement text is the same for every batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Literal

from sqlalchemy import Connection, Table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

OnConflict = Literal["nothing", "add"]


def dialect_insert(bind: Session | Connection) -> Any:
    """The INSERT of the database in use, which has ON CONFLICT (SQLite's or PostgreSQL's)."""
    conn = bind.connection() if isinstance(bind, Session) else bind
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite_insert


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    on_conflict: OnConflict,
    add: Sequence[str] = (),
    returning: str | None = None,
) -> list[Any]:
    """Insert `rows`; on a primary-key conflict do nothing, or add the new values of the `add`
    columns to the stored ones. Returns the `returning` column of the rows really inserted or
    updated."""
    if not rows:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sql = _unnest_sql(table, on_conflict, tuple(add), returning)
        names = [c.name for c in table.columns]
        params = {f"c{i}": [row.get(name) for row in rows] for i, name in enumerate(names)}
        result = session.execute(text(sql), params)
    else:
        stmt = sqlite_insert(table)
        keys = [c.name for c in table.primary_key.columns]
        if on_conflict == "nothing":
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        else:
            stmt = stmt.on_conflict_do_update(
                index_elements=keys, set_={c: table.c[c] + stmt.excluded[c] for c in add}
            )
        if returning is not None:
            stmt = stmt.returning(table.c[returning])  # type: ignore[assignment]
        result = session.execute(stmt, list(rows))
    return list(result.scalars()) if returning is not None else []


@cache
def _unnest_sql(
    table: Table, on_conflict: OnConflict, add: tuple[str, ...], returning: str | None
) -> str:
    dialect = postgresql.dialect()
    names = [c.name for c in table.columns]
    arrays = ", ".join(
        f"CAST(:c{i} AS {c.type.compile(dialect=dialect)}[])" for i, c in enumerate(table.columns)
    )
    keys = ", ".join(c.name for c in table.primary_key.columns)
    sums = ", ".join(f"{c} = {table.name}.{c} + EXCLUDED.{c}" for c in add)
    action = "NOTHING" if on_conflict == "nothing" else f"UPDATE SET {sums}"
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = (
        f'INSERT INTO "{table.name}" ({quoted}) SELECT * FROM unnest({arrays}) '
        f"ON CONFLICT ({keys}) DO {action}"
    )
    return f'{sql} RETURNING "{returning}"' if returning else sql
