"""`skyssl demo`: every stage that exists, on the embedded default survey, with an HTML report; it ends by
serving the web app on the demo survey (``--no-serve`` skips that)."""

from __future__ import annotations

from pathlib import Path

import typer

from skyssl.cli.app import app


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Output folder (store, artefacts and report.html)."),
    n: int = typer.Option(5000, "--n", help="Objects in the simulated survey."),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulated survey."),
    workers: int = typer.Option(2, "--workers", help="Rendering processes."),
    config: Path = typer.Option(Path("configs/cpu-small.yaml"), "--config", help="Pretraining config."),
    pretrain_steps: int = typer.Option(300, "--pretrain-steps",
                                       help="MoCo steps (0 skips pretraining and every stage after it)."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="End by serving the web app on the demo survey."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address the web app binds to."),
    port: int = typer.Option(8000, "--port", help="Port of the web app."),
) -> None:
    """Simulate the default survey, inspect it, pretrain, embed, search, mine lenses, map it; write
    report.html, then serve the web app."""
    from skyssl.cli import demo_stages  # heavy: every layer of the package
    from skyssl.errors import SkysslError
    from skyssl.viz import Report

    if pretrain_steps and not config.is_file():
        raise SkysslError(f"--config {config}: no such file (run from the repository root, or pass --config)")

    out.mkdir(parents=True, exist_ok=True)
    report = Report("skyssl demo")
    store_path = demo_stages.simulate_stage(report, out, n, seed, workers)
    demo_stages.inspect_stage(report, store_path, seed)
    index = candidates = None
    if pretrain_steps:
        index, candidates = _learning_stages(report, store_path, out, config, pretrain_steps)
    path = report.write(out / "report.html")
    print(f"wrote {path}")
    if serve and index is not None:
        from skyssl.app import create_app
        from skyssl.app.serving import serve_forever

        serve_forever(create_app(index, candidates=candidates, checkpoint=out / "run"), host, port)


def _learning_stages(report, store_path: Path, out: Path, config: Path, steps: int) -> tuple[Path, Path | None]:
    """Pretrain → embed/search → probes → fine-tuning → science → map; returns the index and candidates."""
    from skyssl.cli import demo_finetune, demo_learning, demo_map, demo_mining, demo_science

    run = demo_learning.pretrain_stage(report, store_path, out, config, steps)
    embeddings, index = demo_learning.search_stage(report, store_path, run, out)
    candidates = demo_mining.probe_stage(report, store_path, embeddings, out)
    demo_finetune.finetune_stage(report, store_path, run, embeddings, out)
    demo_science.science_stage(report, store_path, run, embeddings, out)
    demo_map.map_stage(report, store_path, run, embeddings, out)
    return index, candidates
