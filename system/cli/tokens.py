"""`hailong token add|list|revoke`: API tokens for machine clients such as a queue system.

The parser is built here (with nothing of the server imported, so a unit's install still runs
`hailong device`); the commands import the server's token functions only when they run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def add_parser(
    sub: argparse._SubParsersAction,
    data_dir_arg: Callable[[argparse.ArgumentParser], None],
) -> None:
    p = sub.add_parser("token", help="manage API tokens for machine clients (a queue system)")
    token_sub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    add = token_sub.add_parser(
        "add", help="make a token; it is printed once, only its hash is kept"
    )
    add.add_argument("name", help="the integration's name, e.g. queue-dh")
    add.add_argument(
        "--scope",
        required=True,
        choices=["services"],
        help="services: POST /api/v1/services only (the queue system's ticket events)",
    )
    add.add_argument("--unit", help="limit the token to this unit's counters")
    data_dir_arg(add)
    listing = token_sub.add_parser("list", help="list the tokens (never the tokens themselves)")
    data_dir_arg(listing)
    revoke = token_sub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("name", help="the token's name")
    data_dir_arg(revoke)


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from server.access import audit
    from server.access import tokens as service
    from system.cli import console

    now = datetime.now(UTC)
    with Session(console.runtime(args).engine) as session:
        if args.token_command == "add":
            row, plain = service.add_token(
                session,
                args.name,
                args.scope,
                args.unit,
                created_by=audit.CONSOLE,
                client=console.client(),
                now=now,
            )
            limit = f", unit {row.unit_id}" if row.unit_id else ""
            print(f"token {row.name!r} made for scope {row.scope}{limit}; it is shown only now:")
            print(plain)
            routes = ", ".join(f"{m} {p}" for m, p in service.SCOPE_ROUTES[row.scope])
            print(f"use it as the header 'Authorization: Bearer <token>' on {routes}")
            print("(docs/queue-integration.md shows the calls)")
            return 0
        if args.token_command == "revoke":
            row = service.revoke_token(
                session, args.name, revoked_by=audit.CONSOLE, client=console.client(), now=now
            )
            print(f"token {row.name!r} revoked at {row.revoked_at}")
            return 0
        for row in service.list_tokens(session):
            state = f"revoked {row.revoked_at}" if row.revoked_at else "active"
            used = row.last_used_at or "never"
            unit = row.unit_id or "all units"
            print(f"{row.name}\t{row.scope}\t{unit}\t{state}\tlast used {used}")
    return 0
