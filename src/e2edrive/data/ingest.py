"""Real logs into the clip format. Streams a log lacks are declared in meta.json ("missing_streams") and
left null in signals.parquet, never made up.

- a dashcam video (video only): resampled to FRAME_RATE_HZ, resized to the camera's input size;
- a comma2k19 segment (signals only): CAN speed and steering, global pose turned into a local frame.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import av
import numpy as np

from e2edrive.core.io import FRAME_DT_S, IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX
from e2edrive.data.clip import SIGNAL_COLUMNS, ClipWriter

WGS84_E2 = 6.69437999014e-3
"""WGS-84 first eccentricity squared."""
STEERING_RATIO = 15.3
"""Steering-wheel to road-wheel ratio assumed for comma2k19's Toyota RAV4 (wheel angle = wheel deg / ratio)."""
LICENCES = {
    "udacity": "LICENSE-udacity-CarND-LaneLines-P1.txt",
    "comma2k19": "LICENSE-comma2k19.txt",
}


def _null_row(i: int, t: float) -> dict:
    row = {name: None for name in SIGNAL_COLUMNS}
    row |= {"frame_index": i, "time_s": t, "perturbed": False}  # no navigation command: declared missing
    return row


def _real_meta(source: str, missing: list[str], licence_key: str, **extra) -> dict:
    """meta.json fields shared by every real log; `missing_streams` lists what the log does not carry."""
    return {
        "scenario": "real",
        "seed": -1,
        "driver": "human",
        "source": source,
        "missing_streams": missing,
        "licence": LICENCES[licence_key],
        **extra,
    }


def _copy_licence(source_dir: Path, licence: str, clip_dir: Path) -> None:
    src = source_dir / licence
    if src.exists():
        shutil.copy(src, clip_dir / licence)


def ingest_video(video: Path, out_root: Path, clip_id: str | None = None) -> Path:
    """A dashcam MP4 → a clip with front.mp4 at 10 Hz and 160x96; every vehicle signal missing."""
    from PIL import Image

    video = Path(video)
    cid = clip_id or f"real-{video.stem}"
    camera = {"name": "front", "width_px": IMAGE_WIDTH_PX, "height_px": IMAGE_HEIGHT_PX, "source_video": video.name}
    writer = ClipWriter(Path(out_root), cid, [camera])
    try:
        i = 0
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            source = {"width_px": stream.codec_context.width, "height_px": stream.codec_context.height}
            for frame in container.decode(stream):
                if float(frame.time) + 1e-6 < i * FRAME_DT_S:
                    continue  # resample to FRAME_RATE_HZ: keep the first frame at or after each tick
                img = frame.to_image().resize((IMAGE_WIDTH_PX, IMAGE_HEIGHT_PX), Image.BILINEAR)
                writer.add({"front": np.asarray(img, np.uint8)}, _null_row(i, i * FRAME_DT_S))
                i += 1
        missing = ["calibration"] + [c for c in SIGNAL_COLUMNS if c not in ("frame_index", "time_s", "perturbed")]
        path = writer.commit(_real_meta(video.name, missing, "udacity", source_resolution=source))
    except BaseException:
        writer.abort()
        raise
    _copy_licence(video.parent, LICENCES["udacity"], path)
    return path


def _load(segment: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    return np.load(segment / name / "t"), np.load(segment / name / "value")


def enu_rotation(origin_ecef: np.ndarray) -> np.ndarray:
    """(3, 3) rotation taking ECEF vectors to local east/north/up at origin (WGS-84, geodetic latitude)."""
    x, y, z = origin_ecef
    lon = math.atan2(y, x)
    lat = math.atan2(z, math.hypot(x, y) * (1 - WGS84_E2))  # one fixed-point step: < 1e-5 rad off
    sl, cl, so, co = math.sin(lat), math.cos(lat), math.sin(lon), math.cos(lon)
    return np.array([[-so, co, 0.0], [-sl * co, -sl * so, cl], [cl * co, cl * so, sl]])


def ingest_comma2k19(segment: Path, out_root: Path, clip_id: str | None = None) -> Path:
    """A comma2k19 segment (signals only) → a clip without video: speed, steering, pose, acceleration."""
    segment = Path(segment)
    cid = clip_id or f"real-comma2k19-{segment.name}"
    t_pose = np.load(segment / "global_pose/frame_times")
    t = np.arange(t_pose[0], t_pose[-1], FRAME_DT_S)
    ecef = np.load(segment / "global_pose/frame_positions")
    rot = enu_rotation(ecef[0])
    pos = (ecef - ecef[0]) @ rot.T  # (N, 3) east, north, up metres
    vel = np.load(segment / "global_pose/frame_velocities") @ rot.T
    x = np.interp(t, t_pose, pos[:, 0])
    y = np.interp(t, t_pose, pos[:, 1])
    yaw = np.unwrap(np.arctan2(np.interp(t, t_pose, vel[:, 1]), np.interp(t, t_pose, vel[:, 0])))
    ts, speed = _load(segment, "processed_log/CAN/speed")
    speed = np.interp(t, ts, speed.reshape(-1))
    tst, wheel_deg = _load(segment, "processed_log/CAN/steering_angle")
    steer = np.radians(np.interp(t, tst, wheel_deg)) / STEERING_RATIO
    accel = np.gradient(speed, FRAME_DT_S)
    writer = ClipWriter(Path(out_root), cid, [])
    try:
        for i in range(len(t)):
            row = _null_row(i, i * FRAME_DT_S)
            row |= {
                "x_m": x[i],
                "y_m": y[i],
                "yaw_rad": yaw[i],
                "speed_mps": speed[i],
                "steer_rad": steer[i],
                "accel_mps2": accel[i],
            }
            row |= {"crashed": False}
            writer.add({}, row)
        missing = [
            "video",
            "command",
            "expert_steer_rad",
            "expert_accel_mps2",
            "lane_id",
            "lane_offset_m",
            "on_road",
            "lead_gap_m",
            "lead_closing_mps",
        ]
        extra = {"fps_source_pose_hz": 20, "steering_ratio_assumed": STEERING_RATIO}
        path = writer.commit(_real_meta(f"comma2k19/{segment.name}", missing, "comma2k19", **extra))
    except BaseException:
        writer.abort()
        raise
    _copy_licence(segment.parent, LICENCES["comma2k19"], path)
    return path
