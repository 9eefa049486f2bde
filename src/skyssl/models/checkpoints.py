"""Load encoder (and projection-head) weights from the published checkpoint layouts and from ours.

Four layouts (formats §3), told apart by their keys when ``layout="auto"``:

==========  ===========================================================================================
``hayat``   ``facebookresearch/moco`` ``main_moco.py`` under DDP — Hayat et al.'s
            ``pretrained_paper_model.pth.tar`` and fine-tuned models: ``module.encoder_q.*``; a full
            checkpoint also has ``module.encoder_k.*``, ``module.queue``, ``module.queue_ptr`` (ignored).
            With ``--mlp`` the head is ``encoder_q.fc.0`` / ``encoder_q.fc.2``.
``stein``   lightning-bolts ``Moco_v2`` ``.ckpt`` (Stein et al.): ``encoder_q.*``, ``encoder_k.*``,
            ``queue``, ``queue_ptr``, ``val_queue``, ``val_queue_ptr``; head ``encoder_q.fc.0/.2``.
``skyssl``  :class:`skyssl.models.moco.MoCo`: ``encoder_q.*``, ``head_q.*``, ``encoder_k.*``,
            ``head_k.*``, ``queue.keys``, ``queue.ptr`` — possibly under one prefix such as the
            attribute name in a LightningModule (``model.encoder_q.*``) or DDP's ``module.``.
``plain``   a bare encoder state dict (torchvision names), optionally under ``module.``.
==========  ===========================================================================================

The ``encoder_q`` weights load into a :mod:`skyssl.models.encoders` encoder, whose parameter names are
torchvision's. In the hayat, stein and plain layouts ``fc.*`` is the head: it is ignored, or loaded into
``head`` (a :class:`~skyssl.models.heads.ProjectionHead`, named ``0.*``/``2.*`` like ``fc.0``/``fc.2``)
when one is given. Loading is non-strict and reported; a checkpoint from which nothing loads, or whose
tensor shapes disagree with the encoder (another band count or depth), is an error. The stem's stride
is not stored in the weights: build Hayat encoders with ``small_stamp=True`` and Stein ones with
``small_stamp=False`` (a mismatch is warned about). Every load from a file records its SHA-256, which
embeddings carry as provenance (DESIGN: manifests record checksums).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from skyssl.errors import SkysslError

__all__ = ["LAYOUTS", "LoadReport", "file_sha256", "load_encoder_weights", "read_state_dict"]

LAYOUTS: tuple[str, ...] = ("auto", "hayat", "stein", "skyssl", "plain")
"""Values of ``layout`` accepted by :func:`load_encoder_weights`."""

_ENCODER = "encoder_q."
_HEAD_SKYSSL = "head_q."
_HEAD_FC = "fc."


@dataclass
class LoadReport:
    """What :func:`load_encoder_weights` did.

    ``missing``: model keys the checkpoint did not provide (head keys prefixed ``head.``);
    ``unexpected``: checkpoint keys in the encoder's (or head's) namespace the model has no place for;
    ``source_layout``: the layout used; ``sha256``: the file's checksum (None for an in-memory state
    dict); ``loaded``: model keys that received weights; ``ignored``: checkpoint keys outside the
    requested namespaces by design (key encoder, queue, an unrequested head).
    """

    missing: list[str]
    unexpected: list[str]
    source_layout: str
    sha256: str | None
    loaded: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_state_dict(
    path_or_state_dict: str | os.PathLike | Mapping, trusted: bool = False
) -> tuple[dict[str, torch.Tensor], str | None]:
    """(tensor state dict, sha256 or None) from a checkpoint file or an in-memory (checkpoint) mapping.

    Accepts a bare state dict or a container with a ``state_dict`` entry (``main_moco.py`` ``.pth.tar``,
    Lightning ``.ckpt``). Files are read with ``torch.load(weights_only=True)``, which cannot run code;
    a checkpoint that pickles other Python objects needs ``trusted=True`` — only for a trusted source.
    """
    sha256 = None
    if isinstance(path_or_state_dict, Mapping):
        container = path_or_state_dict
    else:
        path = Path(path_or_state_dict)
        if not path.is_file():
            raise SkysslError(f"checkpoint not found: {path}")
        sha256 = file_sha256(path)
        container = _torch_load(path, trusted)
    if not isinstance(container, Mapping):
        raise SkysslError(f"checkpoint holds a {type(container).__name__}, not a state dict")
    state = container.get("state_dict", container)
    if not isinstance(state, Mapping):
        raise SkysslError("checkpoint's 'state_dict' entry is not a mapping of tensors")
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        keys = ", ".join(sorted(map(str, container))[:8])
        raise SkysslError(f"checkpoint has no tensors and no 'state_dict' (top-level keys: {keys})")
    return tensors, sha256


def load_encoder_weights(
    path_or_state_dict: str | os.PathLike | Mapping,
    encoder: nn.Module,
    layout: str = "auto",
    head: nn.Module | None = None,
    trusted: bool = False,
) -> LoadReport:
    """Copy the checkpoint's query-encoder weights into ``encoder`` (and its head into ``head``), in place.

    ``layout`` is one of :data:`LAYOUTS`; ``"auto"`` detects it from the keys. See the module docstring
    for the layouts and :func:`read_state_dict` for ``trusted``. Returns a :class:`LoadReport`.
    """
    if layout not in LAYOUTS:
        raise SkysslError(f"unknown checkpoint layout {layout!r}; choose one of: {', '.join(LAYOUTS)}")
    state, sha256 = read_state_dict(path_or_state_dict, trusted)
    prefix, detected = _detect(state)
    source_layout = detected if layout == "auto" else layout
    _check_requested_layout(layout, detected, prefix)
    encoder_part, head_part, head_keys, ignored = _split(state, source_layout, prefix)
    _warn_stem_mismatch(encoder, source_layout)
    loaded, missing, unexpected = _load_into(encoder, encoder_part, "")
    if not loaded:
        raise SkysslError(
            f"no encoder weights loaded from the {source_layout!r} layout: the checkpoint keys "
            f"({_sample(encoder_part or state)}) match none of the encoder's ({_sample(encoder.state_dict())})"
        )
    if head is not None:
        head_loaded, head_missing, head_unexpected = _load_into(head, head_part, "head.")
        loaded += head_loaded
        missing += head_missing
        unexpected += head_unexpected
    else:
        ignored += head_keys
    return LoadReport(missing, unexpected, source_layout, sha256, loaded, sorted(ignored))


def _torch_load(path: Path, trusted: bool) -> object:
    try:
        return torch.load(path, map_location="cpu", weights_only=not trusted)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc):
            raise SkysslError(
                f"{path} pickles Python objects besides tensors; load it with trusted=True only if you "
                "trust its source (unpickling can run code)"
            ) from None
        raise SkysslError(f"{path} is not a readable PyTorch checkpoint") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise SkysslError(f"{path} is not a readable PyTorch checkpoint ({exc})") from None


def _detect(state: Mapping[str, torch.Tensor]) -> tuple[str, str]:
    """(prefix in front of the layout's keys, detected layout name)."""
    prefixes = {p for p in map(_prefix_of, state) if p is not None}
    if len(prefixes) > 1:
        raise SkysslError(f"checkpoint has query encoders under several prefixes: {sorted(prefixes)}")
    if prefixes:
        prefix = prefixes.pop()
        if any(k.startswith((prefix + _HEAD_SKYSSL, prefix + "queue.keys")) for k in state):
            return prefix, "skyssl"
        return prefix, ("hayat" if prefix == "module." else "stein")
    prefix = "module." if all(k.startswith("module.") for k in state) else ""
    return prefix, "plain"


def _prefix_of(key: str) -> str | None:
    """The text before the first ``encoder_q.`` component of ``key``, or None if there is none."""
    at = key.find(_ENCODER)
    while at > 0 and key[at - 1] != ".":
        at = key.find(_ENCODER, at + 1)
    return None if at < 0 else key[:at]


def _check_requested_layout(layout: str, detected: str, prefix: str) -> None:
    """An explicit layout must be compatible with the keys: MoCo layouts need an ``encoder_q`` namespace."""
    if layout in ("auto", detected):
        return
    moco_layouts = ("hayat", "stein", "skyssl")
    if (layout in moco_layouts) != (detected in moco_layouts):
        raise SkysslError(
            f"checkpoint keys look like the {detected!r} layout, not {layout!r}"
            + (f" (query encoder under {prefix + _ENCODER!r})" if detected in moco_layouts else "")
        )


def _split(
    state: Mapping[str, torch.Tensor], layout: str, prefix: str
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], list[str], list[str]]:
    """(encoder tensors, head tensors, the head's original keys, ignored keys); tensor names lose the
    layout's prefixes."""
    encoder_ns = prefix if layout == "plain" else prefix + _ENCODER
    head_ns = prefix + _HEAD_SKYSSL if layout == "skyssl" else None
    encoder_part: dict[str, torch.Tensor] = {}
    head_part: dict[str, torch.Tensor] = {}
    head_keys: list[str] = []
    ignored: list[str] = []
    for key, tensor in state.items():
        if head_ns is not None and key.startswith(head_ns):
            head_part[key[len(head_ns) :]] = tensor
            head_keys.append(key)
        elif key.startswith(encoder_ns):
            name = key[len(encoder_ns) :]
            if head_ns is None and name.startswith(_HEAD_FC):
                head_part[name[len(_HEAD_FC) :]] = tensor
                head_keys.append(key)
            else:
                encoder_part[name] = tensor
        else:
            ignored.append(key)
    return encoder_part, head_part, head_keys, ignored


def _load_into(
    module: nn.Module, tensors: Mapping[str, torch.Tensor], label: str
) -> tuple[list[str], list[str], list[str]]:
    """Non-strict load after a shape check; (loaded, missing, unexpected) keys, each prefixed by ``label``."""
    own = module.state_dict()
    mismatched = [
        f"{label}{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in tensors.items()
        if k in own and v.shape != own[k].shape
    ]
    if mismatched:
        raise SkysslError(
            f"checkpoint shapes do not fit the model (another band count, depth or head width?): "
            f"{'; '.join(mismatched[:3])}"
            + (f" and {len(mismatched) - 3} more" if len(mismatched) > 3 else "")
        )
    result = module.load_state_dict(dict(tensors), strict=False)
    loaded = [label + k for k in own if k in tensors]
    return loaded, [label + k for k in result.missing_keys], [label + k for k in result.unexpected_keys]


def _warn_stem_mismatch(encoder: nn.Module, layout: str) -> None:
    small_stamp = getattr(encoder, "small_stamp", None)
    expected = {"hayat": True, "stein": False}.get(layout)
    if small_stamp is None or expected is None or small_stamp == expected:
        return
    warnings.warn(
        f"{layout!r} checkpoints were trained with small_stamp={expected} but the encoder has "
        f"small_stamp={small_stamp}; the weights load, the stem stride differs from training",
        RuntimeWarning,
        stacklevel=3,
    )


def _sample(keys: Mapping[str, object], n: int = 3) -> str:
    names = list(keys)[:n]
    return ", ".join(names) + (", …" if len(keys) > n else "")
