"""What a catalog holds: each entry, whether it opens, and its size."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cropsm.io.catalog import CatalogError, open_catalog, read_entry

__all__ = ["catalog_status"]


def catalog_status(path: str | Path) -> pd.DataFrame:
    """One row per catalog entry, in name order: does it open, and how large is it.

    Parameters
    ----------
    path : path
        The intake catalog.

    Returns
    -------
    pandas.DataFrame
        Columns ``entry``, ``status`` (``"ok"`` or ``"missing"``) and ``size``: the
        dimension sizes of a gridded entry, the row count of a table, or why it did not
        open.

    Raises
    ------
    cropsm.io.catalog.CatalogError
        The catalog itself is missing or malformed.
    """
    cat = open_catalog(path)
    rows = []
    for name in sorted(cat.entries):
        try:
            obj = read_entry(name, cat)
        except CatalogError as err:  # a missing store is what this table reports
            rows.append({"entry": name, "status": "missing", "size": str(err)})
            continue
        size = (", ".join(f"{k}={v}" for k, v in obj.sizes.items())
                if hasattr(obj, "sizes") else f"{len(obj)} rows")
        rows.append({"entry": name, "status": "ok", "size": size})
    return pd.DataFrame(rows, columns=["entry", "status", "size"])
