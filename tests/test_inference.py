"""cropsm.serve.serving_forest against scikit-learn and numpy: bit-identical, smaller."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from cropsm.serve.serving_forest import ServingForest, sklearn_forest_nbytes


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 6)).astype("f4")
    X[:, 2] = np.round(X[:, 2])  # ties at thresholds
    y = (X[:, 0] * 2 + np.sin(3 * X[:, 1]) + 0.3 * rng.normal(size=3000)).astype("f4")
    test = rng.normal(size=(5003, 6)).astype("f4")
    test[:, 2] = np.round(test[:, 2])
    return X, y, test


@pytest.mark.parametrize("params", [
    {"n_estimators": 20, "max_features": 4},
    {"n_estimators": 7, "max_features": 2, "min_samples_leaf": 5, "max_samples": 0.5},
    {"n_estimators": 5, "max_depth": 3},
])
def test_regressor_bit_identical_with_quantiles(data, params):
    X, y, test = data
    forest = RandomForestRegressor(**params, random_state=0, n_jobs=1).fit(X, y)
    serving = ServingForest.from_sklearn(forest)
    assert np.array_equal(serving.predict(test), forest.predict(test))
    mean, low, high = serving.predict(test, quantiles=(0.1, 0.9))
    per_tree = np.stack([tree.predict(test) for tree in forest.estimators_])
    assert np.array_equal(mean, forest.predict(test))
    assert np.array_equal(low, np.quantile(per_tree, 0.1, axis=0))
    assert np.array_equal(high, np.percentile(per_tree, 90, axis=0))


def test_thresholds_between_float32_values_decide_like_sklearn():
    # a float64 threshold between two float32 neighbours must not flip x == upper neighbour
    ulp = np.float32(2.0**-23)
    x = np.array([[1.0], [1 + 3 * ulp]], "f4")
    forest = RandomForestRegressor(1, bootstrap=False, random_state=0).fit(x, [0.0, 1.0])
    threshold = forest.estimators_[0].tree_.threshold[0]
    assert np.float32(threshold) != threshold  # the midpoint is not a float32
    # rounding the threshold to nearest would send 1 + 2 ulp the wrong way
    probe = (1 + np.arange(4, dtype="f4") * ulp).reshape(-1, 1)
    assert np.array_equal(ServingForest.from_sklearn(forest).predict(probe),
                          forest.predict(probe))


def test_classifier_labels_and_probabilities(data):
    X, y, test = data
    labels = np.digitize(y, [-1.0, 1.0]).astype("i1")  # three classes
    forest = RandomForestClassifier(15, max_features=3, random_state=1, n_jobs=1).fit(X, labels)
    serving = ServingForest.from_sklearn(forest)
    assert np.array_equal(serving.predict_proba(test), forest.predict_proba(test))
    assert np.array_equal(serving.predict(test), forest.predict(test))


def test_feature_columns_let_one_array_serve_two_forests(data):
    X, y, test = data
    subset = [0, 1, 3, 4, 5]  # the forest never sees column 2
    forest = RandomForestRegressor(5, random_state=0).fit(X[:, subset], y)
    serving = ServingForest.from_sklearn(forest, feature_columns=subset, n_columns=6)
    assert np.array_equal(serving.predict(test), forest.predict(test[:, subset]))


def test_same_results_on_one_and_two_threads(data):
    X, y, test = data
    serving = ServingForest.from_sklearn(RandomForestRegressor(10, random_state=0).fit(X, y))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = serving.predict(test, quantiles=(0.1, 0.9))
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = serving.predict(test, quantiles=(0.1, 0.9))
    finally:
        numba.set_num_threads(before)
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)


def test_serving_form_is_a_fraction_of_sklearn_memory(data):
    X, y, _ = data
    forest = RandomForestRegressor(10, random_state=0).fit(X, y)
    assert ServingForest.from_sklearn(forest).nbytes <= 0.25 * sklearn_forest_nbytes(forest)


def test_bad_rows_are_refused(data):
    X, y, test = data
    serving = ServingForest.from_sklearn(RandomForestRegressor(3, random_state=0).fit(X, y))
    with pytest.raises(ValueError, match="6 columns"):
        serving.predict(test[:, :5])
    bad = test.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        serving.predict(bad)
    with pytest.raises(ValueError, match="quantiles"):
        serving.predict(test, quantiles=(0.9, 0.1))
    assert serving.predict(test[:0]).shape == (0,)
    with pytest.raises(ValueError, match="not fitted"):
        ServingForest.from_sklearn(RandomForestRegressor())


def test_two_class_labels_equal_sklearn_when_rows_leave_early(data):
    """Labels of a two-class forest, rows settled early and rows tied to the last tree."""
    X, y, test = data
    rng = np.random.default_rng(3)
    # a noisy boundary: many rows are decided by a narrow majority, others at once
    labels = (y + rng.normal(0, 1.0, y.size) > 0).astype("i1")
    forest = RandomForestClassifier(50, max_features=3, random_state=2, n_jobs=1).fit(X, labels)
    serving = ServingForest.from_sklearn(forest)
    votes = np.stack([tree.predict_proba(test)[:, 1] for tree in forest.estimators_])
    lead = np.abs(2 * votes.sum(axis=0) - 50)
    assert (lead > 30).any() and (lead < 4).any()  # both kinds of rows are tested
    assert np.array_equal(serving.predict(test), forest.predict(test))
    assert np.array_equal(serving.predict(test[:7]), forest.predict(test[:7]))
