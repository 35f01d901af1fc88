import json
import subprocess
import sys

import av
import numpy as np
import pytest

from e2edrive.core import io
from e2edrive.deploy.runtime.loop import DriveLoop, LoopConfig, parse_plan
from e2edrive.deploy.runtime.monitor import LeadEstimate
from e2edrive.deploy.runtime.sources import Frame, VideoSource
from e2edrive.deploy.sim_source import SimSource
from tests.conftest import SHORT


@pytest.fixture(scope="module")
def onnx_path(untrained_onnx):
    return untrained_onnx


class ListSource:
    """Frames from a list; None entries are dropped frames. Records what reached the actuators."""

    def __init__(self, frames):
        self.frames = list(frames)
        self.applied = []

    @property
    def finished(self):
        return not self.frames

    def read(self):
        return self.frames.pop(0)

    def apply(self, action):
        self.applied.append(action)


def _frame(lead=None):
    return Frame({"front": np.zeros((io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3), np.uint8)}, 20.0, 0.0, lead=lead)


def test_dropped_frames_are_counted_and_fall_back(onnx_path):
    source = ListSource([_frame(), None, _frame(), None, None, _frame()])
    report = DriveLoop(onnx_path, source, LoopConfig(rate_hz=20, realtime=False)).run()
    assert report["cycles"] == 6 and report["dropped_frames"] == 3
    assert report["interventions"]["missing_output"] >= 3
    assert len(source.applied) == 6
    assert set(report["latency_ms"]) == {"p50", "p90", "p99", "max", "mean"}
    assert sum(report["latency_histogram_ms"]["counts"]) == 6


def test_missed_deadlines_do_not_use_late_outputs(onnx_path):
    source = ListSource([_frame() for _ in range(5)])
    report = DriveLoop(onnx_path, source, LoopConfig(rate_hz=1e6, realtime=False)).run()
    assert report["deadline_misses"] == 5
    assert report["interventions"]["missing_output"] == 5


def test_emergency_brake_from_lead_estimate(onnx_path):
    source = ListSource([_frame(LeadEstimate(3.0, 10.0))])
    report = DriveLoop(onnx_path, source, LoopConfig(rate_hz=20, realtime=False)).run()
    assert report["interventions"]["emergency_brake"] == 1
    assert source.applied[0].accel_mps2 < 0


def test_parse_plan_rejects_wrong_shapes():
    assert np.isnan(parse_plan(np.zeros(3))).all()
    assert parse_plan(np.ones((1, io.PLAN_LAYOUT.size))).shape == (io.PLAN_LAYOUT.size,)


def test_sim_source_runs_closed_loop_at_20hz(onnx_path):
    source = SimSource("highway", 0, 20.0, SHORT)
    report = DriveLoop(onnx_path, source, LoopConfig(rate_hz=20, realtime=False)).run()
    assert report["cycles"] == source.result()["steps"] > 0
    assert source.world.dt_s == pytest.approx(0.05)


def test_video_source_resamples_and_resizes(tmp_path):
    path = tmp_path / "v.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 320, 192, "yuv420p"
        for i in range(50):  # 2 s at 25 fps
            img = np.full((192, 320, 3), i * 5, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    source = VideoSource(path, rate_hz=10)
    frames = []
    while not source.finished:
        f = source.read()
        if f is not None:
            frames.append(f)
    assert 19 <= len(frames) <= 21
    assert frames[0].image.shape == (io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3)
    assert frames[1].time_s == pytest.approx(0.1)


def test_drive_cli_on_video_writes_mp4_and_latency(onnx_path, tmp_path):
    video = tmp_path / "in.mp4"
    with av.open(str(video), "w") as c:
        s = c.add_stream("libx264", rate=20)
        s.width, s.height, s.pix_fmt = 320, 192, "yuv420p"
        for _ in range(20):
            for p in s.encode(av.VideoFrame.from_ndarray(np.full((192, 320, 3), 100, np.uint8), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    out = tmp_path / "drive"
    cmd = [sys.executable, "-m", "e2edrive.cli", "drive", "--model", str(onnx_path), "--source", str(video)]
    r = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "latency.json").read_text())
    assert report["cycles"] >= 19 and (out / "drive.mp4").stat().st_size > 0


@pytest.mark.parametrize("monitor", ["--monitor", "--no-monitor"])
def test_drive_cli_on_sim_pools_episodes(onnx_path, tmp_path, monitor):
    out = tmp_path / "drive"
    cmd = [sys.executable, "-m", "e2edrive.cli", "drive", "--model", str(onnx_path), "--source", "sim", monitor]
    cmd += ["--episodes", "2", "--seed", "5", "--out", str(out), "--set", "duration=2", "--set", "vehicles_count=5"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads((out / "latency.json").read_text())
    assert report["runs"] == 2 and report["episodes"]["seeds"] == [5, 6]
    assert report["cycles"] == sum(e["steps"] for e in report["episodes"]["episodes"])
    assert sum(report["latency_histogram_ms"]["counts"]) == report["cycles"]
    assert report["monitor"] == (monitor == "--monitor")
