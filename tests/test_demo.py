import json

import pytest

from e2edrive.core import io
from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError
from e2edrive.demo import DemoConfig, run_demo
from e2edrive.deploy.runtime.onnx_policy import make_session, session_controller
from e2edrive.model.config import ModelConfig, run_controller
from tests.conftest import SHORT


def test_tiny_demo_writes_summary_and_report(tmp_path):
    config = DemoConfig(
        collect_episodes=3,
        train_minutes=0.05,
        dagger_rounds=1,
        dagger_episodes=2,
        dagger_minutes=0.03,
        eval_episodes=2,
        workers=1,
        overrides=SHORT,
        model=ModelConfig(fusion="early"),  # the late default runs in the generalist's test below
    )
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
    assert set(saved["stage_wall_s"]) >= {"collect", "train", "dagger", "export", "eval_expert", "report"}
    # behaviour cloning, then one on-policy round on the same held-out seeds; the kept one is the learned driver
    assert [r["round"] for r in saved["dagger"]["rows"]] == [0, 1]
    kept = saved["dagger"]["final_round"]
    assert (tmp_path / "round_1" / "clips").is_dir() and (tmp_path / "run" / "model.safetensors").exists()
    weights = [(tmp_path / d / "model.safetensors").read_bytes() for d in ("run", f"round_{kept}/run")]
    assert weights[0] == weights[1], "DIR/run is the kept round"
    # the controller round 0 was trained with drives every round, the kept run and its export
    controller = ControllerConfig()
    assert [run_controller(tmp_path / f"round_{r}" / "run") for r in (0, 1)] == [controller] * 2
    session = make_session(tmp_path / "model.onnx")
    assert io.METADATA_CONTROLLER in session.get_modelmeta().custom_metadata_map, "recorded, not a fallback"
    assert session_controller(session) == controller
    assert saved["drivers"]["learned_onnx"]["controller"] == controller.to_json()
    for run in ("round_0/run", "run"):  # the demo's network config reaches round 0 and the rounds fine-tune it
        assert json.loads((tmp_path / run / "config.json").read_text())["model"]["fusion"] == "early"
    assert json.loads((tmp_path / "dagger_config.json").read_text())["model"]["fusion"] == "early", "as recorded"
    assert "eval_learned_torch" not in saved["stage_wall_s"], "the kept round's evaluation is reused, not driven again"
    assert (
        json.loads((tmp_path / f"round_{kept}" / "eval.json").read_text())["success_rate"]
        == (saved["drivers"]["learned_torch"]["success_rate"])
    )
    assert summary["onnx_parity_max_abs_error"] < 1e-3
    report = (tmp_path / "report.md").read_text()
    assert "training_loss.png" in report and "learned_drive.gif" in report
    assert (tmp_path / "training_loss.png").exists() and (tmp_path / "learned_drive.gif").exists()
    page = (tmp_path / "report" / "index.html").read_text()
    assert summary["report"] == str(tmp_path / "report" / "index.html") and page.count("<video ") == 2 * 3


def test_the_demo_rounds_fine_tune_less_where_a_slower_machine_would_overrun_its_deadline():
    from e2edrive.dagger import training_minutes

    config = DemoConfig()
    assert config.dagger(120.0).deadline_minutes == pytest.approx(config.deadline_minutes - 2)
    assert config.dagger(120.0).after_evaluations == 2  # the expert's and the ONNX export's
    assert DemoConfig(deadline_minutes=None).dagger(600.0).deadline_minutes is None
    with pytest.raises(UserError, match="deadline_minutes=0 must be positive"):
        DemoConfig(deadline_minutes=0)

    def replay(before_dagger_s, evaluate_s, collect_s):
        """Round 1's and 2's fine-tuning minutes at one run's stage times (collect_s: each round's two collections)."""
        dagger = config.dagger(before_dagger_s)
        half = collect_s / 2
        walls = {"evaluate round 0": evaluate_s, "collect round 1": half, "collect round 1 where it failed": half}
        first = training_minutes(dagger, 1, walls, {}, sum(walls.values()), 1)
        walls |= {"train round 1": first * 60 + 7, "evaluate round 1": evaluate_s, "collect round 2": half}
        walls |= {"collect round 2 where it failed": half}
        return first, training_minutes(dagger, 2, walls, {1: first * 60}, sum(walls.values()), 1)

    assert replay(328, 23, 86) == (2.0, 2.0)  # a 14.4-min run (e62) keeps its budgets
    first, second = replay(343, 26, 106)  # a 15.7-min run on a slower hour (f63): every driving stage slower
    assert first < 2.0 and second < 2.0 and (4.0 - first - second) * 60 > 943 - 15 * 60


def test_tiny_generalist_demo_summary_holds_every_driver_per_scenario(tmp_path):
    from e2edrive.generalist import DRIVERS, GeneralistConfig, run_generalist_demo, with_overrides

    config = with_overrides(
        GeneralistConfig(),
        scenario="highway,roundabout",
        rounds=1,
        episodes_per_round=2,
        expert_episodes=4,
        initial_train_minutes=0.03,
        train_minutes=0.03,
        eval_episodes=2,
        workers=2,
        overrides={"duration": 4.0},
    )
    run_generalist_demo(tmp_path, config)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert set(saved["scenarios"]) == {"highway", "roundabout"}
    for name, drivers in saved["scenarios"].items():
        assert set(drivers) == set(DRIVERS)
        for metrics in drivers.values():
            assert metrics["seeds"] == saved["eval_seeds"] and metrics["episodes_count"] == 2
        assert set(saved["targets"][name]) >= {"success_vs_expert", "success_vs_rules", "met"}
    assert (tmp_path / "run" / "model.safetensors").exists() and saved["run"] == str(tmp_path / "run")
    assert [r["round"] for r in saved["dagger"]["rows"]] == [0, 0, 1, 1]
    # expert, rules and the blind baseline need no learner: evaluated before round 0 trains (the deadline measures them)
    trained = (tmp_path / "round_0" / "run" / "model.safetensors").stat().st_mtime_ns
    for name in ("expert", "rules", "blind_baseline"):
        assert (tmp_path / f"eval_{name}.json").stat().st_mtime_ns < trained
    assert "| roundabout | learned_onnx |" in (tmp_path / "report.md").read_text()
    bench = json.loads((tmp_path / "bench" / "bench.json").read_text())
    assert set(bench["results"]) == {*DRIVERS, "blind_baseline"} and bench["seeds"] == saved["eval_seeds"]
    assert "DAgger rounds" in (tmp_path / "report" / "index.html").read_text()
