"""Survey-physics augmentations: pure, batched, device-agnostic torch functions and a pipeline.

Kernels (each a pure function of tensors, units in the argument names):
:func:`redden`, :func:`affine_views`, :func:`blur_differential`, :func:`add_noise_differential`,
:func:`asinh_stretch`, :func:`legacy_torgb`. The spec grammar and config live in
:mod:`skyssl.augment.spec`, the prior samplers and catalogue conversions in
:mod:`skyssl.augment.conditions`, and :class:`AugmentPipeline` chains them in the papers' order.
"""

from skyssl.augment.blur import blur_differential
from skyssl.augment.extinction import redden
from skyssl.augment.geometry import affine_views, centre_crop
from skyssl.augment.noise import add_noise_differential
from skyssl.augment.pipeline import AugmentPipeline
from skyssl.augment.spec import (
    DEFAULT_SPEC,
    EVAL_SPEC,
    PAPER_FAITHFUL_SPEC,
    AugmentConfig,
    SpecError,
    parse_spec,
)
from skyssl.augment.stretch import asinh_stretch, legacy_torgb

__all__ = [
    "DEFAULT_SPEC", "EVAL_SPEC", "PAPER_FAITHFUL_SPEC", "AugmentConfig", "AugmentPipeline", "SpecError",
    "add_noise_differential", "affine_views", "asinh_stretch", "blur_differential", "centre_crop",
    "legacy_torgb", "parse_spec", "redden",
]
