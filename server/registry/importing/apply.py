"""The import as one service for the API and the dashboard: read the file, check every row,
write all of it in one transaction or nothing.

With any error nothing is written: the rows are written into the transaction first (so that the
rota's rules see the file's own rows) and rolled back. A dry run does the same and always rolls
back, so it reports exactly what an import would do. New devices' broker accounts, with random
passwords nobody is shown (a device's bundle sets the password it gets), are made just before
the commit; if the broker cannot be reached the import is rolled back and `BrokerError` raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlmodel import Session

from server.access import audit
from server.access.roles import Access
from server.broker.mosquitto import new_password
from server.registry.importing.plan import CREATED, make_plan
from server.registry.importing.reading import read_upload
from server.registry.importing.report import SHEET_IDS, ImportReport, RowError
from server.registry.importing.stored import Stored
from server.registry.importing.writing import write

Progress = Callable[[int, int], None]
PutAccounts = Callable[[Mapping[str, str]], None]
AUDIT_ACTION = "registry.import"
ACCOUNTS_AT_ONCE = 20  # new devices' accounts made per control connection, between progress steps


def import_registry(
    session: Session,
    content: bytes,
    file_name: str,
    *,
    access: Access,
    put_accounts: PutAccounts | None = None,
    dry_run: bool = False,
    client: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Raises `UnreadableFile` (`FileTooLarge`) for a file that is not an import, `BrokerError`
    when a new device's account cannot be made; everything else wrong is in the report.

    `progress(done, total)` is called after each row is checked and again after it is written;
    `put_accounts({device_id: password})` makes the new devices' broker accounts, all at once
    (not needed for a dry run). One audit event records a written import: who, the file's name
    and the counts."""
    report = ImportReport(file_name=file_name, dry_run=dry_run)
    upload = read_upload(content)
    devices = upload.sheets.get("devices")
    # Each row is checked, then written; each new device's broker account is a step of its own,
    # the slowest one (Mosquitto saves its whole account file at every change).
    total, done = 2 * upload.row_count() + (len(devices.rows) if devices else 0), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    try:
        stored = Stored.load(session)
        plan = make_plan(upload, stored, tick)
        errors = plan.errors + write(session, plan, stored, tick)
        if errors:
            session.rollback()
            report.errors = sorted(errors, key=_sheet_order)
            return report
        for change in plan.changes:
            getattr(report.sheets[change.sheet], change.status or CREATED).append(change.key)
        if dry_run:
            session.rollback()
            return report
        detail = {"file": file_name, "counts": report.counts()}
        audit.record_access(
            session, access, AUDIT_ACTION, target=file_name, client=client, detail=detail
        )
        new_devices = report.sheets["devices"].created
        if new_devices:
            if put_accounts is None:
                raise ValueError("put_accounts is needed to make the new devices' broker accounts")
            for first in range(0, len(new_devices), ACCOUNTS_AT_ONCE):
                chunk = new_devices[first : first + ACCOUNTS_AT_ONCE]
                put_accounts({device_id: new_password() for device_id in chunk})
                for _ in chunk:
                    tick()
        session.commit()
        report.written = True
        return report
    except BaseException:
        session.rollback()
        raise
    finally:
        if progress is not None:
            progress(total, total)


def _sheet_order(error: RowError) -> tuple[int, int]:
    return SHEET_IDS.index(error.sheet) if error.sheet in SHEET_IDS else -1, error.row
