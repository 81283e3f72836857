"""intake 2 readers over CropSM's format readers, for catalogs of real data.

A catalog entry names one of these classes as its ``reader`` and gives the file (or
folder, or glob) as ``url``, which may start with ``{CATALOG_DIR}``; every other key
is passed to the format reader. ``catalogs/real-example.yaml`` uses all of them.
"""

from __future__ import annotations

from intake.readers.readers import BaseReader

from cropsm.io.readers import esa_cci, ghcn, ismn, stations

__all__ = ["EsaCciReader", "GhcnDailyReader", "GriddedReader", "IsmnReader",
           "StationTableReader"]


class IsmnReader(BaseReader):
    """ISMN ``.stm`` files -> daily station observation table (one or more files)."""

    output_instance = "pandas:DataFrame"
    imports = {"pandas"}

    def _read(self, url, keep_flags=ismn.GOOD_FLAGS, min_hours=12, **kwargs):
        import pandas as pd

        from cropsm.io.readers._files import expand_paths

        tables = [ismn.daily_observations(ismn.read_ismn_stm(f), keep_flags, min_hours)
                  for f in expand_paths(url, suffixes=(".stm",))]
        out = pd.concat(tables, ignore_index=True)
        out.attrs.update(tables[0].attrs)
        return out


class EsaCciReader(BaseReader):
    """ESA CCI SM daily L3S netCDF images -> (time, lat, lon) Dataset."""

    output_instance = "xarray:Dataset"
    imports = {"xarray", "netCDF4"}

    def _read(self, url, bbox=None, keep_flags=(0,), **kwargs):
        return esa_cci.read_esa_cci(url, bbox=bbox, keep_flags=tuple(keep_flags))


class GhcnDailyReader(BaseReader):
    """A GHCN-Daily access CSV -> daily table indexed by date."""

    output_instance = "pandas:DataFrame"
    imports = {"pandas"}

    def _read(self, url, drop_failed_qc=True, **kwargs):
        return ghcn.read_ghcn_daily(url, drop_failed_qc=drop_failed_qc)


class GriddedReader(BaseReader):
    """Daily or yearly GeoTIFF/netCDF SM products -> (time, y, x) DataArray."""

    output_instance = "xarray:DataArray"
    imports = {"xarray", "rioxarray"}

    def _read(self, url, **kwargs):
        # rioxarray is imported only when a catalog has a gridded entry
        from cropsm.io.readers.gridded import read_gridded

        return read_gridded(url, **kwargs)


class StationTableReader(BaseReader):
    """A station SM table (CSV/Parquet) -> the station observation schema."""

    output_instance = "pandas:DataFrame"
    imports = {"pandas"}

    def _read(self, url, columns=None, sm_percent=None, **kwargs):
        if columns == "AGME":
            columns = stations.AGME_COLUMNS
        return stations.read_station_table(url, columns=columns, sm_percent=sm_percent)
