"""Where ratings and the registry are kept: the SQLModel tables, the typed row of a stored rating,
the migrated engine, many-row upserts, the codes a stored rating carries (flags, reasons) and the
private secret files beside the data."""
