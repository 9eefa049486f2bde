"""`skyssl demo` end to end on a tiny survey: every stage runs, the report has every section, and the demo
ends by serving the app on what it built (the server itself is replaced by a recorder here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.helpers import run_cli

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "cpu-small.yaml"
SECTIONS = ("Simulated survey", "Self-supervised pretraining", "Similarity search from single lenses",
            "Rare-object mining", "Fine-tuning for lenses", "Photometric redshifts", "Morphology",
            "The map of the representation space", "Anomalies")


@pytest.fixture
def served(monkeypatch):
    """Record what the demo would serve instead of blocking in uvicorn."""
    import skyssl.app.serving

    calls = []
    monkeypatch.setattr(skyssl.app.serving, "serve_forever", lambda app, host, port, **_: calls.append((app, host, port)))
    return calls


# 800 objects at the eval lens rate hold 6 lenses with seed 0: enough for the mining stages.
def test_demo_runs_every_stage_and_serves_the_result(tmp_path, capsys, served):
    out = tmp_path / "demo"
    code, _, stderr = run_cli(capsys, "demo", "--out", out, "--n", 800, "--pretrain-steps", 3,
                                   "--config", CONFIG, "--workers", 1, "--port", 8123)
    assert code == 0, stderr
    report = (out / "report.html").read_text()
    titles = re.findall(r"<h2>(\d+)\. ([^<]+)</h2>", report)
    assert [int(number) for number, _ in titles] == list(range(1, len(titles) + 1))
    for section in SECTIONS:
        assert any(title.startswith(section) for _, title in titles), section
    for artefact in ("survey", "run", "embeddings", "index", "candidates.csv", "anomalies.csv", "map.umap"):
        assert (out / artefact).exists(), artefact
    (app, host, port), = served
    assert (host, port) == ("127.0.0.1", 8123)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        health = client.get("/api/health").json()
    assert health["n_objects"] == 800 and health["candidates"] and health["image_search"]


def test_demo_without_pretraining_stops_after_the_survey(tmp_path, capsys, served):
    out = tmp_path / "demo"
    code, _, stderr = run_cli(capsys, "demo", "--out", out, "--n", 50, "--pretrain-steps", 0, "--workers", 1)
    assert code == 0, stderr
    assert "Self-supervised pretraining" not in (out / "report.html").read_text()
    assert not served  # nothing to serve without an index


def test_demo_names_a_missing_config_in_one_line(tmp_path, capsys):
    code, _, stderr = run_cli(capsys, "demo", "--out", tmp_path / "d", "--config", tmp_path / "none.yaml")
    assert code == 2
    assert len([line for line in stderr.splitlines() if line.strip()]) == 1 and "none.yaml" in stderr
