from __future__ import annotations

import numpy as np
import pytest

from skyssl.embed.reader import Embeddings
from skyssl.errors import InputError
from skyssl.science.labels import (
    embedded_labels,
    fraction_sizes,
    parse_fractions,
    read_numeric_column,
    split_train_test,
)
from skyssl.store import Store
from tests.search.helpers import synthetic_store, uniform_sky

N = 12


@pytest.fixture(scope="module")
def labelled_store(tmp_path_factory):
    ra, dec = uniform_sky(N, 0)
    z = np.linspace(0.0, 0.55, N)
    nan_z = z.copy()
    nan_z[[3, 7]] = np.nan
    path = synthetic_store(tmp_path_factory.mktemp("labels") / "store", ra, dec,
                           columns={"z_true": z, "z_nan": nan_z, "flag": np.arange(N) % 2 == 0})
    # embeddings in reversed row order: labels must follow the rows, not the positions
    with Store.open(path) as store:
        ids = store.object_ids
    from skyssl.embed import write_embeddings

    emb = write_embeddings(path.parent / "emb", ids[::-1], np.arange(N)[::-1],
                           {"backbone": np.zeros((N, 4), np.float32)}, path,
                           checkpoint_info={"path": None, "sha256": None}, spec={}, dtype="float32", rows_per_shard=5)
    return path, emb


def test_embedded_labels_follow_the_embedding_rows(labelled_store):
    path, emb = labelled_store
    with Embeddings.open(emb) as opened, Store.open(path) as store:
        labels = embedded_labels(opened, store, "z_true")
        flags = read_numeric_column(store, "flag", opened.rows)
        ids = store.object_ids
    assert labels.values == pytest.approx(np.linspace(0.0, 0.55, N)[::-1])
    assert labels.object_ids.tolist() == ids[::-1].tolist()
    assert labels.positions.tolist() == list(range(N))
    assert flags.dtype == np.float64 and flags.tolist() == [float(r % 2 == 0) for r in range(N)][::-1]
    subset = labels.take(np.array([0, 2]))
    assert len(subset) == 2 and subset.rows.tolist() == [N - 1, N - 3]


@pytest.mark.parametrize(("column", "message"), [
    ("z_missing", "label column 'z_missing' is not in the store"),
    ("mag", "is per band"),
    ("type", "not numbers"),
    ("z_nan", "has 2 NaN or infinite values of 12"),
])
def test_unusable_label_columns_are_one_line_errors(labelled_store, column, message):
    path, emb = labelled_store
    with Embeddings.open(emb) as opened, Store.open(path) as store, pytest.raises(InputError, match=message) as info:
        embedded_labels(opened, store, column)
    assert "\n" not in str(info.value)


def test_split_is_disjoint_seeded_and_sized():
    train, test = split_train_test(100, 0.2, seed=5)
    assert test.size == 20 and train.size == 80
    assert not set(train) & set(test) and set(train) | set(test) == set(range(100))
    again = split_train_test(100, 0.2, seed=5)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert not np.array_equal(test, split_train_test(100, 0.2, seed=6)[1])
    with pytest.raises(InputError):
        split_train_test(100, 1.0, seed=0)


def test_fractions_parse():
    assert parse_fractions("1.0, 0.1,0.25,0.1") == [0.1, 0.25, 1.0]
    assert fraction_sizes([0.1, 0.25, 1.0], 41) == [4, 10, 41]
    assert fraction_sizes([0.001], 41) == [1]
    for bad in ("0,0.5", "a,b", "1.5", ""):
        with pytest.raises(InputError):
            parse_fractions(bad)

