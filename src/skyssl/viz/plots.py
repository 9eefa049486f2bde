"""Matplotlib figures without pyplot: Agg canvases, PNG bytes out, no global state touched.

pyplot keeps every figure it creates alive in a global registry and may pick an interactive backend;
a server or a long pipeline that makes thousands of plots through it leaks memory and can hang on a
headless machine. Figures here are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas,
freed when the last reference goes.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width_in: float = 6.0, height_in: float = 4.0, dpi: float = 100.0) -> Figure:
    """A figure on its own Agg canvas, unknown to pyplot."""
    figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_png(figure: Figure, dpi: float | None = None) -> bytes:
    """PNG bytes of a figure, rendered with Agg whatever canvas the figure was made on."""
    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi if dpi is not None else figure.dpi)
    return buffer.getvalue()
