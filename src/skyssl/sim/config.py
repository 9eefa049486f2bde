"""What a simulation run is: survey, size, seed, lens rate and image dtype, validated up front."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from skyssl import surveys
from skyssl.errors import SkysslError

LENS_RATE_PRESETS = {"realistic": 1e-4, "enriched": 1e-3, "eval": 1e-2}
PRESET_SURVEYS = {"legacy": "legacy-dr9-south", "legacy-north": "legacy-dr9-north", "sdss": "sdss"}
# The magnitude cut that defines each survey's main sample: DR9 z < 20 (Stein et al.'s search set),
# SDSS r < 17.77 (the spectroscopic main galaxy sample of Hayat et al.).
SAMPLE_CUTS = {"legacy-dr9-south": ("z", 20.0), "legacy-dr9-north": ("z", 20.0), "sdss": ("r", 17.77)}


class SimConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    survey: str
    n_objects: int = Field(gt=0)
    seed: int = Field(ge=0, lt=2**20)
    lens_rate: float = Field(ge=0.0, le=0.5)
    image_dtype: str = "float32"

    @field_validator("survey")
    @classmethod
    def _known_survey(cls, value: str) -> str:
        return surveys.get(PRESET_SURVEYS.get(value, value)).name

    @field_validator("image_dtype")
    @classmethod
    def _dtype(cls, value: str) -> str:
        if value not in ("float32", "float16"):
            raise ValueError("image dtype must be float32 or float16")
        return value


def parse_lens_rate(text: str) -> float:
    """A number in [0, 0.5] or a preset name: realistic (1e-4), enriched (1e-3), eval (1e-2)."""
    if text in LENS_RATE_PRESETS:
        return LENS_RATE_PRESETS[text]
    try:
        value = float(text)
    except ValueError:
        raise SkysslError(f"--lens-rate {text!r} is neither a number nor one of {', '.join(LENS_RATE_PRESETS)}") from None
    if not 0.0 <= value <= 0.5:
        raise SkysslError(f"--lens-rate must be within [0, 0.5], got {value}")
    return value
