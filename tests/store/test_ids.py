"""Stable ids: packing, occurrence numbering, position-derived ids and the id source order."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skyssl.store import ids as idlib


@given(
    st.integers(0, (1 << idlib.RELEASE_BITS) - 1),
    st.integers(0, (1 << idlib.BRICKID_BITS) - 1),
    st.integers(0, (1 << idlib.OBJID_BITS) - 1),
)
def test_tractor_id_round_trip(release, brickid, objid):
    packed = idlib.pack_tractor_id(np.array([release]), np.array([brickid]), np.array([objid]))
    assert [int(v[0]) for v in idlib.unpack_tractor_id(packed)] == [release, brickid, objid]
    assert not packed[0] & idlib.DERIVED_FLAG


def test_pack_refuses_values_outside_the_bit_budget():
    with pytest.raises(ValueError):
        idlib.pack_tractor_id(np.array([9010]), np.array([1]), np.array([1 << idlib.OBJID_BITS]))
    with pytest.raises(ValueError):
        idlib.pack_tractor_id(np.array([-1]), np.array([1]), np.array([1]))


def test_occurrence_index_counts_earlier_repeats():
    keys = np.array([5, 3, 5, 5, 3, 9])
    assert idlib.occurrence_index(keys).tolist() == [0, 0, 1, 2, 1, 0]


def test_position_ids_are_deterministic_and_unique_with_duplicate_positions():
    rng = np.random.default_rng(0)
    ra, dec = rng.uniform(0, 360, 50), rng.uniform(-90, 90, 50)
    ra, dec = np.r_[ra, ra[:10], ra[:3]], np.r_[dec, dec[:10], dec[:3]]
    first = idlib.derive_position_ids(ra, dec)
    assert np.array_equal(first, idlib.derive_position_ids(ra.copy(), dec.copy()))
    assert np.unique(first).size == first.size
    assert (first & idlib.DERIVED_FLAG).all() and (first > 0).all()


def test_position_ids_as_a_set_do_not_depend_on_row_order():
    rng = np.random.default_rng(1)
    ra, dec = rng.uniform(0, 360, 20), rng.uniform(-90, 90, 20)
    ra, dec = np.r_[ra, ra[:5]], np.r_[dec, dec[:5]]
    order = rng.permutation(ra.size)
    assert set(idlib.derive_position_ids(ra, dec)) == set(idlib.derive_position_ids(ra[order], dec[order]))


def test_position_ids_separate_positions_one_microdegree_apart():
    ids = idlib.derive_position_ids(np.array([10.0, 10.000001]), np.array([-5.0, -5.0]))
    assert ids[0] != ids[1]


def test_disambiguate_replaces_only_the_repeats():
    ids = np.array([7, 8, 7, 9, 7])
    ra, dec = np.arange(5.0), np.zeros(5)
    out, n = idlib.disambiguate_duplicates(ids, ra, dec)
    assert n == 2
    assert out[:2].tolist() == [7, 8] and out[3] == 9
    assert np.unique(out).size == 5


def test_ids_from_columns_prefers_explicit_then_tractor_then_objid_then_positions():
    ra, dec = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    tractor = {"release": np.array([9010, 9010]), "brickid": np.array([5, 5]), "objid": np.array([1, 2])}
    assert idlib.ids_from_columns({"object_id": np.array([4, 5]), **tractor})[1] == "object_id"
    ids, source, _ = idlib.ids_from_columns({"ra": ra, "dec": dec, **tractor})
    assert source == "release/brickid/objid"
    assert np.array_equal(
        ids, idlib.pack_tractor_id(tractor["release"], tractor["brickid"], tractor["objid"])
    )
    assert idlib.ids_from_columns({"ra": ra, "dec": dec, "ObjID": np.array([11, 12])})[0].tolist() == [11, 12]
    ids, source, _ = idlib.ids_from_columns({"ra": ra, "dec": dec})
    assert source.startswith("derived from ra/dec")
    assert np.array_equal(ids, idlib.derive_position_ids(ra, dec))


def test_ids_from_columns_rekeys_repeated_survey_ids():
    ids, _, n = idlib.ids_from_columns(
        {"ObjID": np.array([3, 3, 4]), "ra": np.arange(3.0), "dec": np.zeros(3)}
    )
    assert n == 1 and np.unique(ids).size == 3 and ids[0] == 3
