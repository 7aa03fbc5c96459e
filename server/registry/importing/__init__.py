"""The registry from a spreadsheet: an XLSX workbook or a zip of CSV files with sheets `units`,
`fields`, `counters`, `officers`, `devices` and `rota`, each row keyed by its id, checked as a
whole and written all or nothing (docs/registry-import.md).

`reading` turns the file into rows, `sheets` says what the columns are, `cells` reads one cell,
`plan` checks every row against the stored registry, `writing` writes them, `apply` is the
service, `template` the workbook an administrator fills in, `report` what comes back.
"""

from server.registry.importing.apply import import_registry
from server.registry.importing.report import (
    FileTooLarge,
    ImportReport,
    RowError,
    SheetResult,
    UnreadableFile,
)
from server.registry.importing.template import template_workbook

__all__ = [
    "FileTooLarge",
    "ImportReport",
    "RowError",
    "SheetResult",
    "UnreadableFile",
    "import_registry",
    "template_workbook",
]
