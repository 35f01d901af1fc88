import pytest

from e2edrive.core.errors import UserError
from tests.conftest import REAL

rerun = pytest.importorskip("rerun", reason="rerun-sdk is the optional 'viz' extra (.ci/run installs it)")


def _entities(rrd) -> dict[str, int]:
    """entity path → rows, read back from the saved recording."""
    from rerun.chunk import RrdReader

    out = {}
    for line in str(RrdReader(rrd).store().summary()).splitlines():
        path, rows = line.split()[0], int(line.split("rows=")[1].split()[0])
        out[path] = out.get(path, 0) + rows
    return out


def test_a_fleet_clip_logs_cameras_signals_bev_and_events(tiny_clips, tmp_path):
    from e2edrive.data.clip import list_clips, read_clip
    from e2edrive.report.view import log_clip

    clip = list_clips(tiny_clips)[0]
    n = read_clip(clip).n_frames
    logged = log_clip(clip, tmp_path / "clip.rrd")
    seen = _entities(tmp_path / "clip.rrd")
    assert seen["/camera/front"] == 1 + n, "the video asset and one frame reference per frame"
    assert seen["/signals/speed_mps"] == n and seen["/bev/ego"] == n and seen["/bev/driven"] == 1
    assert logged["camera/front"] == n


def test_a_learner_clip_shows_the_expert_plans_and_a_real_clip_logs_what_it_has(untrained_run, tmp_path):
    from e2edrive.data.clip import list_clips
    from e2edrive.data.ingest import ingest_video
    from e2edrive.fleet.collect import CollectConfig, collect
    from e2edrive.report.view import log_clip
    from tests.conftest import SHORT

    collect(CollectConfig(episodes=1, seed=4, overrides=SHORT, policy=str(untrained_run)), tmp_path / "dagger")
    clip = list_clips(tmp_path / "dagger")[0]
    logged = log_clip(clip, tmp_path / "dagger.rrd")
    assert logged["bev/expert_trajectory_m"] >= 5
    assert _entities(tmp_path / "dagger.rrd")["/bev/expert_trajectory_m"] == logged["bev/expert_trajectory_m"]
    real = ingest_video(REAL / "udacity_solidWhiteRight.mp4", tmp_path / "real")
    logged = log_clip(real, tmp_path / "real.rrd")
    assert logged["camera/front"] > 10 and "bev/driven" not in logged, "a dashcam clip has video, no pose"


def test_not_a_clip_is_one_clear_error(tmp_path):
    from e2edrive.report.view import log_clip

    with pytest.raises(UserError, match="not a clip"):
        log_clip(tmp_path, tmp_path / "x.rrd")
