from __future__ import annotations

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.science.photoz_bins import RedshiftBins, bins_for


def test_sdss_bins_follow_hayat():
    bins = bins_for("sdss", None)
    assert (bins.n_bins, bins.z_max) == (180, 0.4)
    assert bins.width == pytest.approx(0.4 / 180)
    assert bins.edges[0] == 0.0 and bins.edges[-1] == pytest.approx(0.4) and bins.edges.size == 181
    assert bins.centres[0] == pytest.approx(0.4 / 360) and bins.centres[-1] == pytest.approx(0.4 - 0.4 / 360)


def test_bin_index_is_floor_of_clamped_z_over_width():
    bins = RedshiftBins(4, 0.4)  # width 0.1
    z = np.array([0.0, 0.05, 0.1 + 1e-9, 0.25, 0.39999, 0.4, 2.0, -0.3])
    assert bins.bin_index(z).tolist() == [0, 0, 1, 2, 3, 3, 3, 0]


def test_expected_z_is_probability_weighted_centres():
    bins = RedshiftBins(4, 0.4)  # centres 0.05, 0.15, 0.25, 0.35
    pdf = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.5, 0.0], [0.25, 0.25, 0.25, 0.25]])
    assert bins.expected_z(pdf) == pytest.approx([0.05, 0.2, 0.2])


def test_presets_follow_the_survey_and_accept_overrides():
    assert bins_for("auto", "sdss") == RedshiftBins(180, 0.4)
    assert bins_for("auto", "legacy-dr9-south") == RedshiftBins(200, 1.0)
    assert bins_for("auto", None) == RedshiftBins(180, 0.4)
    assert bins_for("legacy", "sdss", n_bins=50) == RedshiftBins(50, 1.0)
    assert bins_for("sdss", None, z_max=0.6) == RedshiftBins(180, 0.6)


@pytest.mark.parametrize(("preset", "n_bins", "z_max"), [("hubble", None, None), ("sdss", 1, None), ("sdss", None, 0.0)])
def test_bad_binning_is_an_input_error(preset, n_bins, z_max):
    with pytest.raises(InputError):
        bins_for(preset, None, n_bins=n_bins, z_max=z_max)
