"""Survey descriptions: one module per survey, registered here by name.

>>> from skyssl import surveys
>>> surveys.get("legacy-dr9-south").bands
('g', 'r', 'z')
"""

from __future__ import annotations

from skyssl.errors import SkysslError
from skyssl.surveys import legacy_dr9_north, legacy_dr9_south, sdss
from skyssl.surveys.base import ZERO_POINT_MAG, DisplayBand, Survey

_REGISTRY: dict[str, Survey] = {s.SURVEY.name: s.SURVEY for s in (legacy_dr9_south, legacy_dr9_north, sdss)}
_ALIASES = {"legacy": "legacy-dr9-south", "dr9": "legacy-dr9-south", "legacy-south": "legacy-dr9-south",
            "legacy-north": "legacy-dr9-north"}

__all__ = ["ZERO_POINT_MAG", "DisplayBand", "Survey", "by_bands", "get", "names"]


def names() -> list[str]:
    return sorted(_REGISTRY)


def get(name: str) -> Survey:
    """The survey called `name` (or a short alias such as ``legacy``)."""
    key = _ALIASES.get(name, name)
    if key not in _REGISTRY:
        raise SkysslError(f"unknown survey {name!r}; known: {', '.join(names())}")
    return _REGISTRY[key]


def by_bands(bands: tuple[str, ...] | list[str]) -> Survey:
    """The first registered survey with exactly this band list (south before north for g, r, z)."""
    for survey in _REGISTRY.values():
        if tuple(bands) == survey.bands:
            return survey
    raise SkysslError(f"unknown band set {','.join(bands)}; known: "
                      + "; ".join(f"{s.name} ({','.join(s.bands)})" for s in _REGISTRY.values()))
