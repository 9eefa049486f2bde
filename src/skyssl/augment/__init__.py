"""Survey-physics augmentations: pure, batched, device-agnostic torch functions and a pipeline.

Kernels (each a pure function of tensors, units in the argument names):
:func:`redden`, :func:`affine_views`, :func:`blur_differential`, :func:`add_noise_differential`,
:func:`asinh_stretch`, :func:`legacy_torgb`. The spec grammar and config live in
:mod:`skyssl.augment.spec`, the prior samplers and catalogue conversions in
:mod:`skyssl.augment.conditions`, and :class:`AugmentPipeline` chains them in the papers' order.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "blur_differential": "blur", "redden": "extinction", "affine_views": "geometry", "centre_crop": "geometry",
    "add_noise_differential": "noise", "AugmentPipeline": "pipeline", "DEFAULT_SPEC": "spec", "EVAL_SPEC": "spec",
    "PAPER_FAITHFUL_SPEC": "spec", "AugmentConfig": "spec", "SpecError": "spec", "parse_spec": "spec",
    "asinh_stretch": "stretch", "legacy_torgb": "stretch",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    """Load a name's module on first use: the spec grammar is needed without torch (the CLI's help)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
