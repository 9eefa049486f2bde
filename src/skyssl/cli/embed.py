"""`skyssl embed`: a trained run and a store in, an Embeddings artefact out (sharded, resumable).

A killed or failed run is resumed by running the same command again: finished shards are kept and
only the missing ones are computed (the output is byte-identical to an uninterrupted run).

Several GPUs or nodes: start one process per GPU with torchrun or srun, as for `skyssl pretrain`;
each embeds its own contiguous range of shards and rank 0 writes the manifest. Every process must see
the store, the run dir and --out at the same paths; the progress bar shows rank 0's share::

    torchrun --nproc_per_node 4 -m skyssl.cli.main embed --checkpoint RUN --data STORE --out EMB
    srun --ntasks-per-node 4 --gpus-per-node 4 python -m skyssl.cli.main embed --checkpoint RUN ...
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.cli.progress import progress_bar
from skyssl.errors import SkysslError

DTYPES = ("float16", "float32")


@app.command()
def embed(
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Run dir of `skyssl pretrain` (config.yaml + last.ckpt)."),
    data: Path = typer.Option(..., "--data", help="Store to embed (every row)."),
    out: Path = typer.Option(..., "--out", help="Embeddings folder to write (a rerun of the same command resumes)."),
    batch_size: int = typer.Option(256, "--batch-size", help="Stamps per forward pass."),
    dtype: str = typer.Option("float16", "--dtype", help="Vector storage: float16 or float32."),
    projection: bool = typer.Option(False, "--projection", help="Also store the 128-d normalised projection."),
    rows_per_shard: int = typer.Option(65536, "--rows-per-shard", help="Rows per shard file (the unit of resume)."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present), cpu, cuda or cuda:N."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing embeddings folder at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the embeddings manifest as JSON."),
) -> None:
    """Backbone (and optionally projection) vectors of every object's centre view, keyed by object_id."""
    if dtype not in DTYPES:
        raise SkysslError(f"--dtype must be float16 or float32, not {dtype!r}")
    if batch_size < 1:
        raise SkysslError(f"--batch-size must be at least 1, got {batch_size}")
    if rows_per_shard < 1:
        raise SkysslError(f"--rows-per-shard must be at least 1, got {rows_per_shard}")
    from skyssl.embed.extract import embed_store
    from skyssl.embed.model import load_run
    from skyssl.embed.ranks import ranks_from_environment
    from skyssl.embed.reader import Embeddings

    ranks = ranks_from_environment()
    encoder = load_run(checkpoint, device=ranks.device() if ranks.world_size > 1 and device == "auto" else device)
    advance: list = []  # the progress bar's advance(n), once this rank knows how many rows it has to do

    with ExitStack() as stack:
        def start(todo: int, done: int) -> None:
            if ranks.rank == 0 and todo:
                label = f"embedding ({done} rows already done)" if done else "embedding"
                advance.append(stack.enter_context(progress_bar(todo, label)))

        path = embed_store(encoder, data, out, batch_size=batch_size, dtype=dtype, projection=projection,
                           rows_per_shard=rows_per_shard, overwrite=overwrite, ranks=ranks, on_start=start,
                           on_rows=lambda n: advance and advance[0](n))
    if path is None:
        return
    with Embeddings.open(path) as emb:
        manifest, n, dims = emb.manifest, emb.n_objects, emb.dims
    if as_json:
        print(json.dumps(manifest, indent=2))
        return
    widths = ", ".join(f"{kind} {dim}-d" for kind, dim in dims.items())
    print(f"{n} objects embedded ({widths}, {dtype}) in {path} from {encoder.checkpoint} "
          f"(sha256 {encoder.checkpoint_sha256[:12]}…, {encoder.device})")
