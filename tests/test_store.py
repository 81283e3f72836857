import numpy as np
import pytest
import xarray as xr

from cropsm.io.store import StoreError, check_writable, open_zarr, publish, write_zarr


def _ds(value):
    return xr.Dataset({"a": (("y", "x"), np.full((4, 5), value, "f4"))})


def test_publish_switches_atomically_between_complete_versions(tmp_path):
    target = tmp_path / "s.zarr"
    write_zarr(_ds(1.0), target)
    assert target.is_symlink()
    first = target.resolve()
    write_zarr(_ds(2.0), target)
    assert open_zarr(target)["a"].values.max() == 2.0
    assert target.resolve() != first


def test_interrupted_write_keeps_previous_store_and_cleans_up(tmp_path):
    target = tmp_path / "s.zarr"
    write_zarr(_ds(1.0), target)
    with pytest.raises(RuntimeError), publish(target) as tmp:
        _ds(5.0).to_zarr(tmp)
        raise RuntimeError("killed half-way")
    assert open_zarr(target)["a"].values.max() == 1.0
    assert not list((tmp_path / ".versions").glob("*.tmp-*"))


def test_interrupted_first_write_leaves_no_store(tmp_path):
    target = tmp_path / "new.zarr"
    with pytest.raises(KeyboardInterrupt), publish(target) as tmp:
        _ds(1.0).to_zarr(tmp)
        raise KeyboardInterrupt
    assert not target.exists()
    with pytest.raises(StoreError, match="does not exist; build it first"):
        open_zarr(target)


def test_old_versions_are_pruned(tmp_path):
    target = tmp_path / "s.zarr"
    for v in range(4):
        write_zarr(_ds(float(v)), target)
    assert len(list((tmp_path / ".versions").glob("s.zarr.v*"))) == 2


def test_unwritable_folder_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="choose a writable --out folder"):
        check_writable(blocker / "sub")


def test_region_store_chunks_never_written_read_as_missing(tmp_path):
    import dask.array as da

    from cropsm.demo.build import TRUTH_ENCODING
    from cropsm.io.store import region_store

    template = xr.Dataset({
        "sm": (("y", "x"), da.full((4, 4), np.nan, dtype="f4", chunks=2)),
        "irrigation_events": (("y", "x"), da.full((4, 4), -1, dtype="i2", chunks=2)),
    })
    with region_store(tmp_path / "t.zarr", template, TRUTH_ENCODING) as writer:
        writer.write_encoded("sm", np.full((2, 2), 2500, "i2"), (slice(0, 2), slice(0, 2)))
        writer.write_encoded("irrigation_events", np.ones((2, 2), "i2"),
                             (slice(0, 2), slice(0, 2)))
        with pytest.raises(TypeError, match="stores int16"):
            writer.write_encoded("sm", np.ones((2, 2)), (slice(0, 2), slice(0, 2)))
    out = open_zarr(tmp_path / "t.zarr").load()
    assert np.isnan(out["sm"].values[2:, 2:]).all()
    np.testing.assert_allclose(out["sm"].values[:2, :2], 0.25)
    assert np.isnan(out["irrigation_events"].values[2:, 2:]).all()
