"""The MoCo v2 projection head.

MoCo v2 (Chen et al. 2020, "Improved Baselines with Momentum Contrastive Learning") replaces v1's
linear fc with "a 2-layer MLP head (hidden layer 2048-d, with ReLU)" and a 128-d output; the loss is
computed on the head's output while the representation used downstream is taken before it. As run for
DR9 and SDSS the hidden width equals the encoder width (Linear(2048, 2048)–ReLU–Linear(2048, 128)),
which is the default here. MoCo v3 adds BatchNorm and uses 4096/256; that is not this head.
"""

from __future__ import annotations

from torch import nn

__all__ = ["ProjectionHead"]


class ProjectionHead(nn.Sequential):
    """Linear(in_dim, hidden_dim)–ReLU–Linear(hidden_dim, out_dim); ``hidden_dim`` defaults to ``in_dim``.

    It is an ``nn.Sequential`` so its parameters are named ``0.*`` and ``2.*``, exactly the ``fc.0``/
    ``fc.2`` sub-keys of the MLP head in ``main_moco.py --mlp`` and lightning-bolts ``Moco_v2
    --use_mlp`` checkpoints, which therefore load into it without renaming.
    """

    def __init__(self, in_dim: int, hidden_dim: int | None = None, out_dim: int = 128) -> None:
        hidden = in_dim if hidden_dim is None else hidden_dim
        super().__init__(nn.Linear(in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim))
        self.in_dim = in_dim
        self.hidden_dim = hidden
        self.out_dim = out_dim
