"""Coordinates: parse what a user types, and find the catalogue object nearest to a position.

Parsing goes through astropy's SkyCoord (DESIGN: conventions): two plain numbers are degrees
("150.1 2.2"); anything else is sexagesimal with RA in hours ("10h00m24s +02d12m00s",
"10:00:24 +02:12:00", "10 00 24 +02 12 00") unless it says d/°. The sign of the declination belongs
to the whole value, so "-00:30:00" is −0.5° — the authors' app lost it (bug 21: `DD/abs(DD)` divides
by zero at −00); the typographic minus "−" is accepted as well.

Lookups use a KD-tree on unit vectors (never a linear scan per query): the chord between unit vectors
is monotonic in the angle, so the nearest chord is the nearest object everywhere on the sphere,
including the poles and across RA = 0/360.
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from scipy.spatial import cKDTree

from skyssl.errors import InputError

ARCSEC_PER_RAD = 180.0 / np.pi * 3600.0
FORMATS_HINT = "expected 'RA DEC' in degrees ('150.1 2.2') or sexagesimal ('10:00:24 +02:12:00', '10h00m24s +02d12m00s')"
MINUS_SIGNS = ("\u2212", "\u2013", "\u2012")


def _plain_degrees(tokens: list[str]) -> tuple[float, float] | None:
    if len(tokens) != 2:
        return None
    try:
        return float(tokens[0]), float(tokens[1])
    except ValueError:
        return None


def parse_coordinates(text: str) -> SkyCoord:
    """ICRS SkyCoord from 'RA DEC' in degrees or sexagesimal; :class:`InputError` with the formats otherwise."""
    cleaned = str(text).strip()
    for minus in MINUS_SIGNS:
        cleaned = cleaned.replace(minus, "-")
    tokens = cleaned.replace(",", " ").split()
    degrees = _plain_degrees(tokens)
    try:
        if degrees is not None:
            ra_deg, dec_deg = degrees
            if not (np.isfinite(ra_deg) and 0.0 <= ra_deg < 360.0):
                raise InputError(f"cannot use coordinates {text!r}: RA {ra_deg} is outside [0, 360) degrees")
            if not np.isfinite(dec_deg):
                raise InputError(f"cannot use coordinates {text!r}: Dec {dec_deg} is not a finite angle")
            coord = SkyCoord(ra_deg * u.deg, dec_deg * u.deg, frame="icrs")
        else:
            coord = SkyCoord(" ".join(tokens), unit=(u.hourangle, u.deg), frame="icrs")
    except InputError:
        raise
    except Exception:  # astropy raises ValueError, UnitsError, TypeError… depending on what is wrong
        raise InputError(f"cannot parse coordinates {text!r}: {FORMATS_HINT}") from None
    if not coord.isscalar:
        raise InputError(f"cannot parse coordinates {text!r}: {FORMATS_HINT}")
    return coord


def unit_vectors(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """(n, 3) Cartesian unit vectors of ICRS positions in degrees."""
    ra, dec = np.radians(np.asarray(ra_deg, np.float64)), np.radians(np.asarray(dec_deg, np.float64))
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def chord_to_arcsec(chord: np.ndarray) -> np.ndarray:
    """Angle subtended by a chord between unit vectors (exact at all separations)."""
    return 2.0 * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0)) * ARCSEC_PER_RAD


def arcsec_to_chord(separation_arcsec: float) -> float:
    return float(2.0 * np.sin(min(separation_arcsec / ARCSEC_PER_RAD, np.pi) / 2.0))


@dataclass(frozen=True)
class Match:
    """The catalogue position nearest to a sky position and how far away it is."""

    position: int
    separation_arcsec: float


class SkyLookup:
    """Nearest-object and within-radius queries over a catalogue's positions (a KD-tree, built once)."""

    def __init__(self, ra_deg: np.ndarray, dec_deg: np.ndarray):
        self.xyz = unit_vectors(ra_deg, dec_deg)
        self.tree = cKDTree(self.xyz)

    def nearest(self, ra_deg: float | np.ndarray, dec_deg: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions, separations in arcsec) of the nearest catalogue object to each given position."""
        chord, index = self.tree.query(unit_vectors(np.atleast_1d(ra_deg), np.atleast_1d(dec_deg)), k=1)
        return np.asarray(index, np.int64), chord_to_arcsec(chord)

    def match(self, coord: SkyCoord, tolerance_arcsec: float = 2.0) -> Match:
        """The object within `tolerance_arcsec` of `coord`; :class:`InputError` naming the nearest otherwise."""
        positions, separations = self.nearest(coord.ra.deg, coord.dec.deg)
        match = Match(int(positions[0]), float(separations[0]))
        if match.separation_arcsec > tolerance_arcsec:
            raise NoObjectNear(coord, match, tolerance_arcsec)
        return match

    def within(self, position_xyz: np.ndarray, radius_arcsec: float) -> list[int]:
        """Catalogue positions within `radius_arcsec` of a unit vector."""
        return list(self.tree.query_ball_point(position_xyz, arcsec_to_chord(radius_arcsec)))


class NoObjectNear(InputError):
    """No object within the tolerance; the message names the nearest one (filled in by the caller's ids)."""

    def __init__(self, coord: SkyCoord, match: Match, tolerance_arcsec: float, object_id: int | None = None):
        self.coord, self.match, self.tolerance_arcsec = coord, match, tolerance_arcsec
        nearest = f"object {object_id}" if object_id is not None else f"position {match.position}"
        super().__init__(
            f"no object within {tolerance_arcsec:g}\u2033 of RA {coord.ra.deg:.6f}, Dec {coord.dec.deg:+.6f}; "
            f"the nearest is {nearest} at {_format_separation(match.separation_arcsec)}"
        )

    def with_object_id(self, object_id: int) -> NoObjectNear:
        return NoObjectNear(self.coord, self.match, self.tolerance_arcsec, object_id)


def _format_separation(separation_arcsec: float) -> str:
    if separation_arcsec < 60:
        return f"{separation_arcsec:.2f}\u2033"
    if separation_arcsec < 3600:
        return f"{separation_arcsec / 60:.2f}\u2032"
    return f"{separation_arcsec / 3600:.3f}\u00b0"
