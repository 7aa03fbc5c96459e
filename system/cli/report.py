"""`hailong report monthly`: a unit's month as the printable page the API serves."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session

from server.access import audit
from server.reporting import monthly as monthly_report
from system.cli import console


def monthly(args: argparse.Namespace) -> int:
    month = monthly_report.parse_month(args.month)
    runtime = console.runtime(args)
    policy = runtime.policy
    with console.database_errors(), Session(runtime.engine) as session:
        page = monthly_report.export(
            session,
            args.unit,
            month,
            policy,
            actor=audit.CONSOLE,
            role=None,
            client=console.client(),
            include_flagged=args.include_flagged,
        )
        session.commit()
    if args.out is None:
        sys.stdout.write(page)
    else:
        args.out.write_text(page, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
