"""What a pretraining run is: a YAML file validated into a frozen :class:`PretrainConfig` before any work.

Every knob of a MoCo v2 run sits here so that a run dir's `config.yaml` alone reproduces it. Defaults
are the MoCo v2 reference recipe (K 65,536, m 0.999, τ 0.2, lr 0.03 per 256 samples, cosine, 128-d MLP
head; formats-and-augmentations §6.2); the shipped files in `configs/` set every field explicitly.
A bad file fails with one :class:`~skyssl.errors.SkysslError` line naming the field, before a store is
opened or a model is built.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from skyssl import surveys
from skyssl.errors import SkysslError

EncoderName = Literal["resnet50", "resnet34", "resnet18", "small"]
ShuffleMode = Literal["auto", "ddp", "split_bn", "none"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ModelSection(_Section):
    """The backbone and the MoCo v2 projection head."""

    encoder: EncoderName = "resnet50"
    small_stamp: bool = True
    emb_dim: int = Field(128, ge=1)
    head_hidden_dim: int | None = Field(None, ge=1)  # None: the encoder width, as MoCo v2 and the papers


class MocoSection(_Section):
    """Queue, key-encoder momentum, temperature and how BatchNorm is kept from cheating.

    `shuffle: auto` resolves to `ddp` (shuffle-BN across ranks) when the run has more than one process,
    else `split_bn` (the key batch permuted and every BatchNorm split into `bn_splits` sub-batches):
    one device with neither lets queries and keys share batch statistics (formats §6.2).
    `bn_splits` also applies with `shuffle: none`, which reproduces a DDP run's BatchNorm groups on
    one process without permuting keys.
    """

    queue_size: int = Field(65536, ge=1)
    momentum: float = Field(0.999, ge=0.0, lt=1.0)
    temperature: float = Field(0.2, gt=0.0)
    shuffle: ShuffleMode = "auto"
    bn_splits: int | None = Field(None, ge=1)  # None: 8 when split_bn is in use, else no splitting

    def resolve_shuffle(self, world_size: int) -> str:
        """The MoCo shuffle mode for a run of `world_size` processes."""
        if self.shuffle == "auto":
            return "ddp" if world_size > 1 else "split_bn"
        return self.shuffle

    def resolve_bn_splits(self, world_size: int) -> int:
        """How many sub-batches each BatchNorm normalises separately (1 = ordinary BatchNorm)."""
        if self.bn_splits is not None:
            return self.bn_splits
        return 8 if self.resolve_shuffle(world_size) == "split_bn" else 1


class AugmentSection(_Section):
    """The augmentation chain, as a spec string of :mod:`skyssl.augment` plus keyword overrides."""

    spec: str = "default"
    overrides: dict[str, Any] = Field(default_factory=dict)

    def build(self):
        """The :class:`skyssl.augment.spec.AugmentConfig` this section describes."""
        from skyssl.augment.spec import AugmentConfig  # the augment layer loads only when a run needs it

        return AugmentConfig.from_spec(self.spec, **self.overrides)


class OptimSection(_Section):
    """SGD with a learning rate per 256 samples, scaled linearly with the global batch, warm-up, cosine."""

    lr_per_256: float = Field(0.03, gt=0.0)
    momentum: float = Field(0.9, ge=0.0, lt=1.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    warmup_steps: int | None = Field(None, ge=0)
    warmup_epochs: float = Field(0.0, ge=0.0)
    schedule: Literal["cosine", "constant"] = "cosine"
    final_lr_fraction: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_warmup(self) -> OptimSection:
        if self.warmup_steps is not None and self.warmup_epochs:
            raise ValueError("give warmup_steps or warmup_epochs, not both")
        return self


class MonitorSection(_Section):
    """The label-free monitor: objects held out of training, retrieved from an augmented copy."""

    every_n_steps: int = Field(500, ge=0)  # 0 switches the monitor off
    held_out_fraction: float = Field(0.05, ge=0.0, lt=1.0)
    held_out_max: int = Field(1024, ge=0)
    batch_size: int = Field(256, ge=1)

    def n_held_out(self, n_objects: int) -> int:
        """Objects kept out of training: the fraction, capped; none when the monitor is off."""
        if self.every_n_steps == 0:
            return 0
        return min(self.held_out_max, int(self.held_out_fraction * n_objects))


class PretrainConfig(_Section):
    """A whole pretraining run. Hardware fields are defaults that the CLI flags override."""

    model: ModelSection = Field(default_factory=ModelSection)
    moco: MocoSection = Field(default_factory=MocoSection)
    augment: AugmentSection = Field(default_factory=AugmentSection)
    optim: OptimSection = Field(default_factory=OptimSection)
    monitor: MonitorSection = Field(default_factory=MonitorSection)
    survey: str | None = None  # when set, a store of another survey is refused
    batch_size: int = Field(256, ge=2)  # per device
    max_epochs: int | None = Field(200, ge=1)
    max_steps: int | None = Field(None, ge=1)
    precision: Literal["32", "bf16-mixed"] = "32"
    channels_last: bool = False
    compile: bool = False
    num_workers: int = Field(4, ge=0)
    block_rows: int = Field(1, ge=1)
    seed: int = Field(0, ge=0, lt=2**31)
    log_every_n_steps: int = Field(50, ge=1)
    checkpoint_every_n_steps: int = Field(1000, ge=1)
    keep_checkpoints: int = Field(1, ge=0, le=20)
    accelerator: Literal["auto", "cpu", "gpu", "cuda", "mps"] = "auto"
    devices: int | Literal["auto"] = "auto"
    num_nodes: int = Field(1, ge=1)
    strategy: Literal["auto", "ddp"] = "auto"

    @field_validator("precision", mode="before")
    @classmethod
    def _precision_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value  # YAML reads `precision: 32` as an int

    @field_validator("survey")
    @classmethod
    def _known_survey(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return surveys.get(value).name
        except SkysslError as exc:  # pydantic reports ValueErrors with the field's name
            raise ValueError(str(exc)) from None

    @field_validator("devices")
    @classmethod
    def _positive_devices(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("devices must be a positive integer or 'auto'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PretrainConfig:
        if self.max_epochs is None and self.max_steps is None:
            raise ValueError("set max_epochs, max_steps or both")
        splits = self.moco.bn_splits or (8 if self.moco.shuffle in ("auto", "split_bn") else 1)
        if self.batch_size % splits:
            raise ValueError(f"batch_size {self.batch_size} is not a multiple of the {splits} BatchNorm splits "
                             "(moco.bn_splits; split_bn defaults to 8)")
        return self

    def augment_config(self):
        """The validated :class:`~skyssl.augment.spec.AugmentConfig` of this run."""
        return self.augment.build()

    def to_yaml(self) -> str:
        """The resolved config as YAML, every field present, in declaration order."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _first_error(exc: ValidationError) -> str:
    """One line for the first pydantic error: the dotted field, the message and the bad input."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "config"
    message = err["msg"].removeprefix("Value error, ")
    shown = "" if err["type"] in ("missing", "value_error") else f" (got {err.get('input')!r})"
    return f"{where}: {message}{shown}".replace("\n", " ")


def config_from_dict(data: Any, source: str = "config") -> PretrainConfig:
    """Validate a mapping (parsed YAML) into a :class:`PretrainConfig`, augmentations included."""
    if not isinstance(data, dict):
        raise SkysslError(f"{source}: a pretraining config is a YAML mapping, got {type(data).__name__}")
    try:
        config = PretrainConfig.model_validate(data)
    except ValidationError as exc:
        raise SkysslError(f"{source}: {_first_error(exc)}") from None
    try:
        config.augment_config()
    except ValidationError as exc:
        raise SkysslError(f"{source}: augment: {_first_error(exc)}") from None
    except (SkysslError, ValueError, TypeError, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise SkysslError(f"{source}: augment: {reason}") from None
    return config


def load_config(path: str | Path) -> PretrainConfig:
    """Read and validate a YAML pretraining config; every problem is a one-line SkysslError."""
    path = Path(path)
    if not path.is_file():
        raise SkysslError(f"{path}: no such config file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SkysslError(f"{path}: not valid YAML{where}") from None
    return config_from_dict(data, str(path))
