import json

import pytest

from e2edrive.core.errors import UserError
from e2edrive.evaluate.bench import (
    BENCH,
    EPISODES,
    BenchConfig,
    bench_drive,
    driving_score,
    infractions,
    policy_keys,
    wilson_interval,
)
from tests.conftest import SHORT


def test_wilson_interval_matches_the_formula_at_the_edges_and_middle():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def _row(**kw):
    return {
        "success": False,
        "collided": False,
        "offroad": False,
        "route_deviation": False,
        "route_completion": 0.5,
    } | kw


def test_driving_score_is_route_completion_times_the_penalties():
    assert driving_score(_row(success=True, route_completion=1.0), has_goal=True) == 1.0
    assert driving_score(_row(collided=True), has_goal=True) == pytest.approx(0.5 * 0.60)
    assert driving_score(_row(route_deviation=True), has_goal=True) == pytest.approx(0.5 * 0.70)
    assert infractions(_row(), has_goal=True) == ["timeout"], "a goal not reached in time"
    assert infractions(_row(), has_goal=False) == [], "without a goal, surviving the time is the task"
    assert driving_score(_row(collided=True, offroad=True), has_goal=False) == pytest.approx(0.5 * 0.60 * 0.65)


def test_policy_keys_are_short_and_unique():
    assert policy_keys(("expert", "a/run", "b/run", "m/model.onnx", "oracle-pick:a/run")) == {
        "expert": "expert",
        "run": "a/run",
        "run#2": "b/run",
        "model.onnx": "m/model.onnx",
        "oracle-pick:run": "oracle-pick:a/run",
    }


def test_bench_resumes_and_scores_every_policy_on_the_same_seeds(tmp_path, untrained_onnx):
    config = BenchConfig(("expert", "rules", str(untrained_onnx)), "highway", 2, 100_000, 2, SHORT)
    bench = bench_drive(config, tmp_path, progress=False)
    assert bench["episodes_driven_now"] == 6
    assert set(bench["results"]) == {"expert", "rules", "model.onnx"}
    expert = bench["results"]["expert"]["highway"]
    assert expert["seeds"] == [100_000, 100_001] and expert["success_rate"] == 1.0
    assert expert["driving_score"] == 1.0 and expert["success_ci95"][1] == 1.0
    for key in ("collisions_per_100km", "offroads_per_100km", "p95_abs_jerk_mps3", "p95_abs_lateral_accel_mps2"):
        assert key in expert
    assert json.loads((tmp_path / BENCH).read_text())["seeds"] == [100_000, 100_001]
    runtime = bench["results"]["model.onnx"]["highway"]
    assert runtime["monitor_interventions_per_100km"] >= 0, "a runtime policy drives through the safety monitor"
    assert "monitor_interventions_per_100km" not in expert
    with open(tmp_path / EPISODES, "a") as f:
        f.write('{"policy": "expert", "scen')  # a line cut by a kill
    again = bench_drive(config, tmp_path, progress=False)
    assert again["episodes_driven_now"] == 0 and again["results"] == bench["results"]
    more = bench_drive(BenchConfig(("expert",), "highway", 3, 100_000, 1, SHORT), tmp_path, progress=False)
    assert more["episodes_driven_now"] == 1


def test_unknown_policy_or_scenario_is_refused_before_driving():
    with pytest.raises(UserError):
        BenchConfig(("expert", "nobody"))
    with pytest.raises(UserError):
        BenchConfig(("expert",), "moon")


def test_failed_episodes_are_kept_as_clips_that_replay_with_their_plans(tmp_path, untrained_run):
    from e2edrive.data.clip import read_clip
    from e2edrive.report.replay import render_replay

    bench = bench_drive(BenchConfig((str(untrained_run),), "highway", 2, 100_000, 1, SHORT), tmp_path, progress=False)
    key = untrained_run.name
    failed = bench["results"][key]["highway"]["failed_seeds"]
    assert failed, "an untrained network fails"
    assert [f["seed"] for f in bench["failures"]] == failed
    clip = read_clip(tmp_path / "failures" / key / f"highway-{failed[0]:06d}")
    assert clip.meta["reproduced"] and not clip.meta["success"]
    assert all(p is not None and len(p) == 12 for p in clip.signals["policy_trajectory_m"])
    from e2edrive.data.catalog import build_index

    assert build_index(tmp_path / "failures" / key)["clips"] == len(failed), "indexed like any clip"
    info = render_replay(clip.path, tmp_path / "replay.mp4")
    assert info["frames"] == clip.n_frames and info["policy_plans"] == clip.n_frames and info["inset"]
    from e2edrive.data.clip import read_video

    assert read_video(tmp_path / "replay.mp4").shape == (clip.n_frames, 96 * 3, 160 * 3, 3)


def test_open_loop_beside_closed_loop_with_the_blind_baseline(tiny_clips, untrained_onnx, tmp_path):
    from e2edrive.data.clip import list_clips
    from e2edrive.model.blind import train_blind

    summary = train_blind(list_clips(tiny_clips), tmp_path / "blind", steps=200)
    assert summary["samples"] > 0
    specs = ("expert", str(untrained_onnx), str(tmp_path / "blind"))
    config = BenchConfig(specs, "highway", 2, 100_000, 2, SHORT, save_failures=False, open_loop_data=str(tiny_clips))
    bench = bench_drive(config, tmp_path / "bench", progress=False)
    assert set(bench["open_loop"]) == {"model.onnx", "blind"}, "learned policies only"
    for m in bench["open_loop"].values():
        assert m["clips"] == 4 and m["frames"] > 0 and 0 <= m["plan_overlap_rate"] <= 1
        assert m["l2_1s_m"] >= 0 and m["l2_3s_m"] >= 0
        for h in (1, 2, 3):
            assert 0 <= m[f"best_l2_{h}s_m"] <= m[f"l2_{h}s_m"], "the nearest hypothesis is never farther"
        assert 0 <= m["confidence_picks_best_rate"] <= 1
    assert bench["open_loop"]["blind"]["confidence_picks_best_rate"] == 1.0, "one hypothesis: always the best"
    assert not any(k.startswith("yield") for m in bench["open_loop"].values() for k in m), "no yield head"
    assert bench["open_loop"]["blind"]["best_l2_3s_m"] == bench["open_loop"]["blind"]["l2_3s_m"]
    assert bench["open_loop"]["blind"]["l2_1s_m"] < bench["open_loop"]["model.onnx"]["l2_1s_m"], (
        "fed the clips' own speeds, even a briefly trained blind MLP beats an untrained network open loop"
    )
    assert "blind" in bench["results"] and bench["results"]["blind"]["highway"]["episodes_count"] == 2


def test_a_plan_into_the_car_ahead_overlaps_it():
    import numpy as np

    from e2edrive.evaluate.open_loop import overlaps_lead

    straight = np.stack([np.arange(1, 7) * 10.0, np.zeros(6)], -1)  # 20 m/s for 3 s
    assert overlaps_lead(straight, 20.0, gap_m=10.0, closing_mps=10.0), "closing at 10 m/s on a 10 m gap"
    assert not overlaps_lead(straight, 20.0, gap_m=10.0, closing_mps=0.0), "the lead keeps our speed"
    aside = straight + [0.0, 3.5]
    assert not overlaps_lead(aside, 20.0, gap_m=10.0, closing_mps=10.0), "a plan in the next lane passes it"


def test_open_loop_scores_a_yield_head_against_the_expert_decision(tiny_clips, tmp_path):
    import torch

    from e2edrive.core import io
    from e2edrive.data.clip import list_clips
    from e2edrive.evaluate.open_loop import open_loop
    from e2edrive.model.checkpoint import save_checkpoint
    from e2edrive.model.config import ModelConfig
    from e2edrive.model.net import DrivingNet
    from e2edrive.policies import make_policy

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "run", DrivingNet(ModelConfig(plan=io.PlanLayout(aux=io.AUX_NAMES))).eval(), {})
    scores = open_loop(make_policy(str(tmp_path / "run")), list_clips(tiny_clips)[:1])
    assert 0 <= scores["yield_accuracy"] <= 1 and scores["yield_frames"] == scores["frames"]
    assert "yield_recall" not in scores, "the highway's expert never yields in these clips: nothing to recall"


def test_a_plan_sets_off_by_its_distance_from_where_the_car_stands():
    import numpy as np

    from e2edrive.evaluate.open_loop import SET_OFF_M, sets_off

    times = np.arange(1, 7) * 0.5
    assert not sets_off(np.zeros((6, 2))), "a plan that stays put waits"
    jitter = np.stack([np.zeros(6), 0.1 * (-1.0) ** np.arange(6)], -1)
    assert not sets_off(jitter), "lateral jitter of a waiting plan is not motion"
    assert sets_off(np.stack([0.5 * 2.0 * times**2, np.zeros(6)], -1)), "2 m/s² from standing: 2.25 m at 1.5 s"
    late = np.stack([np.where(times > 1.5, 3.0, 0.5 * SET_OFF_M), np.zeros(6)], -1)
    assert not sets_off(late), "setting off after 1.5 s is still waiting now"
