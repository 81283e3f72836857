"""File lists and day coverage shared by the readers."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from fsspec.core import strip_protocol

from cropsm.io.readers._errors import ReaderError

__all__ = ["expand_paths", "local_path", "missing_days"]


def local_path(path: str | Path) -> Path:
    """A local path from a path or a ``file:`` URL (intake fills ``{CATALOG_DIR}`` with one)."""
    if isinstance(path, str) and path.startswith("file:"):
        return Path(strip_protocol(path))
    return Path(path)


def expand_paths(paths: str | Path | Sequence[str | Path],
                 suffixes: Sequence[str] = ()) -> list[Path]:
    """Sorted files from a folder, a glob pattern or a list, checked to exist.

    Parameters
    ----------
    paths : str, Path or sequence
        A folder (its files with ``suffixes``), a glob pattern or explicit files.
    suffixes : sequence of str
        Accepted file suffixes (lower case, with the dot); empty accepts any.
    """
    if isinstance(paths, str) and paths.startswith("file:"):
        paths = str(local_path(paths))
    if isinstance(paths, (str, Path)):
        path = Path(paths)
        if path.is_dir():
            files = sorted(p for p in path.iterdir()
                           if p.is_file() and (not suffixes or p.suffix.lower() in suffixes))
        elif any(ch in str(paths) for ch in "*?["):
            files = sorted(Path(p) for p in glob.glob(str(paths)))
        else:
            files = [path]
    else:
        files = [Path(p) for p in paths]
    if not files:
        expected = f" ({', '.join(suffixes)} files)" if suffixes else ""
        raise ReaderError(paths if isinstance(paths, (str, Path)) else "<no files>",
                          f"matches no files{expected}.")
    for f in files:
        if not f.is_file():
            raise ReaderError(f, "does not exist.")
    return files


def read_table(path: Path, id_columns: Sequence[str] = ()) -> pd.DataFrame:
    """A CSV or Parquet table; ``id_columns`` of a CSV are read as text (keeping zeros).

    Raises
    ------
    ReaderError
        Another suffix, or a file pandas cannot read (its first line of complaint).
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype=dict.fromkeys(id_columns, str))
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except Exception as err:  # pandas and pyarrow raise many types for bad files
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ReaderError(path, f"cannot be read as a {suffix[1:]} table ({first}).") from err
    raise ReaderError(path, "unknown table type; expected a .csv or .parquet file.")


def missing_days(dates, start=None, end=None) -> list[pd.Timestamp]:
    """Days between ``start`` and ``end`` (default: the first and last date) not in ``dates``."""
    dates = pd.DatetimeIndex(dates).normalize()
    if len(dates) == 0 and (start is None or end is None):
        return []
    first = pd.Timestamp(start) if start is not None else dates.min()
    last = pd.Timestamp(end) if end is not None else dates.max()
    expected = pd.date_range(first.normalize(), last.normalize(), freq="D")
    return list(expected.difference(dates))
