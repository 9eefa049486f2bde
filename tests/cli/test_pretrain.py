"""`skyssl pretrain`: the documented contract (20 steps, then --resume to 30) and one-line errors."""

from __future__ import annotations

import json

import pytest
import torch

from skyssl.train.csvlog import read_metrics
from tests.cli.helpers import error_lines, run_cli
from tests.train.helpers import make_store, write_config


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrain-cli")
    return make_store(root / "store", n_objects=40), write_config(root / "tiny.yaml"), root


def test_twenty_steps_then_resume_to_thirty(setup, capsys):
    store, config, root = setup
    run = root / "run"
    code, out, err = run_cli(capsys, "pretrain", "--config", config, "--data", store, "--out", run,
                             "--max-steps", "20", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["global_step"] == 20 and summary["checkpoint"] == str(run / "last.ckpt")
    assert (run / "last.ckpt").is_file() and (run / "MODEL_CARD.md").is_file()
    assert "| optimizer steps | 20 |" in (run / "MODEL_CARD.md").read_text()

    code, out, err = run_cli(capsys, "pretrain", "--config", config, "--data", store, "--out", run,
                             "--resume", "--max-steps", "30")
    assert code == 0, err
    assert out.startswith("step 30: checkpoint")
    checkpoint = torch.load(run / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == 30
    steps = [int(r["step"]) for r in read_metrics(run / "metrics.csv") if r["train/loss"]]
    assert steps == [5, 10, 15, 20, 25, 30]
    assert "| optimizer steps | 30 |" in (run / "MODEL_CARD.md").read_text()

    # a resumed run without --config uses the run's own config.yaml
    code, out, err = run_cli(capsys, "pretrain", "--data", store, "--out", run, "--resume", "--max-steps", "31")
    assert code == 0, err
    assert out.startswith("step 31")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--config", "{bad}"), "model.encoder"),
        (("--config", "{root}/absent.yaml"), "no such config file"),
        (("--config", "{good}", "--data", "{root}/nowhere"), "no such store"),
        (("--config", "{good}", "--devices", "none"), "--devices must be a positive integer"),
        (("--config", "{good}", "--max-steps", "0"), "--max-steps must be at least 1"),
        (("--config", "{good}", "--resume", "--overwrite"), "pass one of them"),
        ((), "--config is required"),
    ],
)
def test_bad_input_exits_2_with_one_line(setup, capsys, args, expected):
    store, good, root = setup
    bad = write_config(root / "bad.yaml", model={"encoder": "resnet51"})
    filled = [a.format(bad=bad, good=good, root=root) for a in args]
    if "--data" not in filled:
        filled += ["--data", str(store)]
    code, out, err = run_cli(capsys, "pretrain", *filled, "--out", root / "never")
    assert code == 2 and out == ""
    lines = error_lines(err)
    assert len(lines) == 1 and expected in lines[0], err


def test_help_lists_the_options(capsys):
    code, out, _ = run_cli(capsys, "pretrain", "--help")
    assert code == 0
    for option in ("--config", "--data", "--out", "--max-steps", "--resume", "--overwrite", "--devices",
                   "--accelerator", "--num-nodes", "--json"):
        assert option in out
