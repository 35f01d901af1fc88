import json
from dataclasses import replace

import numpy as np
import pytest

from e2edrive.dagger import (
    FOCUS_FLOOR,
    INDEPENDENT_STAGE,
    MIN_TRAINING_SCALE,
    PRIOR_EPISODE_COST,
    DaggerConfig,
    best_round,
    episode_rates,
    failure_rates,
    focus_shares,
    rows_of,
    run_dagger,
    stability,
    training_minutes,
)
from e2edrive.data.clip import list_clips, read_clip
from tests.conftest import SHORT

TINY = dict(
    scenario="highway",
    rounds=1,
    episodes_per_round=2,
    expert_episodes=3,
    initial_train_minutes=0.03,
    train_minutes=0.03,
    eval_episodes=2,
    workers=1,
    overrides=SHORT,
)


def test_tiny_dagger_rounds_rows_and_resume(tmp_path):
    config = DaggerConfig(**TINY, batch_shares={"intersection": 2.0})
    summary = run_dagger(tmp_path, config)
    rows = [json.loads(line) for line in (tmp_path / "rounds.jsonl").read_text().splitlines()]
    assert [(r["round"], r["scenario"]) for r in rows] == [(0, "highway"), (1, "highway")]
    assert rows[1]["beta"] == config.beta and rows[1]["on_policy_clips"] == 2
    for key in ("success_rate", "route_completion", "collisions_per_100km", "mean_speed_mps", "samples_per_s"):
        assert all(key in r for r in rows)
    clips = list_clips(tmp_path / "round_1" / "clips")
    assert [c.name for c in clips] == ["highway-310000"], "new seeds, never training or eval"
    focused = list_clips(tmp_path / "round_1" / "focus_clips")  # the other half, where the first half failed
    assert [c.name for c in focused] == ["highway-315000"]
    assert [(f["round"], f["episodes"]) for f in summary["focus_shares"]] == [(1, 1)]
    meta = read_clip(clips[0]).meta
    assert meta["driver"] == str(tmp_path / "round_0" / "run") and meta["collect_config"]["expert_share"] == 0.5
    assert "expert_trajectory_m" in read_clip(clips[0]).signals
    tuned = json.loads((tmp_path / "round_1" / "run" / "config.json").read_text())["train"]
    assert tuned["init"] == str(tmp_path / "round_0" / "run")
    assert tuned["source_shares"] == pytest.approx([0.7, 0.15, 0.15])  # expert data, then each clip directory
    assert tuned["scenario_shares"] == {"intersection": 2.0}  # every round's batches, round 0's too
    base = json.loads((tmp_path / "round_0" / "run" / "config.json").read_text())["train"]
    assert base["scenario_shares"] == {"intersection": 2.0}
    assert (tmp_path / "run" / "model.safetensors").exists() and summary["final_run"] == str(tmp_path / "run")
    kept = tmp_path / f"round_{summary['final_round']}" / "run" / "model.safetensors"
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == kept.read_bytes()
    assert {c["metric"] for c in summary["stability"]} == {"success_rate", "route_completion"}
    evals = sorted(tmp_path.glob("round_*/eval.json"))
    stamps = [p.stat().st_mtime_ns for p in evals]
    run_dagger(tmp_path, config)  # resumes: nothing re-driven or re-evaluated
    assert [p.stat().st_mtime_ns for p in evals] == stamps


def test_focus_goes_where_the_learner_failed(tmp_path):
    for name, scenario, success in (("a", "highway", True), ("b", "roundabout", False), ("c", "roundabout", True)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "meta.json").write_text(json.dumps({"scenario": scenario, "success": success}))
    failures = failure_rates(tmp_path)
    assert failures == {"highway": 0.0, "roundabout": 0.5}
    names = ["highway", "racetrack", "roundabout"]
    to = focus_shares(names, failures, {"roundabout": 2.0})  # failure rate plus the floor, times the base share
    floor = FOCUS_FLOOR
    assert to == pytest.approx({"highway": floor, "racetrack": 1 + floor, "roundabout": 2 * (0.5 + floor)})
    assert focus_shares(["highway"], {"highway": 0.0}, {}) == {}, "nothing failed: the round keeps its shares"


def _result(successes: list[bool]) -> dict:
    episodes = [{"seed": i, "success": s, "route_completion": 1.0 if s else 0.5} for i, s in enumerate(successes)]
    return {"episodes": episodes}


def test_stability_flags_a_fall_beyond_the_noise_band():
    same = stability([_result([True] * 20), _result([True] * 19 + [False])], "highway")
    assert all(c["stable"] for c in same), "one episode in 20 is within noise"
    fall = stability([_result([True] * 20), _result([True] * 10 + [False] * 10)], "highway")
    assert not any(c["stable"] for c in fall)


def test_rows_of_one_and_several_scenarios():
    one = {"success_rate": 1.0, "route_completion": 1.0, "collisions_per_100km": 0.0}
    one["mean_speed_mps"] = 20.0
    assert rows_of(one, "highway", 2, 0.25, {})[0] == {"round": 2, "beta": 0.25, "scenario": "highway", **one}
    both = {"scenarios": {"a": one, "b": one}}
    assert [r["scenario"] for r in rows_of(both, "all", 0, 0.0, {})] == ["a", "b"]


def test_overlapping_seeds_are_refused():
    from e2edrive.core.errors import UserError

    with pytest.raises(UserError):
        DaggerConfig(expert_episodes=200_000)


def test_dagger_from_a_given_model_scores_it_as_round_0(untrained_run, tiny_clips, tmp_path):
    config = DaggerConfig(**{**TINY, "rounds": 0})
    independent = []  # stages without the learner get the expert clips, once, and are timed
    summary = run_dagger(tmp_path, config, data=tiny_clips, init=untrained_run, independent=independent.append)
    assert independent == [tiny_clips] and INDEPENDENT_STAGE in summary["stage_wall_s"]
    assert [r["round"] for r in summary["rows"]] == [0] and (tmp_path / "round_0" / "eval.json").exists()
    assert (tmp_path / "run" / "model.safetensors").exists(), "the given model is the result of zero rounds"


def test_training_shrinks_to_the_deadline_from_the_driving_measured_so_far():
    config = DaggerConfig(
        rounds=3,
        episodes_per_round=48,
        expert_episodes=240,
        eval_episodes=20,
        initial_train_minutes=14.0,
        train_minutes=6.5,
        deadline_minutes=60.0,
        after_evaluations=4.5,
    )
    assert training_minutes(config, 0, {}, {}, 0.0, 6) == 14.0, "nothing driven yet: nothing to predict from"
    assert training_minutes(replace(config, deadline_minutes=None), 0, {"collect expert": 2400.0}, {}, 2400.0, 6) == 14
    # a fast machine: 0.3 s per expert episode, the driving ahead leaves room for every budget
    assert training_minutes(config, 0, {"collect expert": 72.0}, {}, 72.0, 6) == 14.0
    # 0.9 s per expert episode, the other kinds by the priors; the last round's 6.5 min set aside first:
    # 14 x (3600 - 216 - driving - 390) / ((14 + 2 x 6.5) x 60)
    driving = 8.5 * 120 * 0.9 * PRIOR_EPISODE_COST["evaluate"] + 3 * 48 * 0.9 * PRIOR_EPISODE_COST["learner"]
    slow = training_minutes(config, 0, {"collect expert": 216.0}, {}, 216.0, 6)
    assert slow == pytest.approx(14.0 * (3600 - 216 - driving - 390) / ((14 + 2 * 6.5) * 60)) and slow < 14.0
    # 3 s per expert episode: the driving alone would take the hour; training keeps its floor
    assert training_minutes(config, 0, {"collect expert": 720.0}, {}, 720.0, 6) == 14.0 * MIN_TRAINING_SCALE
    # in round 2 the measured rates replace the priors, and round 0 and 1 training overran their budgets by 10 %
    walls = {
        "collect expert": 144.0,
        "train round 0": 924.0,
        "evaluate round 0": 24.0,
        "collect round 1": 144.0,
        "train round 1": 429.0,
        "evaluate round 1": 30.0,
    }
    rates = episode_rates(config, walls, 6)
    assert rates == {"expert": 0.6, "learner": 3.0, "evaluate": 0.25}, "evaluations: the slowest round's rate"
    elapsed = sum(walls.values())
    driving = (2 + 4.5) * 120 * 0.25 + 1 * 48 * 3.0
    expected = 6.5 * (2700 - elapsed - driving - 6.5 * 60 * 1.1) / (6.5 * 60 * 1.1)
    minutes = training_minutes(replace(config, deadline_minutes=45.0), 2, walls, {0: 840.0, 1: 390.0}, elapsed, 6)
    assert minutes == pytest.approx(expected) and MIN_TRAINING_SCALE * 6.5 < minutes < 6.5
    # a last round with its own budget: set aside before round 2 gets its share, kept in round 3 if it fits
    final = replace(config, deadline_minutes=45.0, final_train_minutes=4.0)
    assert [final.budget_minutes(r) for r in range(4)] == [14.0, 6.5, 6.5, 4.0]
    minutes = training_minutes(final, 2, walls, {0: 840.0, 1: 390.0}, elapsed, 6)
    assert minutes == pytest.approx(6.5 * (2700 - elapsed - driving - 4.0 * 66) / (6.5 * 66))
    walls |= {"collect round 2": 144.0, "train round 2": minutes * 66, "evaluate round 2": 30.0}
    last = training_minutes(final, 3, walls, {0: 840.0, 1: 390.0, 2: minutes * 60}, sum(walls.values()), 6)
    assert last == pytest.approx(4.0), "the set-aside budget is there when the last round comes"


def test_the_kept_round_is_the_best_on_mean_success_then_route_completion():
    def result(**success_and_route):
        return {"scenarios": {k: {"success_rate": s, "route_completion": c} for k, (s, c) in success_and_route.items()}}

    rounds = [
        result(highway=(0.5, 0.9), racetrack=(0.0, 0.3)),
        result(highway=(0.6, 0.9), racetrack=(0.6, 0.8)),  # best: a racetrack that fell back in round 2
        result(highway=(0.9, 1.0), racetrack=(0.1, 0.5)),
    ]
    assert best_round(rounds, "all") == 1
    tie = [result(highway=(0.5, 0.8)), result(highway=(0.5, 0.9)), result(highway=(0.5, 0.9))]
    assert best_round(tie, "all") == 2, "route completion breaks a tie in success, then the later round"


def test_a_later_round_within_the_noise_of_the_best_is_kept():
    """The one-standard-error rule: among rounds the evaluation cannot tell apart, the one with the most data and
    training (a run kept round 3 at 85.0 % on the demo's seeds over round 5's 84.2; on 50 other seeds per scenario
    round 3 drove 81.7 %, round 5 89.7)."""

    def result(successes: list[int]):
        episodes = [
            {"seed": i, "success": bool(x), "route_completion": 1.0 if x else 0.5} for i, x in enumerate(successes)
        ]
        rate = float(np.mean(successes))
        return {
            "scenarios": {"highway": {"success_rate": rate, "route_completion": 0.5 + rate / 2, "episodes": episodes}}
        }

    best = [1] * 17 + [0] * 3
    one_worse = [1] * 16 + [0] * 4  # one episode less: within the band
    collapsed = [1] * 8 + [0] * 12
    assert best_round([result(best), result(one_worse)], "all") == 1
    assert best_round([result(best), result(collapsed)], "all") == 0, "a late round that falls back is not kept"
    assert best_round([result(best), result(one_worse), result(collapsed)], "all") == 1


def test_a_later_round_where_one_scenario_collapses_is_not_kept():
    """A mean within noise can hide one scenario falling apart (a run's last round: the roundabout from 15 % and
    route completion 0.83 to 0 % and 0.35, while the others held): that round is not the one kept."""

    def result(**per: list[float]):
        scenarios = {}
        for name, routes in per.items():
            episodes = [{"seed": i, "success": r == 1.0, "route_completion": r} for i, r in enumerate(routes)]
            scenarios[name] = {
                "success_rate": float(np.mean([e["success"] for e in episodes])),
                "route_completion": float(np.mean(routes)),
                "episodes": episodes,
            }
        return {"scenarios": scenarios}

    highway = [1.0] * 16 + [0.5] * 4
    best = result(highway=highway, roundabout=[1.0] * 3 + [0.8] * 17)
    later = result(highway=[1.0] * 18 + [0.5] * 2, roundabout=[1.0] * 3 + [0.8] * 17)
    collapsed = result(highway=highway, roundabout=[1.0] * 2 + [0.3] * 18)  # mean success: one episode less
    assert best_round([best, later], "all") == 1
    assert best_round([best, collapsed], "all") == 0, "the roundabout's route completion fell beyond its band"
    assert best_round([best, later, collapsed], "all") == 1
