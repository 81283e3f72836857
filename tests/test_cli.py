import pytest
from click.testing import CliRunner

from cropsm.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_wrong_profile_is_a_one_line_error(runner, tmp_path):
    res = runner.invoke(main, ["demo", "build", "--profile", "huge", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "error: Unknown profile 'huge'; choose one of: tiny, demo."]


def test_unwritable_output_folder_is_a_one_line_error(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(main, ["demo", "build", "--profile", "tiny", "--quiet",
                               "--out", str(blocker / "out")])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "choose a writable --out folder" in lines[0]


def test_check_without_build(runner, tmp_path):
    res = runner.invoke(main, ["demo", "check", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "run `cropsm demo build` first" in res.output


def test_catalog_show_on_built_world(runner, tiny_world):
    _, catalog, _ = tiny_world
    res = runner.invoke(main, ["catalog", "show", "--catalog", str(catalog)])
    assert res.exit_code == 0, res.output
    assert "covariates         ok" in res.output
    assert "soil_moisture      --" in res.output


def test_malformed_catalog_via_cli(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries: [")
    res = runner.invoke(main, ["catalog", "show", "--catalog", str(bad)])
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1
    assert "not a valid intake catalog" in res.output


def test_check_prints_the_build_report(runner, tiny_world):
    data, _, _ = tiny_world
    res = runner.invoke(main, ["demo", "check", "--out", str(data)])
    assert res.exit_code == 0
    assert "truth within [residual, saturation]" in res.output
    assert "observation days [8, 18, 28]" in res.output


def test_if_missing_skips_a_built_world(runner, tiny_world):
    data, _, result = tiny_world
    res = runner.invoke(main, ["demo", "build", "--profile", "tiny", "--seed",
                               str(result["seed"]), "--out", str(data), "--if-missing"])
    assert res.exit_code == 0
    assert "already built" in res.output


def test_interrupted_build_leaves_no_half_written_store(tmp_path, tiny_world):
    """Kill a real build half-way: nothing opens as complete, and a re-run succeeds.

    The re-run, in another process, must also reproduce the session's tiny world
    (same profile and seed) exactly.
    """
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from cropsm.io.catalog import CatalogError, open_catalog
    from cropsm.io.store import open_zarr

    out = tmp_path / "data"
    cmd = [sys.executable, "-m", "cropsm.cli", "demo", "build", "--profile", "tiny",
           "--seed", str(tiny_world[2]["seed"]), "--quiet", "--out", str(out)]
    caught = False
    for _ in range(3):  # on a busy machine the weather step can slip between two polls
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        deadline = time.time() + 120
        # wait until the weather store is being written, then kill the whole process group
        while time.time() < deadline and proc.poll() is None:
            if list((out / ".versions").glob("weather.zarr.tmp-*")):
                caught = True
                break
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if caught:
            break
    assert caught, "the build never showed a half-written weather store to kill"
    with pytest.raises(CatalogError):
        open_catalog(out / "cropsm.yaml")
    assert not (out / "weather.zarr").exists()
    assert open_zarr(out / "covariates.zarr")["fc"].size > 0  # published before the kill
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "covariates" in open_catalog(out / "cropsm.yaml").entries
    assert not list((out / ".versions").glob("*.tmp-*"))
    import pandas as pd
    import xarray as xr

    reference = tiny_world[0]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "stations.parquet"),
                                  pd.read_parquet(reference / "stations.parquet"))
    for store in ("covariates.zarr", "weather.zarr", "truth.zarr"):
        xr.testing.assert_identical(open_zarr(out / store).load(),
                                    open_zarr(reference / store).load())
