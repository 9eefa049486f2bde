"""`skyssl simulate`: the simulated survey, written as a store."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError

from skyssl.cli.app import app
from skyssl.cli.progress import progress_bar
from skyssl.errors import SkysslError
from skyssl.sim.config import PRESET_SURVEYS, SimConfig, parse_lens_rate


def make_config(preset: str, n: int, lens_rate: str, seed: int, dtype: str) -> SimConfig:
    if preset not in PRESET_SURVEYS:
        raise SkysslError(f"--preset must be one of {', '.join(PRESET_SURVEYS)}, not {preset!r}")
    try:
        return SimConfig(survey=preset, n_objects=n, seed=seed, lens_rate=parse_lens_rate(lens_rate),
                         image_dtype=dtype)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SkysslError(f"invalid {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Output store folder."),
    preset: str = typer.Option("legacy", "--preset", help="legacy (DR9 south grz), legacy-north or sdss (ugriz)."),
    n: int = typer.Option(1000, "--n", help="Number of objects."),
    lens_rate: str = typer.Option("enriched", "--lens-rate",
                                  help="Fraction of lenses, or realistic (1e-4), enriched (1e-3), eval (1e-2)."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same bytes."),
    dtype: str = typer.Option("float32", "--dtype", help="Image storage: float32 or float16."),
    rows_per_shard: int = typer.Option(16384, "--rows-per-shard", help="Rows per HDF5 shard."),
    workers: int = typer.Option(2, "--workers", help="Rendering processes."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing store at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Simulate a DR9-like or SDSS-like survey with ground truth (resumes an interrupted run)."""
    from skyssl.sim.driver import simulate_store  # heavy: the renderer and its tables

    config = make_config(preset, n, lens_rate, seed, dtype)
    if workers < 1:
        raise SkysslError("--workers must be at least 1")
    with progress_bar(config.n_objects, "simulating") as advance:
        path = simulate_store(config, out, rows_per_shard=rows_per_shard, workers=workers,
                              overwrite=overwrite, on_progress=advance)
    summary = {"out": str(path), **config.model_dump()}
    print(json.dumps(summary, indent=2) if as_json else f"wrote {config.n_objects} objects to {path}")
