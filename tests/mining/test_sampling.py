"""Nested training sets, the validation split and the exclusion radius around known lenses."""

from __future__ import annotations

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.mining.sampling import format_ratio, make_splits, near_positives, parse_ratio, parse_ratios


def _sky(n: int, positives: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=bool)
    labels[rng.choice(n, positives, replace=False)] = True
    return labels, rng.uniform(0.0, 360.0, n), np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))


def test_parse_and_format_ratios():
    assert parse_ratio("1:100") == 100.0
    assert parse_ratio(" 2 : 5 ") == 2.5
    assert parse_ratios("1:100,1:1, 1:10") == [1.0, 10.0, 100.0]
    assert format_ratio(10_000.0) == "1:10000" and format_ratio(49.2245) == "1:49.22"
    for bad in ("100", "1:0", "a:b", "1:-3"):
        with pytest.raises(InputError, match="ratio"):
            parse_ratio(bad)


def test_training_sets_are_nested_and_hit_the_ratio():
    labels, ra, dec = _sky(20_000, 100)
    splits = make_splits(labels, ra, dec, max_train_ratio=100, val_ratio=100, exclusion_arcsec=0.0)
    previous = set()
    for ratio in (1, 10, 30, 100):
        members = splits.training(ratio)
        assert previous <= set(members)                      # larger sets contain the smaller ones
        previous = set(members)
        assert labels[members].sum() == splits.train_positive.size == 50
        assert (~labels[members]).sum() == ratio * 50
        assert splits.train_ratio_achieved(ratio) == ratio


def test_validation_is_disjoint_from_training_and_at_the_wanted_ratio():
    labels, ra, dec = _sky(20_000, 100)
    splits = make_splits(labels, ra, dec, max_train_ratio=50, val_ratio=200, exclusion_arcsec=0.0)
    train, val = set(splits.training(50)), set(splits.validation())
    assert not train & val
    assert not set(splits.train_positive) & set(splits.val_positive)
    assert splits.val_ratio_achieved == 200.0
    assert splits.describe(50)["val_ratio_achieved"] == "1:200"


def test_small_store_reports_the_ratio_it_could_reach():
    labels, ra, dec = _sky(2_000, 40)
    splits = make_splits(labels, ra, dec, max_train_ratio=1000, val_ratio=10_000, val_fraction=0.5,
                         exclusion_arcsec=0.0)
    # 1,960 negatives: validation keeps half (the val_fraction floor), training the rest
    assert splits.val_negative.size == 980
    assert splits.describe(1000)["val_ratio_achieved"] == "1:49"
    assert splits.n_train_negatives(1000) == 980
    assert splits.describe(1000)["train_ratio_achieved"] == "1:49"


def test_same_seed_same_splits_other_seed_other_splits():
    labels, ra, dec = _sky(5_000, 50)
    a = make_splits(labels, ra, dec, max_train_ratio=10, seed=1)
    b = make_splits(labels, ra, dec, max_train_ratio=10, seed=1)
    c = make_splits(labels, ra, dec, max_train_ratio=10, seed=2)
    np.testing.assert_array_equal(a.training(10), b.training(10))
    assert not np.array_equal(a.training(10), c.training(10))


def test_exclusion_radius_drops_neighbours_of_lenses_across_ra_wrap():
    ra = np.array([359.9995, 0.0005, 0.0030, 10.0, 20.0, 30.0, 40.0, 50.0])
    dec = np.zeros(8)
    labels = np.array([1, 0, 0, 0, 0, 0, 1, 0], dtype=bool)
    near = near_positives(ra, dec, labels, radius_arcsec=5.0)
    # object 1 is 3.6″ from lens 0 across RA = 0; object 2 is 12.6″ away
    np.testing.assert_array_equal(near, [0, 1, 0, 0, 0, 0, 0, 0])
    splits = make_splits(labels, ra, dec, max_train_ratio=10, val_ratio=1, exclusion_arcsec=5.0)
    used = set(splits.training(10)) | set(splits.validation())
    assert 1 not in used and splits.n_excluded == 1
    assert used == {0, 2, 3, 4, 5, 6, 7}


def test_too_few_positives_is_an_input_error():
    labels, ra, dec = _sky(100, 1)
    with pytest.raises(InputError, match="at least two"):
        make_splits(labels, ra, dec, max_train_ratio=1)
