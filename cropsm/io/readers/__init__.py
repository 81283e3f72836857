"""Readers for real data formats: each turns one format into CropSM's tables and arrays.

=====================  =========================================================
module                 format
=====================  =========================================================
:mod:`.ismn`           ISMN "header+values" ``.stm`` in-situ files
:mod:`.esa_cci`        ESA CCI SM daily L3S netCDF images
:mod:`.ghcn`           GHCN-Daily access CSV station weather
:mod:`.gridded`        gridded SM products as GeoTIFF/netCDF (ChinaCropSM1km, RSSSM)
:mod:`.stations`       station SM tables (CSV/Parquet), CMA AGME column mapping
=====================  =========================================================

Every reader raises :class:`ReaderError` naming the file and what was expected.
:mod:`.catalog_readers` wraps them as intake readers for catalogs of real data.
"""

from cropsm.io.readers._errors import ReaderError
from cropsm.io.readers._files import expand_paths, missing_days
from cropsm.io.readers.esa_cci import coarse_average, read_esa_cci, sample_points
from cropsm.io.readers.ghcn import read_ghcn_daily
from cropsm.io.readers.ismn import daily_observations, read_ismn_stm
from cropsm.io.readers.stations import AGME_COLUMNS, STATION_COLUMNS, read_station_table

__all__ = [
    "AGME_COLUMNS",
    "STATION_COLUMNS",
    "ReaderError",
    "coarse_average",
    "daily_observations",
    "expand_paths",
    "missing_days",
    "read_esa_cci",
    "read_ghcn_daily",
    "read_ismn_stm",
    "read_station_table",
    "sample_points",
]
