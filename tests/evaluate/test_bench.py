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
    assert policy_keys(("expert", "a/run", "b/run", "m/model.onnx")) == {
        "expert": "expert",
        "run": "a/run",
        "run#2": "b/run",
        "model.onnx": "m/model.onnx",
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


def test_failed_episodes_are_kept_as_clips_that_replay_with_their_plans(tmp_path, untrained_onnx):
    from e2edrive.data.clip import read_clip
    from e2edrive.report.replay import render_replay

    bench = bench_drive(BenchConfig((str(untrained_onnx),), "highway", 2, 100_000, 1, SHORT), tmp_path, progress=False)
    failed = bench["results"]["model.onnx"]["highway"]["failed_seeds"]
    assert failed, "an untrained network fails"
    assert [f["seed"] for f in bench["failures"]] == failed
    clip = read_clip(tmp_path / "failures" / "model.onnx" / f"highway-{failed[0]:06d}")
    assert clip.meta["reproduced"] and not clip.meta["success"]
    assert all(p is not None and len(p) == 12 for p in clip.signals["policy_trajectory_m"])
    info = render_replay(clip.path, tmp_path / "replay.mp4")
    assert info["frames"] == clip.n_frames and info["policy_plans"] == clip.n_frames and info["inset"]
    from e2edrive.data.clip import read_video

    assert read_video(tmp_path / "replay.mp4").shape == (clip.n_frames, 96 * 3, 160 * 3, 3)
