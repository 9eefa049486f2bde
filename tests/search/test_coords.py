"""Coordinate parsing (degrees, sexagesimal, negative zero declinations) and nearest-object lookup."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from skyssl.errors import InputError
from skyssl.search.coords import NoObjectNear, SkyLookup, parse_coordinates
from tests.search.helpers import uniform_sky


@pytest.mark.parametrize(("text", "ra_deg", "dec_deg"), [
    ("150.1 2.2", 150.1, 2.2),
    ("150.1, -2.2", 150.1, -2.2),
    ("10h00m24s +02d12m00s", 150.1, 2.2),
    ("10:00:24 +02:12:00", 150.1, 2.2),
    ("10 00 24 +02 12 00", 150.1, 2.2),
    ("10:00:24 -00:30:00", 150.1, -0.5),  # the authors' app divided by zero here (bug 21)
    ("10:00:24 \u221200:30:00", 150.1, -0.5),  # typographic minus
    ("00:00:00.5 -00:00:01", 0.5 / 240, -1 / 3600),
    ("150d06m00s -2d12m00s", 150.1, -2.2),
    ("359.9999 -89.99", 359.9999, -89.99),
])
def test_parse_coordinates(text, ra_deg, dec_deg):
    coord = parse_coordinates(text)
    assert coord.ra.deg == pytest.approx(ra_deg, abs=1e-9) and coord.dec.deg == pytest.approx(dec_deg, abs=1e-9)


@pytest.mark.parametrize("text", ["", "abc def", "150.1", "400 2", "150 95", "10:00:24", "1 2 3 4 5 6 7 8", "nan 2", "10 nan", "10 inf"])
def test_unparsable_coordinates_name_the_formats(text):
    with pytest.raises(InputError, match="coordinates"):
        parse_coordinates(text)


def test_lookup_agrees_with_astropy_everywhere_on_the_sphere():
    ra, dec = uniform_sky(3000, seed=4)
    ra = np.concatenate([ra, [0.0005, 359.9995, 45.0, 225.0, 10.0]])  # across RA = 0/360 and at both poles
    dec = np.concatenate([dec, [1.0, 1.0, 89.9999, 89.9998, -89.9999]])
    lookup = SkyLookup(ra, dec)
    rng = np.random.default_rng(5)
    q_ra = np.concatenate([rng.uniform(0, 360, 500), [359.9999, 0.0001, 135.0, 300.0, 190.0]])
    q_dec = np.concatenate([np.degrees(np.arcsin(rng.uniform(-1, 1, 500))), [1.0, 1.0, 89.99995, 89.9999, -89.9998]])
    positions, separations = lookup.nearest(q_ra, q_dec)
    index, separation, _ = SkyCoord(q_ra * u.deg, q_dec * u.deg).match_to_catalog_sky(SkyCoord(ra * u.deg, dec * u.deg))
    np.testing.assert_array_equal(positions, index)
    np.testing.assert_allclose(separations, separation.arcsec, rtol=1e-6, atol=1e-6)


def test_match_within_tolerance_or_name_the_nearest():
    lookup = SkyLookup(np.array([150.0, 150.01]), np.array([2.0, 2.0]))
    match = lookup.match(parse_coordinates("150.0003 2.0"), tolerance_arcsec=2.0)
    assert match.position == 0 and match.separation_arcsec == pytest.approx(1.08, abs=0.01)
    with pytest.raises(NoObjectNear, match=r"no object within 2″ .* nearest is position 1 at 3\.6"):
        lookup.match(parse_coordinates("150.011 2.0"), tolerance_arcsec=2.0)
