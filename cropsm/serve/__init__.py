"""Serving: exact forests, block prediction, the dask to Zarr engine, live runs, scenarios."""
