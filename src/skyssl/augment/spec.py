"""The augmentation spec: the authors' two-letter grammar and the validated configuration around it.

Stein et al. describe a DR9 augmentation chain as a string of two-letter codes, e.g. the training
default ``grrrssgbjcgnrg`` (reDDening, Random Rotate, Size Scale, Gaussian Blur, Jitter Crop, Gaussian
Noise, ToRGB). :func:`parse_spec` reads that grammar; :class:`AugmentConfig` carries the codes plus
every choice the authors' code made implicitly (where E_old and σ_true come from, how σ_final and E_new
are drawn, the one-axis size-scale bug, the input stretch), so that a run's resolved config says exactly
which views it trained on.

Two profiles name complete sets of those choices:

- ``default`` — the physically corrected form: E_old and σ_true from the object's own catalogue
  (``ebv``, ``psfsize``, ``psfdepth``), E_new and σ_final from the survey priors, isotropic size scale,
  reflection padding, an asinh input stretch, and differential noise that accounts for the noise the
  view already lost to reddening and blur.
- ``paper_faithful`` — the published DR9 behaviour (known-bugs table rows 1, 3–8 of the reference):
  uniform E_new ∈ [0, 1] and uniform σ_final, random E_old and σ_true, the one-axis size scale with its
  crop-centre offset, zero padding, and the legacy linear-clip ToRGB input.

A profile fills only the fields not given explicitly (the spec included: ``AugmentConfig(profile=
"paper_faithful")`` runs ``grrrssgbjcgnrg``), so ``AugmentConfig.paper_faithful(sigma_true="catalog")``
is the published chain with one bug fixed. The input stretch follows the spec: ``rg`` means the legacy
ToRGB, so ``from_spec("grrrssgbjcgn", profile="paper_faithful")`` is the published sampling with the
asinh input.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from skyssl.errors import SkysslError

CODES: dict[str, str] = {
    "gr": "reddening",
    "rr": "random flips + rotation",
    "ss": "size scale",
    "gb": "gaussian blur (differential PSF)",
    "jc": "jitter + crop",
    "cc": "centre crop",
    "gn": "gaussian noise (differential)",
    "rg": "legacy ToRGB input stretch",
}
CROP_CODES = ("jc", "cc")
ORDER_SLOTS: tuple[tuple[str, ...], ...] = (("gr",), ("rr",), ("ss",), ("gb",), CROP_CODES, ("gn",), ("rg",))
"""The one order every spec follows (the papers' order); the pipeline runs the ops in this order."""

DEFAULT_SPEC = "grrrssgbjcgn"
PAPER_FAITHFUL_SPEC = "grrrssgbjcgnrg"
EVAL_SPEC = "cc"

PROFILE_SPECS = {"default": DEFAULT_SPEC, "paper_faithful": PAPER_FAITHFUL_SPEC}
"""The chain a profile runs when no spec is given."""
PROFILE_FIELDS: dict[str, dict[str, Any]] = {
    "default": {
        "ebv_new": "prior", "ebv_old": "catalog", "sigma_true": "catalog", "sigma_final": "prior",
        "size_scale_mode": "isotropic", "padding": "reflection", "track_noise_true": True,
    },
    "paper_faithful": {
        "ebv_new": "uniform", "ebv_old": "random", "sigma_true": "random", "sigma_final": "uniform",
        "size_scale_mode": "one_axis_legacy", "padding": "zeros", "track_noise_true": False,
    },
}


class SpecError(SkysslError, ValueError):
    """A malformed augmentation spec or config: one line, caught by the CLI like any user error."""


def _slot(code: str) -> int:
    return next(i for i, codes in enumerate(ORDER_SLOTS) if code in codes)


def parse_spec(text: str) -> tuple[str, ...]:
    """'grrrssgbjcgn' → ('gr', 'rr', 'ss', 'gb', 'jc', 'gn'), validated.

    Rules: two-letter known codes, each at most once, exactly one crop (``jc`` or ``cc``: every view
    has the crop size), and the papers' order gr → rr → ss → gb → jc|cc → gn → rg. The order is
    enforced rather than followed because the pipeline fuses the geometric ops into one resample and
    always runs them in that order; accepting another order would silently run something else. Noise
    must follow the crop (the authors' noise op is defined on the cropped view) and ``rg`` comes last.
    """
    if not isinstance(text, str):
        raise SpecError(f"an augmentation spec is a string of two-letter codes, not {type(text).__name__}")
    spec = text.strip()
    if not spec:
        raise SpecError("augmentation spec is empty; the smallest is 'cc' (centre crop)")
    if len(spec) % 2:
        raise SpecError(f"augmentation spec {spec!r} has odd length {len(spec)}; codes are two letters each")
    codes = tuple(spec[i : i + 2] for i in range(0, len(spec), 2))
    for position, code in enumerate(codes):
        if code not in CODES:
            known = ", ".join(f"{c} ({name})" for c, name in CODES.items())
            raise SpecError(f"unknown augmentation code {code!r} at position {2 * position} of {spec!r}; "
                            f"known: {known}")
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise SpecError(f"augmentation code {code!r} appears twice in {spec!r}")
        seen.add(code)
    crops = [c for c in codes if c in CROP_CODES]
    if len(crops) > 1:
        raise SpecError(f"{spec!r} has both 'jc' and 'cc'; a view is cropped once")
    if not crops:
        raise SpecError(f"{spec!r} has no crop; add 'jc' (jitter + crop) or 'cc' (centre crop)")
    if "gn" in codes and codes.index("gn") < codes.index(crops[0]):
        raise SpecError(f"in {spec!r} 'gn' comes before {crops[0]!r}; noise is added on the cropped view")
    for before, after in pairwise(codes):
        if _slot(after) < _slot(before):
            order = " → ".join("|".join(s) for s in ORDER_SLOTS)
            raise SpecError(f"in {spec!r} {after!r} comes after {before!r}; codes follow the order {order}")
    return codes


def _one_line(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "config"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "invalid augmentation config: " + "; ".join(parts)


class AugmentConfig(BaseModel):
    """Every choice that defines the augmented views (frozen; unknown fields are an error).

    ``ops`` are the spec codes (a spec string is accepted and parsed). ``crop_px`` None means the
    survey's crop size. ``rg`` in ``ops`` and ``input_stretch == "legacy_torgb"`` mean the same thing
    and are kept in step; ``asinh_scale_nmgy`` None means the survey's median pixel noise per band.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    ops: tuple[str, ...] = Field(default_factory=lambda: parse_spec(DEFAULT_SPEC))  # or the profile's spec
    crop_px: int | None = Field(default=None, ge=8)
    jitter_px: int = Field(default=7, ge=0)
    scale_range: tuple[float, float] = (0.9, 1.1)
    ebv_new: Literal["prior", "uniform"] = "prior"
    ebv_uniform_max_mag: float = Field(default=1.0, gt=0.0)
    ebv_old: Literal["catalog", "random"] = "catalog"
    sigma_true: Literal["catalog", "random"] = "catalog"
    sigma_final: Literal["prior", "uniform"] = "prior"
    size_scale_mode: Literal["isotropic", "one_axis_legacy"] = "isotropic"
    padding: Literal["reflection", "zeros"] = "reflection"
    track_noise_true: bool = True
    input_stretch: Literal["asinh", "legacy_torgb", "none"] = "asinh"
    asinh_scale_nmgy: tuple[float, ...] | None = None
    profile: Literal["default", "paper_faithful"] = "default"

    @model_validator(mode="before")
    @classmethod
    def _fill_profile_and_stretch(cls, data: Any) -> Any:
        """Profile defaults for fields not given; keep ``rg`` and ``input_stretch`` in step."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        profile = data.get("profile", "default")
        ops = data.get("ops", PROFILE_SPECS.get(profile, DEFAULT_SPEC))
        data["ops"] = parse_spec(ops) if isinstance(ops, str) else parse_spec("".join(ops))
        for name, value in PROFILE_FIELDS.get(profile, {}).items():
            data.setdefault(name, value)
        has_rg = "rg" in data["ops"]
        stretch = data.get("input_stretch")
        if has_rg and stretch is None:
            data["input_stretch"] = "legacy_torgb"
        elif has_rg and stretch != "legacy_torgb":
            raise ValueError(f"'rg' in the spec is the legacy ToRGB input; it contradicts input_stretch={stretch!r}")
        elif stretch == "legacy_torgb" and not has_rg:
            data["ops"] = (*data["ops"], "rg")
        return data

    @field_validator("scale_range")
    @classmethod
    def _scale_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not 0.0 < low <= high:
            raise ValueError(f"scale_range must satisfy 0 < low ≤ high, not {value}")
        return value

    @field_validator("asinh_scale_nmgy")
    @classmethod
    def _positive_scales(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is not None and (not value or min(value) <= 0.0):
            raise ValueError("asinh_scale_nmgy must be positive, one value per band")
        return value

    @classmethod
    def from_spec(cls, spec: str, **overrides: Any) -> AugmentConfig:
        """A config from a spec string plus field overrides; any problem is one :class:`SpecError` line."""
        ops = parse_spec(spec)
        try:
            return cls(ops=ops, **overrides)
        except ValidationError as exc:
            raise SpecError(_one_line(exc)) from None

    @classmethod
    def paper_faithful(cls, **overrides: Any) -> AugmentConfig:
        """The published DR9 chain ``grrrssgbjcgnrg`` with the behaviour the released code had."""
        overrides["profile"] = "paper_faithful"
        return cls.from_spec(overrides.pop("spec", PAPER_FAITHFUL_SPEC), **overrides)

    def to_spec(self) -> str:
        """The two-letter spec string of ``ops`` (sampling choices live in the other fields)."""
        return "".join(self.ops)

    def has(self, code: str) -> bool:
        """Whether the op with this code is in the chain."""
        return code in self.ops
