"""metrics.csv across a resume: appended, never deleted, rewound to the checkpoint's step."""

from __future__ import annotations

from skyssl.train.csvlog import AppendingCSVLogger, read_metrics, rewind_metrics


def test_a_second_logger_appends_and_widens_the_header(tmp_path):
    first = AppendingCSVLogger(tmp_path)
    first.log_metrics({"train/loss": 1.0}, step=5)
    first.log_metrics({"train/loss": 0.5}, step=10)
    (tmp_path / "config.yaml").write_text("a: 1\n")  # a non-empty folder made Lightning delete the file
    second = AppendingCSVLogger(tmp_path)
    second.log_metrics({"train/loss": 0.25, "monitor/retrieval_top1": 0.9}, step=15)
    rows = read_metrics(tmp_path / "metrics.csv")
    assert [r["step"] for r in rows] == ["5", "10", "15"]
    assert rows[-1]["monitor/retrieval_top1"] == "0.9" and rows[0]["monitor/retrieval_top1"] == ""


def test_rewind_drops_rows_after_the_checkpoint(tmp_path):
    logger = AppendingCSVLogger(tmp_path)
    for step in (5, 10, 15, 20, 25):
        logger.log_metrics({"train/loss": float(step)}, step=step)
    assert rewind_metrics(tmp_path / "metrics.csv", 20) == 1
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.csv")] == ["5", "10", "15", "20"]
    assert rewind_metrics(tmp_path / "metrics.csv", 20) == 0
    assert rewind_metrics(tmp_path / "absent.csv", 3) == 0
