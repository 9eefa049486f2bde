"""The streamed LBFGS probe reaches scikit-learn's optimum and handles float16, weights and files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression

from skyssl.errors import ArtefactError, InputError
from skyssl.mining.probe import LinearProbe, feature_moments, fit_logistic


def _data(n: int = 1200, d: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    X = (rng.standard_normal((n, d)) @ mixing + 0.3).astype(np.float32)
    y = (X @ rng.standard_normal(d) + rng.standard_normal(n) > 1.0).astype(np.int64)
    return X, y


def _binary_objective(X, y, w, b, l2):
    z = X.astype(np.float64) @ w + b
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)


def _softmax_objective(X, y, W, b, l2):
    Z = X.astype(np.float64) @ W.T + b
    return float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(y.size), y]) + 0.5 * l2 * np.sum(W * W))


@pytest.mark.parametrize("l2", [1e-2, 1e-4])
def test_binary_objective_matches_sklearn(l2):
    X, y = _data()
    probe = fit_logistic(X, y, l2=l2, chunk_rows=500)
    reference = LogisticRegression(C=1.0 / (l2 * y.size), tol=1e-12, max_iter=20_000).fit(X.astype(np.float64), y)
    ours = _binary_objective(X, y, probe.weight.astype(np.float64), float(probe.bias), l2)
    theirs = _binary_objective(X, y, reference.coef_[0], reference.intercept_[0], l2)
    assert abs(ours - theirs) / theirs < 1e-4
    assert probe.history[-1] == pytest.approx(ours, rel=1e-5)   # the streamed objective is the same function


def test_multinomial_objective_matches_sklearn():
    X, y = _data(seed=1)
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.3, 1.0])        # four classes
    l2 = 1e-3
    probe = fit_logistic(X, y, n_classes=4, l2=l2, chunk_rows=300)
    reference = LogisticRegression(C=1.0 / (l2 * y.size), tol=1e-12, max_iter=20_000).fit(X.astype(np.float64), y)
    ours = _softmax_objective(X, y, probe.weight.astype(np.float64), probe.bias.astype(np.float64), l2)
    theirs = _softmax_objective(X, y, reference.coef_, reference.intercept_, l2)
    assert abs(ours - theirs) / theirs < 1e-4
    assert probe.predict_proba(X).shape == (y.size, 4)
    np.testing.assert_allclose(probe.predict_proba(X).sum(axis=1), 1.0, rtol=1e-5)


def test_float16_chunked_equals_float32_in_memory():
    X, y = _data(seed=2)
    X16 = X.astype(np.float16)
    streamed = fit_logistic(X16, y, l2=1e-3, chunk_rows=97)
    in_memory = fit_logistic(X16.astype(np.float32), y, l2=1e-3, chunk_rows=len(y))
    np.testing.assert_allclose(streamed.weight, in_memory.weight, atol=2e-3)
    assert streamed.history[-1] == pytest.approx(in_memory.history[-1], rel=1e-6)


def test_memmap_input_is_streamed(tmp_path):
    X, y = _data(seed=3)
    path = tmp_path / "x.f16"
    X.astype(np.float16).tofile(path)
    mapped = np.memmap(path, dtype=np.float16, mode="r", shape=X.shape)
    from_map = fit_logistic(mapped, y, l2=1e-3, chunk_rows=256)
    from_array = fit_logistic(X.astype(np.float16), y, l2=1e-3)
    np.testing.assert_allclose(from_map.weight, from_array.weight, atol=1e-5)


def test_sample_weight_two_equals_a_duplicated_row():
    X, y = _data(n=300, seed=4)
    weights = np.ones(y.size)
    weights[:50] = 2.0
    weighted = fit_logistic(X, y, l2=1e-2, sample_weight=weights)
    duplicated = fit_logistic(np.concatenate([X, X[:50]]), np.concatenate([y, y[:50]]), l2=1e-2)
    np.testing.assert_allclose(weighted.weight, duplicated.weight, atol=1e-4)


def test_standardisation_is_folded_into_raw_weights():
    X, y = _data(seed=5)
    X = X * np.linspace(0.1, 20.0, X.shape[1], dtype=np.float32) + 5.0
    probe = fit_logistic(X, y, l2=1e-3, standardize=True)
    mean, std = feature_moments(X)
    np.testing.assert_allclose(mean, X.astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, X.astype(np.float64).std(axis=0), rtol=1e-5)
    explicit = ((X - mean) / std) @ probe.weight + probe.bias
    np.testing.assert_allclose(probe.decision_function(X), explicit, rtol=1e-4, atol=1e-4)
    # the same objective as an unstandardised fit on standardised data
    plain = fit_logistic(((X - mean) / std).astype(np.float32), y, l2=1e-3)
    assert probe.history[-1] == pytest.approx(plain.history[-1], rel=1e-5)


def test_save_and_load_round_trip(tmp_path):
    X, y = _data(n=200, seed=6)
    probe = fit_logistic(X, y, l2=1e-2, standardize=True)
    path = probe.save(tmp_path / "probe.npz")
    assert path.with_suffix(".json").is_file()
    loaded = LinearProbe.load(path)
    np.testing.assert_array_equal(loaded.decision_function(X), probe.decision_function(X))
    assert loaded.l2 == probe.l2 and loaded.history == probe.history
    path.with_suffix(".json").unlink()
    with pytest.raises(ArtefactError, match="missing"):
        LinearProbe.load(path)


@pytest.mark.parametrize("y, message", [
    (np.zeros(10), "one class"),
    (np.r_[np.zeros(9), np.nan], "NaN"),
    (np.r_[np.zeros(9), 3], "integers in"),
    (np.zeros(7), "labels for 10"),
])
def test_bad_labels_raise_input_error(y, message):
    with pytest.raises(InputError, match=message):
        fit_logistic(np.ones((10, 3), dtype=np.float32), y)


def test_bad_features_and_settings_raise_input_error():
    y = np.r_[np.zeros(5), np.ones(5)]
    with pytest.raises(InputError, match="float16 or float32"):
        fit_logistic(np.ones((10, 3)), y)
    with pytest.raises(InputError, match="l2"):
        fit_logistic(np.ones((10, 3), dtype=np.float32), y, l2=-1.0)
    probe = fit_logistic(np.eye(10, 3, dtype=np.float32), y)
    with pytest.raises(InputError, match="expects 3"):
        probe.decision_function(np.ones((2, 4), dtype=np.float32))


def test_streaming_runs_on_one_thread_and_restores_the_setting():
    import torch

    X, y = _data(n=100, seed=7)
    torch.set_num_threads(2)
    try:
        fit_logistic(X, y, l2=1e-2, max_iter=5)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
