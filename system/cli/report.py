"""`hailong report monthly`: a unit's month as the printable page the API serves, or its PDF
when the file asked for ends in .pdf."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session

from server.access import audit
from server.reporting import monthly as monthly_report
from server.reporting import monthly_pdf
from system.cli import console


def monthly(args: argparse.Namespace) -> int:
    month = monthly_report.parse_month(args.month)
    runtime = console.runtime(args)
    policy = runtime.policy
    as_pdf = args.out is not None and args.out.suffix.lower() == ".pdf"
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
            fmt="pdf" if as_pdf else "html",
        )
        data = monthly_pdf.pdf_bytes(page) if as_pdf else None
        session.commit()
    if args.out is None:
        sys.stdout.write(page)
    elif data is not None:
        args.out.write_bytes(data)
    else:
        args.out.write_text(page, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
