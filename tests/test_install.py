"""An installed wheel works away from the checkout: demo build, train, predict, the app.

The wheel is built from a copy of the sources (an in-place build would leave ``build/``
and ``*.egg-info`` in the checkout) and installed into a fresh virtual environment that
borrows this environment's dependencies through a ``.pth`` file, so nothing is
downloaded. The documented commands then run from an empty folder with no ``CROPSM_*``
variable set: everything they write must land there, and nothing in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
from servers import free_port

from cropsm.io.assets import AssetError, assets_dir, read_boundary

ROOT = Path(__file__).resolve().parents[1]
#: Folders of the checkout the default settings would write to if they were resolved
#: against the source tree instead of the working directory.
WATCHED = ("data", "models", "catalogs")


def _listing() -> set[str]:
    """Every path under the watched folders of the checkout, and its top level."""
    # dot folders are the tools' caches (.hypothesis, .ruff_cache...), not ours
    paths = {p.name for p in ROOT.iterdir() if not p.name.startswith(".")}
    for name in WATCHED:
        if (ROOT / name).is_dir():
            paths |= {str(p.relative_to(ROOT)) for p in (ROOT / name).rglob("*")}
    return paths


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run a command; fail the test with its output if it fails."""
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(command)}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project's wheel, built offline from a copy of the sources."""
    # the build backend must be the one pyproject.toml asks for: older setuptools
    # rejects the PEP 639 licence string
    pytest.importorskip("setuptools", minversion="77")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "cropsm", src / "cropsm",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
          "--no-build-isolation", "--wheel-dir", str(tmp / "dist"), str(src)], tmp, env)
    (found,) = (tmp / "dist").glob("cropsm-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh venv holding the wheel; returns its ``bin`` folder and the environment."""
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(root)], root, dict(os.environ))
    bindir = root / "bin"
    # no CROPSM_* variable (defaults are under the working directory) and nothing on
    # PYTHONPATH that could find the checkout
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CROPSM_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(root),
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    python = str(bindir / "python")
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
         root, env)
    # the dependencies are this environment's: a .pth line appends its site-packages to
    # the venv's path, after the venv's own, and does not run the .pth files there (the
    # checkout's editable-install hook among them)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     root, env).strip())
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_cropsm_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    return bindir, env


def test_wheel_carries_the_assets_and_the_servable_app(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    bundled = {f"cropsm/_assets/{p.relative_to(assets_dir()).as_posix()}"
               for p in assets_dir().rglob("*") if p.is_file()}
    assert "cropsm/_assets/ATTRIBUTION.md" in bundled
    assert bundled <= names
    assert {"cropsm/app/app.py", "cropsm/app/__main__.py", "cropsm/py.typed"} <= names


def test_cropsm_assets_overrides_the_bundled_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CROPSM_ASSETS", raising=False)
    bundled = assets_dir()
    assert bundled == ROOT / "cropsm" / "_assets"  # this checkout is installed editable
    copy = tmp_path / "assets"
    shutil.copytree(bundled / "maps", copy / "maps")
    monkeypatch.setenv("CROPSM_ASSETS", str(copy))
    assert assets_dir() == copy
    assert read_boundary().bounds[0] == pytest.approx(73.5, abs=0.1)
    monkeypatch.setenv("CROPSM_ASSETS", str(tmp_path / "nowhere"))
    with pytest.raises(AssetError, match="CROPSM_ASSETS"):
        assets_dir()


# a wheel built and installed into a fresh venv: about a minute;
# out of the 10-minute default run (`pytest -m slow`)
@pytest.mark.slow
def test_installed_wheel_runs_from_an_empty_folder(venv, tmp_path):
    bindir, env = venv
    work = tmp_path / "work"
    work.mkdir()
    before = _listing()

    origin = _run([str(bindir / "python"), "-c", "import cropsm; print(cropsm.__file__)"],
                  work, env).strip()
    assert Path(origin).is_relative_to(bindir.parent), origin
    assert not Path(origin).is_relative_to(ROOT), origin

    cropsm = str(bindir / "cropsm")
    _run([cropsm, "demo", "build", "--profile", "tiny", "--quiet"], work, env)
    _run([cropsm, "train"], work, env)
    # one product of the four is enough to serve, and a quarter of the time
    _run([cropsm, "predict", "--workers", "0", "--quiet", "--crop", "wheat", "--depth",
          "0-10cm"], work, env)
    assert (work / "catalogs" / "cropsm.yaml").is_file()
    assert (work / "data" / "demo" / "soil_moisture.zarr").exists()
    assert list((work / "models").glob("cropsm_*.skops"))
    assert {p.name for p in work.iterdir()} == {"catalogs", "data", "models"}

    # `python -m cropsm.app` is `panel serve` on the packaged app.py
    assert (Path(origin).parent / "app" / "app.py").is_file()
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(bindir / "python"), "-m", "cropsm.app", "--port", str(port),
             "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}"],
            cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        status, page, deadline = None, "", time.monotonic() + 180
        while status is None and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/app", timeout=60) as r:
                    status, page = r.status, r.read().decode()
            except urllib.error.HTTPError as err:  # answered, but not with the page
                status, page = err.code, err.read().decode(errors="replace")
            except (urllib.error.URLError, ConnectionError):  # not listening yet
                time.sleep(0.5)
        assert status == 200, f"HTTP {status}\n{page}\n{log.read_text()}"
        assert "<title>CropSM" in page
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Traceback" not in log.read_text(), log.read_text()

    assert _listing() == before, "the installed package wrote into the checkout"
