"""The interpolated distances against astropy's integration, called directly."""

import numpy as np
import pytest
from astropy.cosmology import FlatLambdaCDM

from skyssl.sim import cosmology

ASTROPY = FlatLambdaCDM(H0=70.0, Om0=0.3)
Z = np.concatenate([[1e-4, 0.0012, 0.01, 0.0123, 0.1], np.random.default_rng(0).uniform(0.01, 6.0, 200), [19.99]])


@pytest.mark.parametrize(
    ("ours", "theirs", "unit"),
    [
        (cosmology.luminosity_distance_mpc, ASTROPY.luminosity_distance, "Mpc"),
        (cosmology.angular_diameter_distance_mpc, ASTROPY.angular_diameter_distance, "Mpc"),
        (cosmology.comoving_distance_mpc, ASTROPY.comoving_distance, "Mpc"),
        (cosmology.comoving_volume_element_mpc3_per_sr, ASTROPY.differential_comoving_volume, "Mpc3 / sr"),
        (cosmology.distance_modulus, ASTROPY.distmod, "mag"),
    ],
)
def test_matches_astropy(ours, theirs, unit):
    np.testing.assert_allclose(ours(Z), theirs(Z).to_value(unit), rtol=1e-6)


def test_lens_distance_matches_astropy():
    z1, z2 = np.array([0.2, 0.5, 0.9]), np.array([1.0, 2.5, 3.4])
    expected = ASTROPY.angular_diameter_distance(z1, z2).to_value("Mpc")
    np.testing.assert_allclose(cosmology.angular_diameter_distance_z1z2_mpc(z1, z2), expected, rtol=1e-6)


def test_shapes_scalars_and_limits():
    mesh = np.linspace(0.05, 1.2, 12).reshape(3, 4)
    assert cosmology.distance_modulus(mesh).shape == (3, 4)
    assert np.ndim(cosmology.luminosity_distance_mpc(0.5)) == 0
    assert cosmology.distance_modulus(0.0) == -np.inf
    assert cosmology.comoving_distance_mpc(0.0) == 0.0
    with pytest.raises(ValueError, match="redshift outside"):
        cosmology.luminosity_distance_mpc(np.array([0.5, -0.1]))
    with pytest.raises(ValueError, match="redshift outside"):
        cosmology.distance_modulus(25.0)
