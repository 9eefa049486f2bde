"""`skyssl probe …`: linear probes on cached representations (train, predict, the ratio sweep)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from skyssl.cli.app import app
from skyssl.cli.figures import print_figures

probe_app = typer.Typer(name="probe", help="Linear probes for rare-object mining (Stein et al. 2022).",
                        no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                        rich_markup_mode=None)
app.add_typer(probe_app, name="probe")

LABEL_HELP = "Positives: a boolean store column (is_lens), 'column==value' (lens_grade==A) or a CSV object_id,label."


def _settings(vector_kind: str, val_ratio: str, val_fraction: float, exclusion_arcsec: float, n_top: int | None,
              l2_grid: str, standardize: bool, max_iter: int, seed: int, device: str):
    from skyssl.errors import InputError
    from skyssl.mining.sampling import parse_ratio
    from skyssl.mining.training import ProbeSettings

    try:
        grid = tuple(float(v) for v in l2_grid.split(",") if v.strip())
    except ValueError:
        raise InputError(f"--l2 {l2_grid!r} is not a comma-separated list of numbers") from None
    if not grid or any(v < 0 for v in grid):
        raise InputError(f"--l2 needs one or more non-negative values, got {l2_grid!r}")
    if n_top is not None and n_top < 1:
        raise InputError(f"--n must be at least 1, got {n_top}")
    if max_iter < 1:
        raise InputError(f"--max-iter must be at least 1, got {max_iter}")
    return ProbeSettings(vector_kind=vector_kind, val_ratio=parse_ratio(val_ratio), val_fraction=val_fraction,
                         exclusion_arcsec=exclusion_arcsec, n_top=n_top, l2_grid=grid, standardize=standardize,
                         max_iter=max_iter, seed=seed, device=device)


VECTORS = typer.Option("backbone", "--vectors", help="Which vectors: backbone or projection.")
VAL_RATIO = typer.Option("1:10000", "--val-ratio", help="Validation lens:non-lens ratio wanted (the achieved one "
                         "is reported).")
VAL_FRACTION = typer.Option(0.5, "--val-fraction", help="Share of the lenses held out for validation.")
EXCLUSION = typer.Option(10.0, "--exclusion-arcsec", help="Drop non-lenses this close to a labelled lens.")
N_TOP = typer.Option(None, "--n", help="Inspection budget N for precision@N (default: the validation lenses).")
L2_GRID = typer.Option("0.1,0.01,0.001,0.0001", "--l2", help="L2 strengths tried; the best by TP in the top N wins.")
STANDARDIZE = typer.Option(True, "--standardize/--no-standardize", help="Standardise features before the fit.")
MAX_ITER = typer.Option(200, "--max-iter", help="LBFGS iterations per fit.")
SEED = typer.Option(0, "--seed", help="Seed of the splits.")
DEVICE = typer.Option("cpu", "--device", help="Torch device for the fit (cpu, cuda).")
JSON = typer.Option(False, "--json", help="Print the figures as JSON.")


@probe_app.command("train")
def train(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    label: str = typer.Option(..., "--label", help=LABEL_HELP),
    ratio: str = typer.Option("1:100", "--ratio", help="Training lens:non-lens ratio, e.g. 1:100."),
    out: Path = typer.Option(..., "--out", help="Probe folder to write."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing probe folder."),
    vector_kind: str = VECTORS, val_ratio: str = VAL_RATIO, val_fraction: float = VAL_FRACTION,
    exclusion_arcsec: float = EXCLUSION, n_top: int | None = N_TOP, l2_grid: str = L2_GRID,
    standardize: bool = STANDARDIZE, max_iter: int = MAX_ITER, seed: int = SEED, device: str = DEVICE,
    as_json: bool = JSON,
) -> None:
    """Fit a logistic-regression probe at one ratio; print validation precision@N, AUC, TPR0, TPR10."""
    from skyssl.embed.reader import Embeddings
    from skyssl.errors import InputError
    from skyssl.mining.labels import load_labels
    from skyssl.mining.probe_folder import write_probe_folder
    from skyssl.mining.sampling import parse_ratio
    from skyssl.mining.training import train_probe

    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists; choose another --out or pass --overwrite")
    settings = _settings(vector_kind, val_ratio, val_fraction, exclusion_arcsec, n_top, l2_grid, standardize,
                         max_iter, seed, device)
    negatives_per_positive = parse_ratio(ratio)
    with Embeddings.open(embeddings) as opened:
        labels = load_labels(opened, label)
        trained = train_probe(opened, labels, negatives_per_positive, settings)
        write_probe_folder(out, trained, opened, label, ratio, settings, overwrite=overwrite)
    print_figures({**trained.metrics, "probe": str(out)}, as_json)


@probe_app.command("predict")
def predict(
    probe: Path = typer.Option(..., "--probe", help="Probe folder (from `skyssl probe train`)."),
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings of the objects to rank."),
    out: Path = typer.Option(..., "--out", help="Candidate catalogue CSV to write."),
    fits: bool = typer.Option(False, "--fits", help="Also write the catalogue as FITS (same name, .fits)."),
    sheets: Path | None = typer.Option(None, "--sheets", help="Folder for inspection sheets of the top candidates."),
    top: int = typer.Option(500, "--top", help="Candidates on the sheets (5 × 100 tiles per sheet)."),
) -> None:
    """Score every embedded object and write the ranked catalogue (object_id, ra, dec, score, rank, …)."""
    from skyssl.embed.reader import Embeddings
    from skyssl.errors import InputError
    from skyssl.mining.candidates import (
        candidate_table,
        score_embeddings,
        write_candidate_sheets,
        write_candidates,
    )
    from skyssl.mining.probe_folder import open_probe

    if sheets is not None and top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    linear, manifest = open_probe(probe)
    with Embeddings.open(embeddings) as opened, opened.open_store() as store:
        logits = score_embeddings(linear, opened, manifest["vector_kind"])
        table = candidate_table(opened, store, logits)
        written = write_candidates(table, out, fits=fits)
        if sheets is not None:
            written += write_candidate_sheets(store, table, sheets, top)
    for path in written:
        print(f"wrote {path}")


@probe_app.command("sweep")
def sweep(
    embeddings: Path = typer.Option(..., "--embeddings", help="Embeddings folder (from `skyssl embed`)."),
    label: str = typer.Option(..., "--label", help=LABEL_HELP),
    ratios: str = typer.Option("1:1,1:10,1:100,1:1000", "--ratios", help="Training ratios, comma-separated."),
    out: Path = typer.Option(..., "--out", help="Folder for sweep.json and sweep.png."),
    vector_kind: str = VECTORS, val_ratio: str = VAL_RATIO, val_fraction: float = VAL_FRACTION,
    exclusion_arcsec: float = EXCLUSION, n_top: int | None = N_TOP, l2_grid: str = L2_GRID,
    standardize: bool = STANDARDIZE, max_iter: int = MAX_ITER, seed: int = SEED, device: str = DEVICE,
    as_json: bool = JSON,
) -> None:
    """precision@N against the training ratio on one validation split (Stein et al. 2022 Figure 4)."""
    from skyssl.embed.reader import Embeddings
    from skyssl.manifest import write_json_atomic
    from skyssl.mining.labels import load_labels
    from skyssl.mining.sampling import parse_ratios
    from skyssl.mining.sweep_plot import sweep_figure
    from skyssl.mining.training import ratio_sweep
    from skyssl.viz.png import write_bytes_atomic

    settings = _settings(vector_kind, val_ratio, val_fraction, exclusion_arcsec, n_top, l2_grid, standardize,
                         max_iter, seed, device)
    with Embeddings.open(embeddings) as opened:
        rows = ratio_sweep(opened, load_labels(opened, label), parse_ratios(ratios), settings)
    out.mkdir(parents=True, exist_ok=True)
    result = {"embeddings": str(embeddings), "label": label, "settings": settings.as_dict(), "rows": rows}
    write_json_atomic(out / "sweep.json", result)
    write_bytes_atomic(sweep_figure(rows), out / "sweep.png")
    if as_json:
        print(json.dumps(result, indent=2))
        return
    for row in rows:
        print(f"{row['ratio']:>8} (achieved {row['train_ratio_achieved']:>8})  precision@{row['n']} "
              f"{row['precision_at_n']:.3f}  recall {row['recall_at_n']:.3f}  auc {row['auc']:.3f}  "
              f"tpr0 {row['tpr0']:.3f}  tpr10 {row['tpr10']:.3f}  l2 {row['l2']:g}")
    print(f"wrote {out / 'sweep.json'} and {out / 'sweep.png'}")
