"""`skyssl demo`: every stage that exists, on the embedded default survey, with an HTML report."""

from __future__ import annotations

from pathlib import Path

import typer

from skyssl.cli.app import app


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Output folder (store and report.html)."),
    n: int = typer.Option(2000, "--n", help="Objects in the simulated survey."),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated survey."),
    workers: int = typer.Option(2, "--workers", help="Rendering processes."),
) -> None:
    """Simulate the default survey (DR9-like, eval lens rate), inspect it and write report.html."""
    from skyssl.cli import demo_stages  # heavy: every layer of the package
    from skyssl.viz import Report

    out.mkdir(parents=True, exist_ok=True)
    report = Report("skyssl demo")
    store_path = demo_stages.simulate_stage(report, out, n, seed, workers)
    demo_stages.inspect_stage(report, store_path, seed)
    path = report.write(out / "report.html")
    print(f"wrote {path}")
