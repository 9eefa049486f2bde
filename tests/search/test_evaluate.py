"""Search evaluation on a set whose positives cluster, so precision and enrichment are known exactly."""

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.search import augmented_copy_top1_rate, evaluate_search
from skyssl.search.evaluate import label_mask
from tests.search.helpers import embeddings_for, synthetic_store, uniform_sky

N_OBJECTS, N_POSITIVE = 200, 20


@pytest.fixture(scope="module")
def emb(tmp_path_factory):
    """20 positives tightly around one direction, 180 negatives pointing elsewhere (all far from it)."""
    folder = tmp_path_factory.mktemp("evaluate")
    rng = np.random.default_rng(31)
    is_lens = np.zeros(N_OBJECTS, bool)
    is_lens[rng.choice(N_OBJECTS, N_POSITIVE, replace=False)] = True
    grade = np.where(is_lens, np.where(np.arange(N_OBJECTS) % 2 == 0, "A", "B"), "")
    direction = np.zeros(16)
    direction[0] = 1.0
    vectors = rng.standard_normal((N_OBJECTS, 16))
    vectors[:, 0] = -np.abs(vectors[:, 0])  # negatives on the far side of the positives' direction
    vectors[is_lens] = direction + 0.01 * rng.standard_normal((N_POSITIVE, 16))
    ra, dec = uniform_sky(N_OBJECTS, seed=32)
    store = synthetic_store(folder / "store", ra, dec, columns={"is_lens": is_lens, "lens_grade": grade})
    return embeddings_for(store, folder / "emb", vectors.astype(np.float32)), is_lens, grade


def test_clustered_positives_give_the_known_enrichment(emb):
    path, _, _ = emb
    tight = evaluate_search(path, "is_lens", k=10)
    assert tight["precision_at_k"] == 1.0 and tight["precision_at_k_std"] == 0.0
    assert tight["base_rate"] == N_POSITIVE / N_OBJECTS and tight["enrichment"] == pytest.approx(10.0)
    assert tight["augmented_copy_top1"] is None and tight["n_positives"] == N_POSITIVE
    wide = evaluate_search(path, "is_lens", k=38)  # 19 other positives fill exactly half of 38
    assert wide["precision_at_k"] == pytest.approx(0.5) and wide["enrichment"] == pytest.approx(5.0)


def test_label_expressions(emb):
    path, is_lens, grade = emb
    result = evaluate_search(path, "lens_grade==A", k=5, augmented_copy_top1=0.75)
    assert result["n_positives"] == int((grade == "A").sum()) and result["augmented_copy_top1"] == 0.75
    assert evaluate_search(path, "is_lens", k=5, augmented_copy_top1=lambda: 0.5)["augmented_copy_top1"] == 0.5
    columns = {"is_lens": is_lens, "lens_grade": grade, "z": np.linspace(0, 1, N_OBJECTS), "mag": np.ones((5, 3))}
    assert (label_mask("lens_grade != 'B'", columns.__getitem__) == (grade != "B")).all()
    assert label_mask("z>0.5", columns.__getitem__).sum() == N_OBJECTS // 2
    for label, match in (("lens_grade", "not boolean"), ("mag==1", "per band"), ("z==abc", "numeric")):
        with pytest.raises(InputError, match=match):
            label_mask(label, columns.__getitem__)


def test_bad_evaluations(emb):
    path, _, _ = emb
    with pytest.raises(InputError, match="selects no objects"):
        evaluate_search(path, "lens_grade==C", k=5)
    with pytest.raises(InputError, match="k must be between 1"):
        evaluate_search(path, "is_lens", k=0)
    with pytest.raises(InputError, match="no column 'nope'"):
        evaluate_search(path, "nope", k=5)


def test_augmented_copy_top1_rate():
    rng = np.random.default_rng(5)
    originals = rng.standard_normal((50, 8))
    assert augmented_copy_top1_rate(originals, originals + 0.01 * rng.standard_normal((50, 8))) == 1.0
    assert augmented_copy_top1_rate(originals, originals[::-1]) == 0.0
