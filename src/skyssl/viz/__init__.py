"""Display for people: RGB from nanomaggies, image grids and inspection sheets, plots, HTML reports.

Nothing here feeds a network; display RGB is deliberately separate from the training input transform.
matplotlib (and astropy.visualization, which imports it) load only when a plot or a Lupton
image is made, so the CLI starts fast.
"""

from skyssl.viz.grid import GridLayout, image_grid, inspection_sheets, resize_tiles, tile_labels
from skyssl.viz.png import encode_png, save_png
from skyssl.viz.report import Report
from skyssl.viz.rgb import dr2_rgb, lupton_rgb, sdss_rgb, survey_rgb, to_uint8

__all__ = [
    "GridLayout", "Report", "dr2_rgb", "encode_png", "image_grid", "inspection_sheets", "lupton_rgb",
    "resize_tiles", "save_png", "sdss_rgb", "survey_rgb", "tile_labels", "to_uint8",
]
