"""The HTML report: sections, tables, and figures that decode back to the PNG that went in."""

import base64
import io
import re

import matplotlib
import numpy as np
import pytest
from PIL import Image

from skyssl.errors import SkysslError
from skyssl.viz.plots import figure_png, new_figure
from skyssl.viz.report import Report, format_cell


def inline_pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_report_sections_tables_and_inline_png(tmp_path):
    image = np.zeros((6, 9, 3), dtype=np.uint8)
    image[2, 3] = (10, 200, 30)
    report = Report("Demo <run>")
    report.section("Data", "1000 simulated objects.\n\nSecond paragraph & more.")
    report.figure(image, caption="a sheet")
    report.section("Raw", "<ul><li>kept</li></ul>", is_html=True)
    report.table([[1, 0.123456, "lens"], [2, float("nan"), "other"]], columns=["id", "score", "class"])
    report.table([{"k": 10, "recall": 0.95}])
    path = report.write(tmp_path / "report.html")
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "<h1>Demo &lt;run&gt;</h1>" in text
    assert "<h2>1. Data</h2>" in text and "<h2>2. Raw</h2>" in text
    assert "Second paragraph &amp; more." in text
    assert "<ul><li>kept</li></ul>" in text
    assert "<th>score</th>" in text and ">0.1235<" in text and ">–<" in text and ">lens<" in text
    assert "<th>recall</th>" in text and ">0.95<" in text
    assert "<figcaption>a sheet</figcaption>" in text
    (png,) = inline_pngs(text)
    with Image.open(io.BytesIO(png)) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), image)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_figure_from_png_bytes_and_matplotlib():
    figure = new_figure(2.0, 1.5, dpi=50)
    axes = figure.add_subplot()
    axes.plot([0, 1], [1, 0])
    png = figure_png(figure)
    assert png.startswith(b"\x89PNG")
    report = Report("r").figure(png, "bytes").figure(figure, "figure")
    decoded = inline_pngs(report.to_html())
    assert len(decoded) == 2 and decoded[0] == png
    with Image.open(io.BytesIO(decoded[1])) as image:
        assert image.size == (100, 75)
    with pytest.raises(SkysslError):
        Report("r").figure(b"not a png")


def test_no_pyplot_state():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    figure_png(new_figure())
    assert plt.get_fignums() == before
    assert matplotlib.get_backend()  # the backend was not switched by us


def test_table_needs_columns_for_plain_rows():
    with pytest.raises(SkysslError):
        Report("r").table([[1, 2]])
    with pytest.raises(SkysslError):
        Report("r").table([[1, 2]], columns=["a"])


def test_format_cell():
    assert format_cell(3) == "3"
    assert format_cell(np.int64(4)) == "4"
    assert format_cell(True) == "True"
    assert format_cell(1234567.0) == "1.235e+06"
    assert format_cell("x") == "x"
