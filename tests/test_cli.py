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
