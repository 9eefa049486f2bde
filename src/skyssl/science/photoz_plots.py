"""The photo-z figure: z_phot against z_spec as a density, with the headline metrics, and the PIT histogram.

A density (2-D histogram, log colour) rather than a scatter, because at 10⁵ objects points saturate;
the dashed lines are |Δz| = 0.05, η's boundary. A flat PIT histogram means calibrated PDFs; a U shape
means over-confident ones, a hump under-confident ones.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from skyssl.science.photoz_bins import RedshiftBins
from skyssl.science.photoz_metrics import ETA_SDSS
from skyssl.viz.plots import figure_png, new_figure


def photoz_figure(z_spec: np.ndarray, z_phot: np.ndarray, pit_values: np.ndarray, figures: dict,
                  bins: RedshiftBins, title: str) -> bytes:
    figure = new_figure(9.0, 4.2)
    density, pit_ax = figure.subplots(1, 2, width_ratios=[1.3, 1.0])
    top = float(max(bins.z_max, np.max(z_spec, initial=0.0)))
    n_cells = int(np.clip(np.sqrt(z_spec.size), 20, min(bins.n_bins, 100)))  # ~√n cells a side: not too sparse
    grid = np.linspace(0.0, top, n_cells + 1)
    counts, _, _ = np.histogram2d(z_spec, z_phot, bins=[grid, grid])
    shown = np.ma.masked_equal(counts.T, 0)
    mesh = density.pcolormesh(grid, grid, shown, norm=LogNorm(vmin=1, vmax=max(counts.max(), 1)), cmap="viridis")
    bar = figure.colorbar(mesh, ax=density, label="objects per cell")
    bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    bar.ax.yaxis.set_minor_formatter(NullFormatter())
    line = np.array([0.0, top])
    density.plot(line, line, color="k", lw=0.8)
    for sign in (-1, 1):
        density.plot(line, line + sign * ETA_SDSS * (1 + line), color="k", lw=0.6, ls="--")
    density.set_xlim(0, top)
    density.set_ylim(0, top)
    density.set_xlabel("true redshift (the label)")
    density.set_ylabel("z_phot = E[z]")
    text = (f"n = {figures['n']}\nσ_MAD = {figures['sigma_mad']:.4f}\nη(0.05) = {figures['eta']:.3f}\n"
            f"η(0.15) = {figures['eta_015']:.3f}\nbias = {figures['bias']:+.4f}\nCRPS = {figures['crps']:.4f}")
    density.text(0.03, 0.97, text, transform=density.transAxes, va="top", fontsize=8,
                 bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
    density.set_title(title, fontsize=9)
    pit_ax.hist(pit_values, bins=20, range=(0, 1), color="tab:blue", alpha=0.8)
    pit_ax.axhline(len(pit_values) / 20, color="k", lw=0.8, ls="--")
    pit_ax.set_xlabel("PIT = F(true z)")
    pit_ax.set_ylabel("test objects")
    pit_ax.set_title(f"PIT (KS distance from uniform {figures['pit_ks']:.3f})", fontsize=9)
    return figure_png(figure)
