"""Reliability promises, each measured: corrupted inputs, model files, server defaults.

Each test prints its figure; ``docs/reliability.md`` collects them.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import json
import re
import shlex
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from click.testing import CliRunner
from packaging.version import Version
from servers import free_port, serve, stop

from cropsm.cli import main
from cropsm.io.assets import assets_dir
from cropsm.io.catalog import CatalogError, open_catalog, read_entry, write_catalog
from cropsm.io.models import TRUSTED_TYPES, ModelFileError, model_path, network_path
from cropsm.io.readers import ReaderError, read_esa_cci, read_ismn_stm
from cropsm.rf.model import kept_features
from cropsm.serve.models import load_model

ROOT = Path(__file__).resolve().parents[1]


def _copy_world(data: Path, folder: Path) -> Path:
    """A writable copy of the tiny world's stores with its own catalog."""
    target = folder / "data"
    shutil.copytree(data, target, symlinks=False)
    return write_catalog(folder / "cropsm.yaml", target, "tiny")


def _malformed_catalog(tmp_path, tiny_world, tiny_models):
    path = tmp_path / "broken.yaml"
    path.write_text("entries: [unclosed\n  - : :\n")
    with pytest.raises(CatalogError) as err:
        open_catalog(path)
    return path, err.value


def _missing_store(tmp_path, tiny_world, tiny_models):
    catalog = write_catalog(tmp_path / "cropsm.yaml", tmp_path / "nowhere", "tiny")
    with pytest.raises(CatalogError) as err:
        read_entry("covariates", catalog)
    return tmp_path / "nowhere" / "covariates.zarr", err.value


def _truncated_chunk(tmp_path, tiny_world, tiny_models):
    catalog = _copy_world(tiny_world[0], tmp_path)
    chunk = next(p for p in sorted((tmp_path / "data" / "covariates.zarr").rglob("*"))
                 if p.is_file() and "/fc/c/" in p.as_posix())
    with open(chunk, "r+b") as fh:
        fh.truncate(chunk.stat().st_size // 3)
    result = CliRunner().invoke(main, ["catalog", "check", "--catalog", str(catalog)])
    assert result.exit_code == 1
    return chunk, result.output


def _changed_model_byte(tmp_path, tiny_world, tiny_models):
    source = model_path(tiny_models, "wheat", "0-10cm")
    path = tmp_path / source.name
    shutil.copy(source, path)
    shutil.copy(source.with_suffix(".card.json"), path.with_suffix(".card.json"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as err:
        load_model(path)
    return path, err.value


def _station_table_wrong_schema(tmp_path, tiny_world, tiny_models):
    catalog = _copy_world(tiny_world[0], tmp_path)
    stations = tmp_path / "data" / "stations.parquet"
    table = pd.read_parquet(stations).rename(columns={"sm": "soil_moisture"})
    stations.unlink()  # the copy is a real file; replace it, do not write through
    table.to_parquet(stations)
    with pytest.raises(CatalogError) as err:
        read_entry("stations", catalog)
    return stations, err.value


def _ismn_file_of_another_format(tmp_path, tiny_world, tiny_models):
    path = tmp_path / "NET_NET_ST_sm_0.050000_0.050000_X_20070101_20131231.stm"
    shutil.copy(assets_dir() / "meteo" / "GHCND_CHM00054511_Beijing_daily.csv", path)
    with pytest.raises(ReaderError) as err:
        read_ismn_stm(path)
    return path, err.value


def _cci_file_without_sm(tmp_path, tiny_world, tiny_models):
    import numpy as np
    import xarray as xr

    path = tmp_path / "ESACCI-SOILMOISTURE-L3S-SSMV-PASSIVE-20200101000000-fv04.2.nc"
    xr.Dataset({"sm_v2": (("time", "lat", "lon"), np.zeros((1, 2, 2)))},
               coords={"time": [np.datetime64("2020-01-01")], "lat": [0.0, 0.25],
                       "lon": [0.0, 0.25]}).to_netcdf(path)
    with pytest.raises(ReaderError) as err:
        read_esa_cci(path)
    return path, err.value


CORRUPTIONS = {
    "malformed catalog YAML": _malformed_catalog,
    "catalog pointing at a missing store": _missing_store,
    "truncated Zarr chunk (cropsm catalog check)": _truncated_chunk,
    "model file with one byte changed": _changed_model_byte,
    "station table with a wrong schema": _station_table_wrong_schema,
    "ISMN reader given a CSV": _ismn_file_of_another_format,
    "ESA CCI file with an unexpected variable": _cci_file_without_sm,
}


# docs/reliability.md's figure, "N cases tried, N handled", is this test's pass count
@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupted_input_gives_an_error_naming_the_file(case, tmp_path, tiny_world,
                                                        tiny_models):
    path, message = CORRUPTIONS[case](tmp_path, tiny_world, tiny_models)
    text = str(message)
    assert path.name in text, f"{case}: the error does not name {path.name}: {text[:300]}"
    shown = next(line for line in text.strip().splitlines() if path.name in line)
    print(f"\n{case}: {shown.strip()[:200]}")


def test_model_with_a_type_outside_the_pinned_list_is_refused(tmp_path, tiny_models):
    """A well-formed skops archive whose card matches, but holding a foreign type."""
    from collections import Counter

    source = model_path(tiny_models, "wheat", "0-10cm")
    path = tmp_path / source.name
    sio.dump(Counter(a=1), path)
    card = json.loads(source.with_suffix(".card.json").read_text())
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    card["features"] = list(kept_features(None))
    path.with_suffix(".card.json").write_text(json.dumps(card))
    with pytest.raises(ModelFileError, match="outside the pinned list") as err:
        load_model(path)
    assert "collections.Counter" in str(err.value)
    assert TRUSTED_TYPES == {"cropsm.rf.model.SoilMoistureModel", "cropsm.nn.network.LayerNetwork",
                             "cropsm.nn.network.MultilayerNetwork", "sklearn.tree._tree.Tree"}
    assert set(sio.get_untrusted_types(file=source)) <= TRUSTED_TYPES
    network = network_path(tiny_models)
    assert set(sio.get_untrusted_types(file=network)) <= TRUSTED_TYPES


def test_model_loading_uses_skops_only():
    sources = "\n".join(p.read_text() for p in (ROOT / "cropsm").rglob("*.py"))
    for forbidden in ("import pickle", "import joblib", "joblib.load", "pickle.load",
                      "cloudpickle"):
        assert forbidden not in sources


# server defaults ----------------------------------------------------------------------

def _documented_serve_command(port: int) -> list[str]:
    """The ``panel serve`` line of ``make run``, for this port."""
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines()
                if "panel serve" in x)
    line = line.strip().replace("$(BIN)/panel", f"{sys.executable} -m panel")
    return shlex.split(line.replace("$(PORT)", str(port)).replace("$(PROCS)", "1"))


@pytest.fixture(scope="module")
def documented_server(tiny_world):
    port = free_port()
    command = _documented_serve_command(port)
    proc = serve(command, port, {"CROPSM_CATALOG": str(tiny_world[1])})
    yield port, command
    stop(proc)


async def _websocket(port: int, token: str, origin: str):
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(f"ws://127.0.0.1:{port}/app/ws", headers={"Origin": origin})
    try:
        conn = await websocket_connect(request, subprotocols=["bokeh", token])
    except HTTPClientError as err:
        return err.code
    message = await asyncio.wait_for(conn.read_message(), 30)
    conn.close()
    return json.loads(message)["msgtype"]


def test_documented_server_rejects_foreign_websocket_origins(documented_server):
    port, command = documented_server
    assert any(a.startswith("--allow-websocket-origin") for a in command)
    assert "--admin" not in command and "0.0.0.0" not in command
    html = urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=120).read().decode()
    token = re.search(r'"token":\s*"([^"]+)"', html).group(1)
    foreign = asyncio.run(_websocket(port, token, "http://evil.example"))
    own = asyncio.run(_websocket(port, token, f"http://127.0.0.1:{port}"))
    print(f"\nwebsocket from a foreign origin: HTTP {foreign}; from the served origin: {own}")
    assert foreign == 403
    assert own == "ACK"


def test_admin_endpoint_is_off(documented_server):
    port, _ = documented_server
    codes = {}
    for path in ("/admin", "/admin/", "/admin/app"):
        try:
            codes[path] = urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                                 timeout=30).status
        except urllib.error.HTTPError as err:
            codes[path] = err.code
    print(f"\nadmin endpoints: {codes}")
    assert set(codes.values()) == {404}


def test_bokeh_has_the_cve_2026_21883_fix_and_is_pinned():
    assert Version(importlib.metadata.version("bokeh")) >= Version("3.8.2")
    pins = (ROOT / "pyproject.toml").read_text()
    bound = re.search(r'"bokeh>=([\d.]+)"', pins).group(1)
    assert Version(bound) >= Version("3.8.2")
