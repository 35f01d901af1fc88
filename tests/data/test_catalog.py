import numpy as np

from e2edrive.data.catalog import build_index, query
from e2edrive.data.triggers import TriggerConfig, disagreement_events, find_events


def _signals(n=50):
    return {
        "speed_mps": np.full(n, 25.0),
        "yaw_rad": np.zeros(n),
        "perturbed": np.zeros(n, bool),
        "lead_gap_m": np.full(n, np.nan),
        "lead_closing_mps": np.full(n, np.nan),
        "crashed": np.zeros(n, bool),
    }


def test_hard_brake_near_miss_sharp_steer_and_crash():
    s = _signals()
    s["speed_mps"][10:15] = 25.0 - 0.6 * np.arange(1, 6)  # -6 m/s² for 0.5 s
    s["speed_mps"][15:] = s["speed_mps"][14]
    s["lead_gap_m"][30:33] = 10.0
    s["lead_closing_mps"][30:33] = 8.0  # TTC 1.25 s
    s["yaw_rad"][38:] = 0.03 * np.arange(1, 13)  # 0.3 rad/s at 25 m/s: 7.5 m/s² lateral
    s["crashed"][45:] = True
    events = find_events("c", s, TriggerConfig())
    kinds = {e["trigger"] for e in events}
    assert kinds == {"hard_brake", "near_miss", "sharp_steer", "crash"}
    near = next(e for e in events if e["trigger"] == "near_miss")
    assert (near["frame_start"], near["frame_end"]) == (30, 32) and near["value"] == 1.25
    assert next(e for e in events if e["trigger"] == "crash")["frame_start"] == 45
    assert find_events("c", _signals(), TriggerConfig()) == []


def test_disagreement_trigger():
    planned = np.zeros((6, 2))
    driven = np.zeros((6, 2))
    driven[2:4, 1] = 3.0
    events = disagreement_events("c", planned, driven)
    assert [(e["frame_start"], e["frame_end"]) for e in events] == [(2, 3)]


def test_index_and_sql_query(tiny_clips):
    counts = build_index(tiny_clips)
    assert counts["clips"] == 4
    rows = query(
        tiny_clips, "SELECT scenario, count(*) AS n, sum(n_frames) AS frames FROM clips GROUP BY scenario"
    ).to_pylist()
    assert rows == [{"scenario": "highway", "n": 4, "frames": 160}]
    joined = query(
        tiny_clips,
        "SELECT c.clip_id, f.mean_speed_mps FROM clips c JOIN frames f USING (clip_id) "
        "WHERE f.mean_speed_mps > 0 ORDER BY c.clip_id",
    )
    assert joined.num_rows == 4
    events = query(tiny_clips, "SELECT * FROM events")
    assert set(events.column_names) >= {"clip_id", "trigger", "frame_start", "speed_mps"}


def test_sharp_steer_judges_the_motion_merges_one_manoeuvre_and_skips_injected_pushes():
    s = _signals(100)
    # a calm lane change: 3.5 m over 3.5 s on a smooth profile, peaks 1.8 m/s² lateral and 3.2 m/s³ jerk
    t = np.arange(36) * 0.1
    s["yaw_rad"][5:41] = 3.5 / (3.5 * 25.0) * (1 - np.cos(2 * np.pi * t / 3.5))
    assert not [e for e in find_events("c", s) if e["trigger"] == "sharp_steer"]
    # two swerves 0.5 s apart are one event
    s["yaw_rad"][50:53] = [0.03, 0.06, 0.09]
    s["yaw_rad"][53:58] = 0.09
    s["yaw_rad"][58:61] = [0.06, 0.03, 0.0]
    sharp = [e for e in find_events("c", s) if e["trigger"] == "sharp_steer"]
    assert len(sharp) == 1 and sharp[0]["frame_start"] <= 50 and sharp[0]["frame_end"] >= 59
    # the same swerve while collection pushed the car is not the car's driving
    s["perturbed"][48:56] = True
    assert not [e for e in find_events("c", s) if e["trigger"] == "sharp_steer"]
