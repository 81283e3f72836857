import re

import pytest
from click.testing import CliRunner

from cropsm.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_wrong_profile_is_a_usage_error(runner, tmp_path):
    res = runner.invoke(main, ["demo", "build", "--profile", "huge", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "Invalid value for '--profile': 'huge' is not one of 'tiny', 'demo'." in res.output


@pytest.mark.parametrize("args", [["train", "--crop", "rice"], ["validate", "--depth", "1m"],
                                  ["predict", "--crop", "rice"],
                                  ["train", "--omit", "everything"],
                                  ["network", "train", "--grid", "huge"]])
def test_bad_choices_are_usage_errors(runner, tmp_path, args):
    res = runner.invoke(main, [*args, "--catalog", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2
    assert "Invalid value for" in res.output and "is not one of" in res.output


@pytest.mark.parametrize("command", [["train"], ["validate"], ["predict"], ["network", "train"],
                                     ["network", "compare"], ["catalog", "show"],
                                     ["catalog", "check"]])
def test_missing_catalog_is_a_one_line_error(runner, tmp_path, command):
    missing = tmp_path / "none.yaml"
    res = runner.invoke(main, [*command, "--catalog", str(missing)])
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        f"Error: Catalog {missing} not found; build the demo data with `cropsm demo build` "
        "or pass the path of an existing catalog."]


def test_bbox_and_region_together_is_a_usage_error(runner, tmp_path):
    res = runner.invoke(main, ["predict", "--bbox", "1,2,3,4", "--region", "Hebei",
                               "--catalog", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "Give --bbox or --region, not both." in res.output


def test_a_bug_is_logged_with_its_traceback_under_an_id(runner, tmp_path, monkeypatch, caplog):
    import cropsm.pipelines.train

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cropsm.pipelines.train, "train_models", broken)
    log = tmp_path / "logs" / "cropsm.log"
    monkeypatch.setenv("CROPSM_LOG", str(log))
    with caplog.at_level("ERROR", logger="cropsm"):
        res = runner.invoke(main, ["train", "--catalog", str(tmp_path / "c.yaml")])
    assert res.exit_code == 1
    (line,) = res.output.strip().splitlines()
    match = re.fullmatch(r"Error: internal error ([0-9a-f]{8}); its traceback is in (.+)\. "
                         r"Please report it\.", line)
    assert match and match[2] == str(log)
    (record,) = caplog.records
    assert match[1] in record.getMessage()
    assert record.exc_info[0] is ZeroDivisionError
    written = log.read_text()
    assert f"internal error {match[1]}" in written
    assert "Traceback" in written and "ZeroDivisionError: a bug" in written


def test_commands_echo_what_the_pipelines_return(runner, tmp_path, monkeypatch):
    """The commands only pass their options on and print the typed results."""
    import cropsm.pipelines.predict
    import cropsm.pipelines.train
    from cropsm.pipelines.predict import PredictionRun
    from cropsm.pipelines.train import TrainedModel

    calls = {}

    def train_models(catalog, models, crops_depths, **kwargs):
        calls["train"] = (catalog, models, crops_depths, kwargs)
        return [TrainedModel("wheat", "0-10cm", "cir", tmp_path / "m.skops", 90, 10,
                             {"held_out_cir_predicted": {"r": 0.81234, "ubrmse": 0.04}},
                             3.0, 2_500_000)]

    def predict_product(catalog, models, crops_depths, **kwargs):
        calls["predict"] = (crops_depths, kwargs)
        return PredictionRun(tmp_path / "sm.zarr", ("maize/0-10cm",), 10, "v1", 5.0)

    monkeypatch.setattr(cropsm.pipelines.train, "train_models", train_models)
    monkeypatch.setattr(cropsm.pipelines.predict, "predict_product", predict_product)
    res = runner.invoke(main, ["train", "--crop", "wheat", "--depth", "0-10cm", "--omit", "cir",
                               "--catalog", "c.yaml", "--models", "m", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert calls["train"][:3] == ("c.yaml", "m", [("wheat", "0-10cm")])
    assert calls["train"][3]["omit"] == ("cir",) and calls["train"][3]["seed"] == 3
    assert res.output == (f"wheat/0-10cm without cir: 90 train, 10 held out; r 0.812, ubRMSE "
                          f"0.0400 (CIR predicted); 2.5 MB; 3 s -> {tmp_path / 'm.skops'}\n")
    res = runner.invoke(main, ["predict", "--crop", "maize", "--depth", "0-10cm", "--quiet",
                               "--workers", "0", "--catalog", "c.yaml"])
    assert res.exit_code == 0, res.output
    assert calls["predict"][0] == [("maize", "0-10cm")]
    assert calls["predict"][1]["workers"] == 0 and calls["predict"][1]["progress"] is None
    assert res.output == f"10 days x 1 products in 5 s -> {tmp_path / 'sm.zarr'} (v1)\n"


def test_path_defaults_come_from_the_settings(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("CROPSM_CATALOG", str(tmp_path / "elsewhere.yaml"))
    res = runner.invoke(main, ["catalog", "show"])
    assert res.exit_code == 1 and "elsewhere.yaml not found" in res.output
    assert "$CROPSM_CATALOG" in runner.invoke(main, ["train", "--help"]).output


def test_unwritable_output_folder_is_a_one_line_error(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = runner.invoke(main, ["demo", "build", "--profile", "tiny", "--quiet",
                               "--out", str(blocker / "out")])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "choose a writable --out folder" in lines[0]


def test_check_without_build(runner, tmp_path):
    res = runner.invoke(main, ["demo", "check", "--out", str(tmp_path)])
    assert res.exit_code == 1
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
    assert res.exit_code == 1
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


# a tiny build killed mid-run in a subprocess: about a minute;
# out of the 10-minute default run (`pytest -m slow`)
@pytest.mark.slow
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


@pytest.mark.parametrize("command", [["demo", "build", "--profile", "tiny", "--if-missing"],
                                     ["demo", "check"]])
def test_corrupt_build_report_is_a_one_line_error(runner, tmp_path, command):
    report = tmp_path / "build_report.json"
    report.write_text('{"profile": "tiny", "seed"')
    res = runner.invoke(main, [*command, "--out", str(tmp_path)])
    assert res.exit_code == 1, res.output
    (line,) = res.output.strip().splitlines()
    assert str(report) in line and "is not valid JSON" in line and "regenerate it" in line


@pytest.mark.parametrize("content", [
    "{not json",
    "[1, 2]",
    '{"type": "Feature", "geometry": {"type": "Polygon"}}',
    '{"type": "FeatureCollection", "features": [{"geometry": {"coordinates": [1, 2]}}]}',
    '{"type": "FeatureCollection", "features": ["a"]}',
])
def test_bad_region_file_is_a_one_line_error(runner, product_catalog, tiny_models, tmp_path,
                                             content):
    region = tmp_path / "region.geojson"
    region.write_text(content)
    res = runner.invoke(main, ["predict", "--region", str(region), "--workers", "0", "--quiet",
                               "--catalog", str(product_catalog), "--models", str(tiny_models)])
    assert res.exit_code == 1, res.output
    (line,) = res.output.strip().splitlines()
    assert str(region) in line and "internal error" not in line


def test_station_metadata_without_patterns_is_a_one_line_error(runner, tiny_world, tmp_path):
    """The network needs each station's cropping pattern; a catalog without it is refused."""
    import pandas as pd

    from cropsm.io.catalog import write_catalog

    data, _, _ = tiny_world
    folder = tmp_path / "data"
    folder.mkdir()
    for path in data.iterdir():
        if path.name != "station_meta.parquet":
            (folder / path.name).symlink_to(path.resolve())
    meta = pd.read_parquet(data / "station_meta.parquet").drop(columns="pattern")
    meta.to_parquet(folder / "station_meta.parquet")
    catalog = write_catalog(tmp_path / "cropsm.yaml", folder, "tiny")
    res = runner.invoke(main, ["network", "train", "--catalog", str(catalog),
                               "--models", str(tmp_path / "models")])
    assert res.exit_code == 1, res.output
    (line,) = res.output.strip().splitlines()
    assert "station metadata lacks pattern" in line
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_the_command_line_starts_without_the_science_libraries():
    """``cropsm --help`` must be quick: option choices come from constant modules."""
    import subprocess
    import sys

    code = ("import sys, cropsm.cli; "
            "print(sorted(m for m in ('sklearn', 'dask', 'panel', 'zarr') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_if_missing_rebuilds_a_world_of_another_generation(runner, tmp_path, monkeypatch):
    import json

    import cropsm.demo.build

    (tmp_path / "build_report.json").write_text(json.dumps(
        {"profile": "tiny", "seed": 7, "world_version": 1}))
    built = []
    monkeypatch.setattr(cropsm.demo.build, "build", lambda *a, **k: built.append(a) or {})
    monkeypatch.setattr("cropsm.demo.check.format_report", lambda result: "rebuilt")
    res = runner.invoke(main, ["demo", "build", "--profile", "tiny", "--seed", "7", "--quiet",
                               "--out", str(tmp_path), "--if-missing"])
    assert res.exit_code == 0, res.output
    assert built and "rebuilt" in res.output
