import numpy as np

from e2edrive.data.ingest import ingest_comma2k19
from e2edrive.report.human_likeness import clip_quantities, human_likeness
from tests.conftest import REAL


def test_quantities_of_a_constant_turn():
    n = 50
    speed = np.full(n, 20.0)
    yaw = np.arange(n) * 0.01  # 0.1 rad/s at 10 Hz
    q = clip_quantities({"speed_mps": speed, "yaw_rad": yaw})
    assert np.allclose(q["accel_mps2"], 0) and np.allclose(q["jerk_mps3"], 0)
    assert np.allclose(q["lat_accel_mps2"], 2.0)


def test_human_vs_expert_report(tiny_clips, tmp_path):
    ingest_comma2k19(REAL / "comma2k19_example_segment", tmp_path / "human")
    stats = human_likeness({"human": tmp_path / "human", "expert": tiny_clips}, tmp_path / "h.png")
    assert set(stats) == {"human", "expert"}
    assert 5 < stats["human"]["speed_mps"]["mean"] < 45
    # the expert's DART pushes and lane keeping turn the car a little: some lateral acceleration, under 1 g
    assert 0.05 < stats["expert"]["lat_accel_mps2"]["max_abs"] < 9.81
    assert (tmp_path / "h.png").stat().st_size > 0
