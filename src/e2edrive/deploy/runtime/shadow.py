"""Shadow mode: the model runs beside whoever drove (expert, rules, a human) without control.

For every frame of a recorded clip the model plans; its 3 s end point is compared with where the car
actually went. Frames where they part by more than the threshold become `disagreement` trigger events,
written beside the clip as `shadow_events.parquet` (same columns as the catalog's events), so the data
engine mines them like any other trigger. No torch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive.core import io
from e2edrive.core.files import atomic_path
from e2edrive.core.policy import Observation
from e2edrive.data.clip import Clip, future_trajectory, list_clips, read_clip, read_video
from e2edrive.data.triggers import TriggerConfig, disagreement_events
from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy

SHADOW_EVENTS = "shadow_events.parquet"
EVENT_COLUMNS = ("clip_id", "trigger", "frame_start", "frame_end", "value")


def shadow_clip(policy: OnnxPolicy, clip: Clip, triggers: TriggerConfig = TriggerConfig()) -> dict:
    """Replay one clip through the model; writes shadow_events.parquet beside it; returns a summary."""
    clip_path = clip.path
    s = clip.signals
    videos = {c: read_video(clip_path / f"{c}.mp4") for c in policy.cameras}
    horizon = io.TRAJECTORY_POINTS * io.TRAJECTORY_STRIDE_FRAMES
    n = min(clip.n_frames, *(len(v) for v in videos.values()))
    policy.reset(0)
    planned, driven = [], []
    for t in range(n):
        frames = {c: v[t] for c, v in videos.items()}
        plan = policy.plan(Observation(frames, float(s["speed_mps"][t]), str(s["command"][t]), t * io.FRAME_DT_S))
        if t + horizon < n:
            planned.append(policy.layout.split(plan)[0][-1])
            driven.append(future_trajectory(s["x_m"], s["y_m"], s["yaw_rad"], t)[-1])
    events = disagreement_events(
        clip_path.name, np.array(planned).reshape(-1, 2), np.array(driven).reshape(-1, 2), triggers
    )
    table = pa.table({k: [e[k] for e in events] for k in EVENT_COLUMNS}) if events else _empty()
    with atomic_path(clip_path / SHADOW_EVENTS) as tmp:
        pq.write_table(table, tmp)
    err = np.linalg.norm(np.array(planned) - np.array(driven), axis=1) if planned else np.zeros(0)
    return {
        "clip_id": clip_path.name,
        "frames": n,
        "events": len(events),
        "mean_end_point_error_m": float(err.mean()) if err.size else None,
    }


def _empty() -> pa.Table:
    return pa.table(
        {
            "clip_id": pa.array([], pa.string()),
            "trigger": pa.array([], pa.string()),
            "frame_start": pa.array([], pa.int64()),
            "frame_end": pa.array([], pa.int64()),
            "value": pa.array([], pa.float64()),
        }
    )


def shadow_dir(model: Path, root: Path, triggers: TriggerConfig = TriggerConfig()) -> list[dict]:
    """Shadow every clip under root that has video and poses."""
    policy = OnnxPolicy(model)
    out = []
    for path in list_clips(root):
        clip = read_clip(path)
        lacking = [c for c in policy.cameras if not (path / f"{c}.mp4").exists()]
        if {"video", "x_m"} & set(clip.meta.get("missing_streams", [])) or lacking:
            continue
        out.append(shadow_clip(policy, clip, triggers))
    return out
