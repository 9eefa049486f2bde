"""The demo's mining stage: metrics with intervals, the sweep plot and a candidate sheet in the report."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from skyssl.cli.demo_mining import probe_stage
from skyssl.viz import Report
from tests.search.helpers import embeddings_for, synthetic_store, uniform_sky


def _survey(tmp_path, n: int, lens_fraction: float):
    rng = np.random.default_rng(2)
    ra, dec = uniform_sky(n, 3)
    is_lens = rng.random(n) < lens_fraction
    store = synthetic_store(tmp_path / "store", ra, dec, columns={"is_lens": is_lens})
    vectors = rng.standard_normal((n, 8)).astype(np.float32)
    vectors[is_lens, 0] += 2.0
    return store, embeddings_for(store, tmp_path / "emb", vectors=vectors, dtype="float16")


def test_probe_stage_reports_metrics_sweep_and_sheet(tmp_path):
    store, emb = _survey(tmp_path, 500, 0.05)
    report = Report("test")
    csv_path = probe_stage(report, store, emb, tmp_path / "out")
    table = Table.read(csv_path, format="ascii.csv")
    assert len(table) == 500 and list(table["rank"][:3]) == [1, 2, 3]
    html = report.to_html()
    for needle in ("precision@N", "TPR0", "TPR10", "ROC AUC", "95 % bootstrap interval", "ratio asked",
                   "first inspection sheet"):
        assert needle in html
    assert html.count("<img") == 2                                   # the sweep plot and the first sheet
    assert (tmp_path / "out" / "probe" / "manifest.json").is_file()


def test_probe_stage_says_so_when_there_are_too_few_lenses(tmp_path):
    store, emb = _survey(tmp_path, 200, 0.01)
    report = Report("test")
    assert probe_stage(report, store, emb, tmp_path / "out") is None
    assert "a probe needs at least" in report.to_html()
