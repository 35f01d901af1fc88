import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from e2edrive.data.clip import SIGNAL_COLUMNS, list_clips, read_clip
from e2edrive.fleet.collect import CollectConfig, collect
from tests.conftest import SHORT


def _digest(clip: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(clip.iterdir()) if f.name != "meta.json"}


def test_clip_layout_and_contents(tiny_clips):
    clips = list_clips(tiny_clips)
    assert [c.name for c in clips] == [f"highway-{s:06d}" for s in range(4)]
    clip = read_clip(clips[0])
    assert set(SIGNAL_COLUMNS) <= set(clip.signals)
    assert clip.signals["expert_yielding"].dtype == bool, "the expert's yield decision, on every row"
    meta = clip.meta
    for key in ("scenario", "seed", "env_config", "cameras", "package_version", "schema_version", "expert_crashed"):
        assert key in meta
    assert meta["cameras"][0]["intrinsics"]["fx"] > 0
    video = clip.video()
    assert video.shape == (clip.n_frames, 96, 160, 3)
    assert np.all(np.diff(clip.signals["time_s"]) > 0)
    assert pq.read_schema(clips[0] / "signals.parquet").field("speed_mps").type == "double"


def test_same_seeds_same_bytes_any_worker_count(tiny_clips, tmp_path):
    collect(CollectConfig(episodes=2, workers=1, seed=0, overrides=SHORT), tmp_path, progress=False)
    for clip in list_clips(tmp_path):
        assert _digest(clip) == _digest(tiny_clips / clip.name)
        a = json.loads((clip / "meta.json").read_text())
        b = json.loads((tiny_clips / clip.name / "meta.json").read_text())
        assert a["seed"] == b["seed"] and a["n_frames"] == b["n_frames"]


def test_rerun_skips_finished_clips(tmp_path):
    cfg = CollectConfig(episodes=1, workers=1, seed=5, overrides=SHORT)
    assert len(collect(cfg, tmp_path, progress=False)) == 1
    assert collect(cfg, tmp_path, progress=False) == []


KILL_SCRIPT = """
import sys
from pathlib import Path
from e2edrive.fleet.collect import CollectConfig, collect
config = CollectConfig(episodes=50, workers=1, seed=0, overrides={"duration": 30.0, "vehicles_count": 10})
collect(config, Path(sys.argv[1]), progress=False)
"""


def test_killed_writer_leaves_no_half_clip(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path)], env={**os.environ, "PYTHONPATH": "src"})
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert any(p.name.startswith(".tmp-") for p in tmp_path.iterdir()), "the kill should land mid-clip"
    for clip in list_clips(tmp_path):  # everything visible is whole
        read_clip(clip).video()
    finished = {c.name for c in list_clips(tmp_path)}
    collect(CollectConfig(episodes=len(finished) + 1, workers=1, seed=0, overrides=SHORT), tmp_path, progress=False)
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.iterdir())
    assert len(list_clips(tmp_path)) == len(finished) + 1


def test_learner_drives_and_expert_labels(tmp_path):
    import torch

    from e2edrive.model.checkpoint import save_checkpoint
    from e2edrive.model.net import DrivingNet

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "run", DrivingNet().eval(), {})
    cfg = CollectConfig(episodes=1, workers=1, seed=3, overrides=SHORT, policy=str(tmp_path / "run"))
    collect(cfg, tmp_path / "clips", progress=False)
    clip = read_clip(list_clips(tmp_path / "clips")[0])
    assert clip.meta["driver"] == str(tmp_path / "run")
    s = clip.signals
    assert not s["perturbed"].any(), "only the expert is perturbed"
    assert not np.allclose(s["steer_rad"], s["expert_steer_rad"]), "labels come from the expert, not the driver"
    assert s["expert_yielding"].dtype == bool, "the labelling expert's yield decision"


def test_ray_engine_gives_the_same_clips(tiny_clips, tmp_path):
    import pytest

    ray = pytest.importorskip("ray")
    try:
        collect(CollectConfig(episodes=2, workers=2, seed=0, overrides=SHORT), tmp_path, progress=False, engine="ray")
    finally:
        ray.shutdown()
    clips = list_clips(tmp_path)
    assert [c.name for c in clips] == ["highway-000000", "highway-000001"]
    for clip in clips:
        assert _digest(clip) == _digest(tiny_clips / clip.name)


def test_full_rig_records_one_stream_per_camera(tmp_path):
    from e2edrive.sim.rig import FULL_RIG

    collect(CollectConfig(episodes=1, workers=1, seed=2, overrides=SHORT, cameras=FULL_RIG), tmp_path, progress=False)
    clip = read_clip(list_clips(tmp_path)[0])
    assert [c["name"] for c in clip.meta["cameras"]] == [c.name for c in FULL_RIG]
    for cam in FULL_RIG:
        video = read_clip(clip.path).video(cam.name)
        assert video.shape == (clip.n_frames, cam.height_px, cam.width_px, 3)


def test_all_scenarios_spread_by_share_each_clip_records_its_variation(tmp_path):
    config = CollectConfig("all", episodes=7, workers=2, seed=0, overrides={"duration": 1.0}, shares={"merge": 2})
    collect(config, tmp_path, progress=False)
    names = [c.name.rsplit("-", 1)[0] for c in list_clips(tmp_path)]
    assert sorted(names) == sorted(config.scenario_of(s) for s in range(7))
    assert names.count("merge") == 2 and len(set(names)) == 6
    meta = read_clip(next(c for c in list_clips(tmp_path) if c.name.startswith("highway"))).meta
    assert meta["scenario"] == "highway"
    assert meta["variation"]["ranges"]["vehicles_density"] == [0.8, 1.6]
    assert 0.8 <= meta["variation"]["drawn"]["vehicles_density"] <= 1.6
    assert meta["env_config"]["vehicles_density"] == meta["variation"]["drawn"]["vehicles_density"]


def test_dagger_clips_carry_the_expert_plan_and_who_drove(untrained_run, tmp_path):
    """beta = 1: the expert drives every segment of the learner's episode, so the plan it records from each state
    is the path it then drives; beta = 0: the learner drives, and the plans are still the expert's."""
    from e2edrive.core.policy import MAX_STEER_RAD
    from e2edrive.data.clip import future_trajectory
    from e2edrive.data.dataset import ClipDataset, DatasetConfig

    expert_led = CollectConfig(episodes=1, seed=4, overrides=SHORT, policy=str(untrained_run), expert_share=1.0)
    collect(expert_led, tmp_path / "beta1", progress=False)
    clip = read_clip(list_clips(tmp_path / "beta1")[0])
    s = clip.signals
    assert s["expert_in_control"].all()
    np.testing.assert_allclose(s["steer_rad"], np.clip(s["expert_steer_rad"], -MAX_STEER_RAD, MAX_STEER_RAD))
    planned = [t for t, p in enumerate(s["expert_trajectory_m"]) if p is not None]
    assert planned[:3] == [0, 2, 4] and len(planned) >= 5
    for t in planned:
        if t + 30 < clip.n_frames:
            plan = np.asarray(s["expert_trajectory_m"][t]).reshape(6, 2)
            np.testing.assert_allclose(plan, future_trajectory(s["x_m"], s["y_m"], s["yaw_rad"], t), atol=1e-3)
    data = ClipDataset(tmp_path / "beta1", DatasetConfig("all"))
    assert len(data) == len(planned), "a learner-driven clip's samples are the frames the expert planned from"

    learner_led = CollectConfig(episodes=1, seed=4, overrides=SHORT, policy=str(untrained_run), expert_share=0.0)
    collect(learner_led, tmp_path / "beta0", progress=False)
    s0 = read_clip(list_clips(tmp_path / "beta0")[0]).signals
    assert not s0["expert_in_control"].any()
    assert sum(p is not None for p in s0["expert_trajectory_m"]) >= 5


def test_a_clip_goes_on_past_its_goal_so_the_manoeuvre_before_it_is_learnt(tmp_path):
    """The roundabout's exit is its last 2-3 s before the goal: a clip that stopped at the goal gave those frames
    no trajectory label (none of them a sample); recorded past the goal, they are samples."""
    from e2edrive.core.io import COMMANDS
    from e2edrive.data.clip import FUTURE_FRAMES
    from e2edrive.data.dataset import ClipDataset, DatasetConfig

    collect(CollectConfig("roundabout", episodes=1, workers=1, seed=3), tmp_path, progress=False)
    clip = read_clip(list_clips(tmp_path)[0])
    assert clip.meta["success"] and clip.meta["past_goal_frames"] == FUTURE_FRAMES
    exits = np.flatnonzero(clip.signals["command"] == "exit")
    assert len(exits) >= 15 and exits[-1] == clip.n_frames - 1
    data = ClipDataset(tmp_path, DatasetConfig("all"))
    assert len(data) == clip.n_frames - FUTURE_FRAMES
    assert (data.sample_commands == COMMANDS.index("exit")).sum() >= 15
