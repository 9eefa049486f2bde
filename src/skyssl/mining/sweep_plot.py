"""The ratio-sweep figure (Stein et al. 2022 Figure 4): precision in the top N against training ratio."""

from __future__ import annotations

from skyssl.viz.plots import figure_png, new_figure

# Stein et al. 2022 Figure 4 end points (formats-and-augmentations §9): precision@1139 at 1:10,000.
PAPER_POINTS = ((1.0, 0.14), (4000.0, 0.20))


def sweep_figure(rows: list[dict]) -> bytes:
    """PNG: precision@N (and recall@N) per achieved training ratio, log x, with the paper's end points."""
    figure = new_figure(6.0, 4.0)
    ax = figure.subplots()
    x = [max(row["negatives_per_positive_achieved"], 1e-3) for row in rows]
    ax.plot(x, [row["precision_at_n"] for row in rows], marker="o", label="precision@N (this run)")
    ax.plot(x, [row["recall_at_n"] for row in rows], marker=".", linestyle="--", label="recall@N (this run)")
    ax.plot(*zip(*PAPER_POINTS, strict=True), marker="s", linestyle=":", color="grey",
            label="Stein et al. 2022 (N=1139, 1:10⁴)")
    ax.set_xscale("log")
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("training ratio (non-lenses per lens, achieved)")
    ax.set_ylabel("fraction")
    first = rows[0]
    ax.set_title(f"N = {first['n']}, validation {first['val_ratio_achieved']} "
                 f"({first['n_val_positive']} lenses)", fontsize=9)
    ax.legend(fontsize=8)
    return figure_png(figure)
