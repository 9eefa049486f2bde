"""The map's figures: coloured panels, the stationarity measure and the neighbour agreement of a labelling."""

from __future__ import annotations

import numpy as np
import pytest

from skyssl.errors import InputError
from skyssl.science.umap_panels import column_values, is_categorical, marker_size, panel_figure
from skyssl.science.umap_pixels import neighbour_agreement, side_by_side_figure
from skyssl.science.umap_stationarity import (
    stationarity,
    stationarity_figure,
    typical_neighbour_distance,
    typical_pair_distance,
)
from skyssl.store import Store
from skyssl.viz.plots import figure_png
from tests.search.helpers import synthetic_store, uniform_sky

PNG = b"\x89PNG"


def grid_points(side: int = 10, spacing: float = 1.0) -> np.ndarray:
    xx, yy = np.meshgrid(np.arange(side) * spacing, np.arange(side) * spacing)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def test_neighbour_and_pair_distances_of_a_regular_grid():
    points = grid_points(spacing=2.0)
    assert typical_neighbour_distance(points) == pytest.approx(2.0)
    pair = typical_pair_distance(points, seed=0)
    assert pair == typical_pair_distance(points, seed=0) and 6.0 < pair < 12.0


def test_stationarity_in_neighbour_and_pair_units():
    points = grid_points()
    centre = points[:20]
    shifted = centre + np.array([3.0, 4.0])  # every view moves 5 map units
    figures = stationarity(centre, shifted, points)
    assert figures["median_shift"] == pytest.approx(5.0) and figures["p90_shift"] == pytest.approx(5.0)
    assert figures["median_shift_in_neighbour_distances"] == pytest.approx(5.0)
    assert figures["median_shift_over_pair_distance"] == pytest.approx(5.0 / figures["typical_pair_distance"])
    assert stationarity(centre, centre, points)["median_shift"] == 0.0
    assert figure_png(stationarity_figure(centre, shifted, points, figures)).startswith(PNG)


def test_neighbour_agreement():
    xy = np.array([[0.0, 0], [0.1, 0], [0.2, 0], [10, 0], [10.1, 0], [10.2, 0]])
    assert neighbour_agreement(xy, np.array(list("aaabbb")), k=2) == 1.0
    assert neighbour_agreement(xy, np.array(list("ababab")), k=2) == pytest.approx(1 / 3)
    assert np.isnan(neighbour_agreement(xy[:1], np.array(["a"])))


def test_categorical_or_continuous():
    assert is_categorical(np.array(["a", "b"])) and is_categorical(np.array([True, False]))
    assert is_categorical(np.arange(5) % 3) and not is_categorical(np.arange(50))
    assert not is_categorical(np.linspace(0, 1, 5))
    assert marker_size(100) > marker_size(10_000) >= marker_size(10**7) > 0


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    ra, dec = uniform_sky(30, seed=0)
    return synthetic_store(tmp_path_factory.mktemp("panels") / "store", ra, dec)


def test_column_values_by_name_and_by_band(store):
    rows = np.array([4, 0, 2])
    with Store.open(store) as opened:
        assert np.array_equal(column_values(opened, "ra", rows), opened.read_column("ra")[rows])
        assert np.array_equal(column_values(opened, "mag_r", rows), opened.read_column("mag")[rows, 1])
        with pytest.raises(InputError, match=r"per band .*mag_g, mag_r, mag_z"):
            column_values(opened, "mag", rows)
        with pytest.raises(InputError, match="no column 'nope'"):
            column_values(opened, "nope", rows)
        with pytest.raises(InputError, match="no column 'mag_u'"):
            column_values(opened, "mag_u", rows)


def test_panels_draw_classes_scales_and_missing_values():
    xy = np.random.default_rng(0).standard_normal((200, 2))
    classes = np.where(np.arange(200) < 198, "bulk", "rare")
    values = np.linspace(0.0, 1.0, 200)
    values[:5] = np.nan
    for column_values_ in (classes, values, np.arange(200) % 2 == 0):
        assert figure_png(panel_figure(xy, column_values_, "c")).startswith(PNG)
    assert figure_png(side_by_side_figure(xy, xy[::-1], None, None)).startswith(PNG)
