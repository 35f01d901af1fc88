"""The clip format: one directory per episode, written atomically.

    <clip_id>/
      front.mp4         H.264 video, one stream per camera, FRAME_RATE_HZ, yuv420p
      signals.parquet   one row per frame (SIGNAL_COLUMNS)
      meta.json         scenario, seed, config, camera calibration, package version, status

Frame i is what the cameras saw at time i / FRAME_RATE_HZ, before the command of row i was applied.
A clip is built in a hidden sibling directory and renamed into place, so readers see it whole or not at all.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive import __version__
from e2edrive.core.errors import UserError
from e2edrive.core.io import FRAME_RATE_HZ, TRAJECTORY_POINTS, TRAJECTORY_STRIDE_FRAMES

SCHEMA_VERSION = 2
"""2: added lead_gap_m and lead_closing_mps."""
TMP_PREFIX = ".tmp-"
VIDEO_CRF = 18
"""x264 constant rate factor: visually lossless at 160x96."""

SIGNAL_SCHEMA = pa.schema(
    [
        ("frame_index", pa.int32()),
        ("time_s", pa.float64()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("yaw_rad", pa.float64()),
        ("speed_mps", pa.float64()),
        ("steer_rad", pa.float64()),
        ("accel_mps2", pa.float64()),
        ("expert_steer_rad", pa.float64()),
        ("expert_accel_mps2", pa.float64()),
        ("lane_id", pa.int32()),
        ("lane_offset_m", pa.float64()),
        ("on_road", pa.bool_()),
        ("crashed", pa.bool_()),
        ("command", pa.string()),
        ("perturbed", pa.bool_()),
        ("lead_gap_m", pa.float64()),
        ("lead_closing_mps", pa.float64()),
    ]
)
SIGNAL_COLUMNS = tuple(SIGNAL_SCHEMA.names)
"""lead_gap_m / lead_closing_mps: radar-style bumper gap and closing speed to the car ahead in the ego lane,
null when there is none."""
OPTIONAL_SIGNAL_SCHEMA = pa.schema(
    [
        ("expert_trajectory_m", pa.list_(pa.float32(), 2 * TRAJECTORY_POINTS)),
        ("expert_in_control", pa.bool_()),
        ("policy_trajectory_m", pa.list_(pa.float32(), 2 * TRAJECTORY_POINTS)),
        ("expert_yielding", pa.bool_()),
    ]
)
"""Columns of clips a learner drove (DAgger): the expert's own plan from each labelled state (x1, y1, ... in the
ego frame, the trajectory label's layout; null where the expert did not plan) and whether the expert's command
was applied at that step (the beta mix); in a benchmark's failure replay, the trajectory the driving policy
planned at each frame (null for drivers without one). Expert-driven clips have none of them, except
expert_yielding: whether the expert (driving or labelling) held back for another car at that frame, on every
clip an expert drove or labelled (a privileged label for the auxiliary head, `core/io.py` AUX_NAMES)."""


FUTURE_FRAMES = TRAJECTORY_POINTS * TRAJECTORY_STRIDE_FRAMES
"""Frames a sample needs after it for its trajectory label."""
LABEL_STREAMS = ("video", "x_m", "y_m", "yaw_rad", "speed_mps", "expert_steer_rad", "expert_accel_mps2")
"""Streams a clip must carry to be learned from; real logs that declare one missing are skipped."""


def future_trajectory(x: np.ndarray, y: np.ndarray, yaw: np.ndarray, t: int) -> np.ndarray:
    """Positions at t + k*stride (k = 1..TRAJECTORY_POINTS) in the ego frame at t: (TRAJECTORY_POINTS, 2) m."""
    idx = t + TRAJECTORY_STRIDE_FRAMES * np.arange(1, TRAJECTORY_POINTS + 1)
    dx, dy = x[idx] - x[t], y[idx] - y[t]
    c, s = np.cos(yaw[t]), np.sin(yaw[t])
    return np.stack([c * dx + s * dy, -s * dx + c * dy], axis=-1).astype(np.float32)


def unpushed_points(perturbed: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(len(t), TRAJECTORY_POINTS) bool: did the car reach label point k of frame t without one of collection's
    pushes (`perturbed`, DART) among the actions from t on? A pushed point shows where the push took the car, which
    no camera can foresee: the expert's intention there is unknown, so it is no trajectory label. (Its controls
    label, the expert's own command, stays.) The recovery after a push is the expert's, and kept."""
    pushes = np.concatenate([[0], np.cumsum(np.asarray(perturbed, bool))])  # pushes[i]: pushed actions before i
    reached = t[:, None] + TRAJECTORY_STRIDE_FRAMES * np.arange(1, TRAJECTORY_POINTS + 1)[None, :]
    return pushes[reached] == pushes[t][:, None]


def clip_id(scenario: str, seed: int) -> str:
    return f"{scenario}-{seed:06d}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VideoWriter:
    """H.264 writer over PyAV for (H, W, 3) uint8 RGB frames; single-threaded x264 for identical bytes."""

    def __init__(self, path: Path, width_px: int, height_px: int, fps: int = FRAME_RATE_HZ) -> None:
        self._container = av.open(str(path), mode="w")
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps, 1))
        self._stream.width = width_px
        self._stream.height = height_px
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(VIDEO_CRF), "preset": "veryfast", "threads": "1", "tune": "zerolatency"}
        self._stream.codec_context.thread_count = 1

    def write(self, frame: np.ndarray) -> None:
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


def read_video(path: Path) -> np.ndarray:
    """Decode a whole video once: (N, H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    if not frames:
        raise ValueError(f"{path}: no decodable frames")
    return np.stack(frames)


class ClipWriter:
    """Streams one episode into a hidden temp directory; `commit()` makes it appear atomically."""

    def __init__(self, root: Path, cid: str, cameras: list[dict[str, Any]]) -> None:
        self.root = Path(root)
        self.clip_id = cid
        self.final_dir = self.root / cid
        self.tmp_dir = self.root / f"{TMP_PREFIX}{cid}-{os.getpid()}"
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir)
        self.tmp_dir.mkdir(parents=True)
        self.cameras = cameras
        self._videos = {
            c["name"]: VideoWriter(self.tmp_dir / f"{c['name']}.mp4", c["width_px"], c["height_px"]) for c in cameras
        }
        self._rows: dict[str, list] = {name: [] for name in SIGNAL_COLUMNS}

    def add(self, frames: dict[str, np.ndarray], signals: dict[str, Any]) -> None:
        """signals: every SIGNAL_COLUMNS value, and the OPTIONAL_SIGNAL_SCHEMA ones on every row or none."""
        for name, writer in self._videos.items():
            writer.write(frames[name])
        if not self._rows["frame_index"]:
            self._rows |= {f.name: [] for f in OPTIONAL_SIGNAL_SCHEMA if f.name in signals}
        for name, values in self._rows.items():
            values.append(signals[name])

    def commit(self, meta: dict[str, Any]) -> Path:
        for writer in self._videos.values():
            writer.close()
        optional = [f for f in OPTIONAL_SIGNAL_SCHEMA if f.name in self._rows]
        table = pa.Table.from_pydict(self._rows, schema=pa.schema([*SIGNAL_SCHEMA, *optional]))
        pq.write_table(table, self.tmp_dir / "signals.parquet")
        meta = {
            "schema_version": SCHEMA_VERSION,
            "clip_id": self.clip_id,
            "package_version": __version__,
            "fps": FRAME_RATE_HZ,
            "n_frames": table.num_rows,
            "cameras": self.cameras,
            **meta,
        }
        (self.tmp_dir / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True))  # the dir is atomic
        for f in self.tmp_dir.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(self.tmp_dir)
        if self.final_dir.exists():
            shutil.rmtree(self.final_dir)
        os.rename(self.tmp_dir, self.final_dir)
        _fsync_dir(self.root)
        return self.final_dir

    def abort(self) -> None:
        for writer in self._videos.values():
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - best effort on the failure path
                pass
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


@dataclass
class Clip:
    """A clip read back: signals as numpy columns, meta as a dict; video decoded on demand."""

    path: Path
    meta: dict[str, Any]
    signals: dict[str, np.ndarray]

    @property
    def n_frames(self) -> int:
        return len(self.signals["frame_index"])

    def video(self, camera: str = "front") -> np.ndarray:
        return read_video(self.path / f"{camera}.mp4")


def read_clip(path: Path) -> Clip:
    path = Path(path)
    meta = json.loads((path / "meta.json").read_text())
    table = pq.read_table(path / "signals.parquet")
    signals = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    return Clip(path=path, meta=meta, signals=signals)


def list_clips(root: Path) -> list[Path]:
    """Finished clips under root, sorted by id; hidden (in-progress) directories are never listed. UserError
    when root is not a directory."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such directory of clips")
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / "meta.json").exists())


def remove_stale_tmp(root: Path) -> int:
    """Delete temp directories left by killed writers; returns how many."""
    root = Path(root)
    stale = [p for p in root.glob(f"{TMP_PREFIX}*") if p.is_dir()] if root.exists() else []
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return len(stale)
