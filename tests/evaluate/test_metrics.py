import pytest

from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
from e2edrive.evaluate.metrics import METRIC_KEYS, summarize
from tests.conftest import SHORT


def test_summarize_counts_and_normalizes_by_distance():
    rows = [
        {"seed": 1, "success": True, "collided": False, "offroad": False, "distance_m": 1000.0, "steps": 400},
        {"seed": 0, "success": False, "collided": True, "offroad": False, "distance_m": 500.0, "steps": 200},
        {"seed": 2, "success": False, "collided": False, "offroad": True, "distance_m": 500.0, "steps": 200},
    ]
    m = summarize(rows)
    assert m["success_rate"] == pytest.approx(1 / 3)
    assert m["collision_rate"] == pytest.approx(1 / 3) and m["offroad_rate"] == pytest.approx(1 / 3)
    assert m["collisions_per_100km"] == pytest.approx(1 / 2000 * 100_000)
    assert m["mean_speed_mps"] == pytest.approx(2000 / 80)
    assert m["distance_m"] == pytest.approx(2000 / 3)
    assert [r["seed"] for r in m["episodes"]] == [0, 1, 2]
    with pytest.raises(ValueError):
        summarize([])


def test_expert_eval_json_keys_and_overrides():
    result = evaluate(
        EvalConfig("expert", episodes=2, seed=50, workers=1, overrides={**SHORT, "lanes_count": 3}), progress=False
    )
    assert set(METRIC_KEYS) <= set(result)
    assert [e["seed"] for e in result["episodes"]] == [50, 51]
    assert set(result["episodes"][0]) >= {"seed", "success", "collided", "offroad", "distance_m", "steps"}
    assert result["success_rate"] == 1.0


def test_eval_of_all_scenarios_gives_each_and_their_mean():
    from e2edrive.evaluate.metrics import METRIC_KEYS

    result = evaluate(
        EvalConfig("expert", "highway,merge", episodes=1, seed=3, workers=2, overrides={"duration": 1.0}),
        progress=False,
    )
    assert set(result["scenarios"]) == {"highway", "merge"}
    for key in METRIC_KEYS:
        assert result["mean"][key] == (result["scenarios"]["highway"][key] + result["scenarios"]["merge"][key]) / 2
    assert result["scenarios"]["merge"]["episodes"][0]["seed"] == 3
