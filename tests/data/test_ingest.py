import json

import numpy as np
import pytest

from e2edrive.core import io
from e2edrive.data.check import check_clip
from e2edrive.data.clip import read_clip
from e2edrive.data.dataset import ClipDataset, DatasetConfig
from e2edrive.data.ingest import ingest_comma2k19, ingest_video
from tests.conftest import REAL


def test_dashcam_video_becomes_a_video_only_clip(tmp_path):
    path = ingest_video(REAL / "udacity_solidWhiteRight.mp4", tmp_path)
    clip = read_clip(path)
    video = clip.video()
    assert video.shape[1:] == (io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3)
    assert len(video) == clip.n_frames == pytest.approx(8.84 * io.FRAME_RATE_HZ, abs=1)
    assert np.isnan(clip.signals["speed_mps"]).all(), "speed is declared missing, not invented"
    assert "speed_mps" in clip.meta["missing_streams"]
    assert (path / "LICENSE-udacity-CarND-LaneLines-P1.txt").exists()
    assert check_clip(path) is None
    with pytest.warns(UserWarning, match="no .* to learn from"), pytest.raises(ValueError):
        ClipDataset(tmp_path, DatasetConfig("all"))


def test_comma2k19_segment_becomes_a_signals_only_clip(tmp_path):
    path = ingest_comma2k19(REAL / "comma2k19_example_segment", tmp_path)
    clip = read_clip(path)
    s = clip.signals
    assert clip.n_frames == pytest.approx(60 * io.FRAME_RATE_HZ, abs=3)
    assert not list(path.glob("*.mp4")) and "video" in clip.meta["missing_streams"]
    assert 5 < np.nanmean(s["speed_mps"]) < 45
    step_m = np.hypot(np.diff(s["x_m"]), np.diff(s["y_m"]))
    # pose-derived distance agrees with CAN speed integrated over time (within 5 %)
    assert step_m.sum() == pytest.approx(np.sum(s["speed_mps"][:-1]) * io.FRAME_DT_S, rel=0.05)
    assert (path / "LICENSE-comma2k19.txt").exists()
    assert check_clip(path) is None
    assert json.loads((path / "meta.json").read_text())["steering_ratio_assumed"] > 0
