"""Browse one clip in Rerun (`rerun-sdk`, the `viz` extra), the way LeRobot and openpilot users browse logs:
every camera as video, the signals as time series, a bird's-eye view with the driven path and the expert's and
the policy's planned trajectories, and trigger events as markers on the timeline.

Works on any clip: fleet, DAgger, failure replay or real (streams a real log lacks are simply absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core.errors import UserError
from e2edrive.core.io import FRAME_DT_S, TRAJECTORY_POINTS

SERIES = (
    "speed_mps",
    "steer_rad",
    "accel_mps2",
    "expert_steer_rad",
    "expert_accel_mps2",
    "lane_offset_m",
    "lead_gap_m",
    "lead_closing_mps",
)
PLANS = {"expert_trajectory_m": (40, 220, 90), "policy_trajectory_m": (255, 40, 200)}


def _to_world(plan: np.ndarray, x: float, y: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([x + c * plan[:, 0] - s * plan[:, 1], y + s * plan[:, 0] + c * plan[:, 1]], axis=-1)


def log_clip(clip_dir: Path, save: Path | None = None) -> dict:
    """Log a clip to a Rerun recording: saved to `save` (.rrd), else shown in a spawned viewer. Returns what
    was logged (entity paths and counts)."""
    try:
        import rerun as rr
    except ModuleNotFoundError as exc:
        raise UserError("e2edrive view needs rerun-sdk, from the 'viz' extra: pip install 'e2edrive[viz]'") from exc
    from e2edrive.data.clip import read_clip
    from e2edrive.data.triggers import find_events

    clip_dir = Path(clip_dir)
    if not (clip_dir / "meta.json").is_file() or not (clip_dir / "signals.parquet").is_file():
        raise UserError(f"{clip_dir}: not a clip (expected meta.json and signals.parquet)")
    clip = read_clip(clip_dir)
    s, n = clip.signals, clip.n_frames
    rr.init("e2edrive", recording_id=clip_dir.name, spawn=save is None)
    if save is not None:
        rr.save(str(save))
    logged: dict[str, int] = {}
    for camera in clip.meta.get("cameras", []):
        path = clip_dir / f"{camera['name']}.mp4"
        if not path.exists():
            continue
        entity = f"camera/{camera['name']}"
        video = rr.AssetVideo(path=str(path))
        rr.log(entity, video, static=True)
        times_ns = video.read_frame_timestamps_nanos()
        rr.send_columns(
            entity,
            indexes=[rr.TimeColumn("time", duration=times_ns * 1e-9)],
            columns=rr.VideoFrameReference.columns_nanos(times_ns),
        )
        logged[entity] = len(times_ns)
    t = np.asarray(s.get("time_s", np.arange(n) * FRAME_DT_S), float)
    for name in SERIES:
        if name not in s:
            continue
        values = np.asarray(s[name], dtype=object)
        keep = np.array([v is not None and np.isfinite(float(v)) for v in values], bool)
        if keep.any():
            rr.send_columns(
                f"signals/{name}",
                indexes=[rr.TimeColumn("time", duration=t[keep])],
                columns=rr.Scalars.columns(scalars=values[keep].astype(float)),
            )
            logged[f"signals/{name}"] = int(keep.sum())
    pose = all(
        k in s and s[k].dtype != object and np.isfinite(s[k].astype(float)).all() for k in ("x_m", "y_m", "yaw_rad")
    )
    if pose:
        x, y, yaw = (np.asarray(s[k], float) for k in ("x_m", "y_m", "yaw_rad"))
        rr.log("bev/driven", rr.LineStrips2D([np.stack([x, y], -1)], colors=[(230, 230, 230)]), static=True)
        logged["bev/driven"] = 1
        for column, rgb in PLANS.items():
            if column not in s:
                continue
            count = 0
            for i, plan in enumerate(s[column][:n]):
                if plan is None:
                    continue
                rr.set_time("time", duration=float(t[i]))
                world = _to_world(np.asarray(plan, float).reshape(TRAJECTORY_POINTS, 2), x[i], y[i], yaw[i])
                rr.log(f"bev/{column}", rr.LineStrips2D([np.vstack([[x[i], y[i]], world])], colors=[rgb]))
                count += 1
            logged[f"bev/{column}"] = count
        rr.send_columns(
            "bev/ego",
            indexes=[rr.TimeColumn("time", duration=t)],
            columns=rr.Points2D.columns(positions=np.stack([x, y], -1)),
        )
        logged["bev/ego"] = n
        events = find_events(clip_dir.name, s) if "speed_mps" in s and s["speed_mps"].dtype != object else []
        for e in events:
            rr.set_time("time", duration=float(t[e["frame_start"]]))
            rr.log("events", rr.TextLog(f"{e['trigger']} ({e['value']:.2f})", level="WARN"))
        logged["events"] = len(events)
    rr.log("meta", rr.TextDocument(str({k: clip.meta.get(k) for k in ("scenario", "seed", "driver")})), static=True)
    if save is not None:
        rr.disconnect()
    return logged
