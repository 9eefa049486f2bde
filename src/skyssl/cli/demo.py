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
    config: Path = typer.Option(Path("configs/cpu-small.yaml"), "--config", help="Pretraining config."),
    pretrain_steps: int = typer.Option(300, "--pretrain-steps", help="MoCo steps (0 skips pretraining and search)."),
) -> None:
    """Simulate the default survey, inspect it, pretrain, embed, search; write report.html."""
    from skyssl.cli import demo_stages  # heavy: every layer of the package
    from skyssl.errors import SkysslError
    from skyssl.viz import Report

    if pretrain_steps and not config.is_file():
        raise SkysslError(f"--config {config}: no such file (run from the repository root, or pass --config)")

    out.mkdir(parents=True, exist_ok=True)
    report = Report("skyssl demo")
    store_path = demo_stages.simulate_stage(report, out, n, seed, workers)
    demo_stages.inspect_stage(report, store_path, seed)
    if pretrain_steps:
        from skyssl.cli import demo_learning

        run = demo_learning.pretrain_stage(report, store_path, out, config, pretrain_steps)
        demo_learning.search_stage(report, store_path, run, out)
    path = report.write(out / "report.html")
    print(f"wrote {path}")
