"""Real-format inputs for ``cropsm ingest``: read, check units and CRS, regrid to 1 km.

Every failure is a one-line :class:`cropsm.io.readers.ReaderError` naming the file and
the fix. The pipeline that assembles the stores is :mod:`cropsm.pipelines.ingest`.
"""
