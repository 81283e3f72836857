import numpy as np
import pytest
import xarray as xr
from pytesmo import metrics as pm
from scipy import stats
from sklearn.metrics import mean_squared_error, r2_score, roc_auc_score

from cropsm.core import metrics


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    obs = rng.uniform(0.05, 0.4, 500)
    pred = obs + rng.normal(0.01, 0.03, 500)
    return pred, obs


def test_against_scipy_sklearn_and_pytesmo(pair):
    pred, obs = pair
    assert metrics.pearson_r(pred, obs) == pytest.approx(stats.pearsonr(pred, obs)[0])
    assert metrics.pearson_r(pred, obs) == pytest.approx(pm.pearson_r(pred, obs))
    assert metrics.r2(pred, obs) == pytest.approx(r2_score(obs, pred))
    assert metrics.rmse(pred, obs) == pytest.approx(np.sqrt(mean_squared_error(obs, pred)))
    assert metrics.rmse(pred, obs) == pytest.approx(pm.rmsd(pred, obs))
    assert metrics.bias(pred, obs) == pytest.approx(pm.bias(pred, obs))
    assert metrics.ubrmse(pred, obs) == pytest.approx(pm.ubrmsd(pred, obs))
    # Eq. 6 identity
    assert metrics.ubrmse(pred, obs) == pytest.approx(
        np.sqrt(metrics.rmse(pred, obs) ** 2 - metrics.bias(pred, obs) ** 2))


def test_r2_is_not_the_printed_eq3(pair):
    pred, obs = pair
    n = pred.size
    printed = 1 - np.sum((pred - obs) ** 2) / (n * np.sum((pred - pred.mean()) ** 2))
    assert printed > 0.999  # the extra N makes the printed form meaningless
    assert metrics.r2(pred, obs) < 0.95


def test_edge_cases():
    const = np.full(10, 0.2)
    other = np.linspace(0.1, 0.3, 10)
    assert np.isnan(metrics.pearson_r(const, other))
    assert np.isnan(metrics.r2(other, const))
    assert metrics.rmse(const, const) == 0 and metrics.ubrmse(const, const) == 0
    two = metrics.pearson_r([0.1, 0.2], [0.3, 0.5])
    assert two == pytest.approx(1.0)
    with_nan = metrics.rmse([0.1, np.nan, 0.3], [0.1, 0.2, 0.4])
    assert with_nan == pytest.approx(np.sqrt(0.005))
    assert np.isnan(metrics.rmse([0.1, np.nan], [0.1, 0.2], skipna=False))
    assert all(np.isnan(v) for v in metrics.pearson_r_ci([0.1, 0.2], [0.3, 0.5]))


@pytest.mark.parametrize("chunks", [None, {"station": 3}])
def test_xarray_wrappers_same_with_and_without_dask(chunks):
    rng = np.random.default_rng(1)
    obs = xr.DataArray(rng.random((7, 40)), dims=("station", "time"))
    pred = obs + xr.DataArray(rng.normal(0, 0.1, (7, 40)), dims=("station", "time"))
    if chunks:
        obs, pred = obs.chunk(chunks), pred.chunk(chunks)
    for name in ("pearson_r", "r2", "bias", "rmse", "ubrmse"):
        fn = getattr(metrics, name)
        per_station = fn(pred, obs, dim="time")
        assert per_station.dims == ("station",)
        values = per_station.values
        for s in range(7):
            assert values[s] == pytest.approx(fn(pred.values[s], obs.values[s]))
        assert float(fn(pred, obs)) == pytest.approx(fn(pred.values, obs.values))


def test_pearson_ci_matches_scipy(pair):
    pred, obs = pair
    r, p, lo, hi = metrics.pearson_r_ci(pred, obs)
    ref = stats.pearsonr(pred, obs)
    ci = ref.confidence_interval()
    assert (r, p, lo, hi) == pytest.approx((ref.statistic, ref.pvalue, ci.low, ci.high))
    assert lo < r < hi


def test_classification_scores_against_sklearn():
    rng = np.random.default_rng(2)
    truth = rng.random(300) < 0.4
    score = truth * 0.4 + rng.random(300) * 0.7
    pred = score > 0.5
    s = metrics.classification_scores(truth, pred, score)
    from sklearn.metrics import accuracy_score, precision_score, recall_score

    assert s["producers_accuracy"] == pytest.approx(recall_score(truth, pred))
    assert s["users_accuracy"] == pytest.approx(precision_score(truth, pred))
    assert s["overall_accuracy"] == pytest.approx(accuracy_score(truth, pred))
    assert s["roc_auc"] == pytest.approx(roc_auc_score(truth, score))
    assert s["tp"] + s["fp"] + s["tn"] + s["fn"] == 300
    assert np.isnan(metrics.classification_scores([1, 1], [1, 1], [0.9, 0.8])["roc_auc"])
