import json

import pytest

from e2edrive.demo import DemoConfig, run_demo
from tests.conftest import SHORT


def test_tiny_demo_writes_summary_and_report(tmp_path):
    config = DemoConfig(collect_episodes=3, train_minutes=0.05, eval_episodes=2, workers=1, overrides=SHORT)
    summary = run_demo(tmp_path, config)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["eval_seeds"] == [config.eval_seed, config.eval_seed + 1]
    assert not set(saved["eval_seeds"]) & set(saved["train_seeds"])
    for driver in ("expert", "learned_torch", "learned_onnx"):
        d = saved["drivers"][driver]
        assert [e["seed"] for e in d["episodes"]] == saved["eval_seeds"]
        assert d["success_rate"] == sum(e["success"] for e in d["episodes"]) / 2
    assert saved["drivers"]["expert"]["success_rate"] == 1.0, "the expert finishes the short held-out episodes"
    assert saved["ratios"]["distance"] == pytest.approx(
        saved["drivers"]["learned_torch"]["distance_m"] / saved["drivers"]["expert"]["distance_m"]
    )
    assert set(saved["stage_wall_s"]) >= {"collect", "train", "export", "eval_expert", "report"}
    assert summary["onnx_parity_max_abs_error"] < 1e-3
    report = (tmp_path / "report.md").read_text()
    assert "training_loss.png" in report and "learned_drive.gif" in report
    assert (tmp_path / "training_loss.png").exists() and (tmp_path / "learned_drive.gif").exists()
