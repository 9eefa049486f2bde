"""A self-contained HTML report: sections, inline PNG figures and tables in one file.

`skyssl demo` ends with one `report.html` that can be mailed, attached to a ticket or opened from a
cluster scratch folder without its neighbours, so every figure is embedded as a base64 PNG and the
style sheet is inline. Plain text is escaped; HTML is passed through only when asked for.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from skyssl import __version__
from skyssl.errors import SkysslError
from skyssl.manifest import now_iso
from skyssl.viz.png import encode_png, write_bytes_atomic

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NUMBER_CELL, _TEXT_CELL = "", ' class="text"'

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #444; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; border-bottom: 1px solid #bbb; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
figcaption { font-size: .9rem; color: #555; margin-top: .3rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }
th { background: #f2f2f2; }
td.text { text-align: left; }
footer { margin-top: 3rem; font-size: .8rem; color: #777; }
"""


def _png_bytes(image: object) -> bytes:
    """PNG bytes from PNG bytes, an image array (uint8 or float [0, 1]) or a matplotlib figure."""
    if isinstance(image, bytes | bytearray):
        if bytes(image[:8]) != PNG_SIGNATURE:
            raise SkysslError("report figure bytes are not a PNG")
        return bytes(image)
    if hasattr(image, "savefig"):
        from skyssl.viz.plots import figure_png

        return figure_png(image)
    return encode_png(np.asarray(image))


def _text_html(text: str) -> str:
    """Escaped plain text; blank lines separate paragraphs."""
    paragraphs = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    return "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def format_cell(value: object, digits: int = 4) -> str:
    """A table cell: floats to `digits` significant figures, NaN as an en dash, the rest as text."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return "–" if math.isnan(number) else f"{number:.{digits}g}"
    return str(value)


class Report:
    """An ordered list of HTML blocks under one title; :meth:`write` makes the file."""

    def __init__(self, title: str):
        self.title = title
        self._blocks: list[str] = []
        self._n_sections = 0

    def section(self, title: str, body: str = "", *, is_html: bool = False) -> Report:
        """A new section heading, numbered in order (so stages written apart number themselves), with a
        body of plain text (escaped) or, with `is_html`, raw HTML."""
        self._n_sections += 1
        self._blocks.append(f"<h2>{self._n_sections}. {html.escape(title)}</h2>")
        if body:
            self._blocks.append(body if is_html else _text_html(body))
        return self

    def text(self, body: str) -> Report:
        """Plain-text paragraphs in the current section."""
        self._blocks.append(_text_html(body))
        return self

    def figure(self, image: object, caption: str = "", width_px: int | None = None) -> Report:
        """An inline PNG figure: PNG bytes, an RGB/grey image array, or a matplotlib figure."""
        data = base64.b64encode(_png_bytes(image)).decode("ascii")
        width = f' width="{int(width_px)}"' if width_px else ""
        alt = html.escape(caption or "figure", quote=True)
        caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._blocks.append(f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"{width}>'
                            f"{caption_html}</figure>")
        return self

    def table(
        self, rows: Sequence[Sequence[object]] | Sequence[Mapping[str, object]],
        columns: Sequence[str] | None = None, caption: str = "", digits: int = 4,
    ) -> Report:
        """A table from rows of values (with `columns` as the header) or rows of dicts keyed by column."""
        rows = list(rows)
        if columns is None:
            if not rows or not isinstance(rows[0], Mapping):
                raise SkysslError("a report table of plain rows needs column names")
            columns = list(rows[0])
        columns = list(columns)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
        body = []
        for row in rows:
            values = [row.get(c, "") for c in columns] if isinstance(row, Mapping) else list(row)
            if len(values) != len(columns):
                raise SkysslError(f"report table row has {len(values)} values for {len(columns)} columns")
            cells = "".join(
                f"<td{_NUMBER_CELL if isinstance(v, numbers.Number) else _TEXT_CELL}>"
                f"{html.escape(format_cell(v, digits))}</td>"
                for v in values
            )
            body.append(f"<tr>{cells}</tr>")
        caption_html = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self._blocks.append(f"<table>{caption_html}<thead><tr>{head}</tr></thead>"
                            f"<tbody>{''.join(body)}</tbody></table>")
        return self

    def to_html(self) -> str:
        title = html.escape(self.title)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
            + "\n".join(self._blocks)
            + f"\n<footer>skyssl {html.escape(__version__)} · {now_iso()}</footer>\n</body>\n</html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the report atomically; the file is either the whole report or absent."""
        return write_bytes_atomic(self.to_html().encode("utf-8"), path)
