"""Render a clip as a video a person can watch: the camera view, enlarged, with the policy's planned path (and
the expert's plan, where the clip has one) drawn on it, and a bird's-eye inset of the car's own path.

Colours: policy plan magenta, expert plan green, the path the car actually drove (inset) white.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core.camera import CameraConfig
from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_path
from e2edrive.core.io import TRAJECTORY_POINTS

SCALE = 3
INSET_PX = 120
INSET_M = 60.0
"""The inset shows INSET_M x INSET_M metres around the car, heading up."""
POLICY_RGB = (255, 40, 200)
EXPERT_RGB = (40, 220, 90)


def _plans(signals: dict, name: str, n: int) -> list[np.ndarray | None]:
    column = signals.get(name)
    if column is None:
        return [None] * n
    return [None if p is None else np.asarray(p, np.float32).reshape(TRAJECTORY_POINTS, 2) for p in column[:n]]


def _camera(meta: dict, name: str) -> CameraConfig:
    """The clip's calibration of a camera (`CameraConfig.calibration()` in meta.json)."""
    spec = next(c for c in meta["cameras"] if c["name"] == name)
    return CameraConfig(**{k: v for k, v in spec.items() if k in CameraConfig.__dataclass_fields__})


def _inset(x: np.ndarray, y: np.ndarray, yaw: np.ndarray, t: int, plans: list[tuple]) -> np.ndarray:
    """Bird's-eye view centred on the car at frame t, heading up: its driven path and the plans."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (INSET_PX, INSET_PX), (30, 30, 30))
    draw = ImageDraw.Draw(img)
    px_per_m = INSET_PX / INSET_M
    c, s = np.cos(yaw[t]), np.sin(yaw[t])

    def to_px(ego_xy: np.ndarray) -> list[tuple[float, float]]:  # ego frame (x fwd, y left) → pixels, heading up
        return [(INSET_PX / 2 - py * px_per_m, INSET_PX * 0.7 - px * px_per_m) for px, py in ego_xy]

    dx, dy = x - x[t], y - y[t]
    driven = np.stack([c * dx + s * dy, -s * dx + c * dy], axis=-1)
    draw.line(to_px(driven), fill=(230, 230, 230), width=1)
    for plan, rgb in plans:
        if plan is not None:
            draw.line(to_px(np.vstack([[0.0, 0.0], plan])), fill=rgb, width=2)
    cx, cy = to_px(np.array([[0.0, 0.0]]))[0]
    draw.rectangle([cx - 2, cy - 5, cx + 2, cy + 5], outline=(255, 255, 255))
    return np.asarray(img)


def render_replay(clip_dir: Path, out_mp4: Path, camera: str | None = None) -> dict:
    """Write out_mp4 (H.264) from a clip; returns frame count and what was drawn."""
    from PIL import Image

    from e2edrive.data.clip import VideoWriter, read_clip
    from e2edrive.deploy.runtime.overlay import draw_path

    clip_dir = Path(clip_dir)
    if not (clip_dir / "meta.json").is_file():
        raise UserError(f"{clip_dir}: not a clip (no meta.json)")
    clip = read_clip(clip_dir)
    names = [c["name"] for c in clip.meta.get("cameras", [])]
    if not names:
        raise UserError(f"{clip_dir}: the clip has no camera to replay")
    name = camera or ("front" if "front" in names else names[0])
    if name not in names:
        raise UserError(f"{clip_dir}: no camera {name!r}; it has {names}")
    video = clip.video(name)
    s = clip.signals
    n = min(len(video), clip.n_frames)
    policy, expert = _plans(s, "policy_trajectory_m", n), _plans(s, "expert_trajectory_m", n)
    calibration = _camera(clip.meta, name)
    pose = all(
        k in s and s[k].dtype != object and np.isfinite(s[k].astype(float)).all() for k in ("x_m", "y_m", "yaw_rad")
    )
    h, w = video.shape[1] * SCALE, video.shape[2] * SCALE
    with atomic_path(Path(out_mp4)) as tmp:
        writer = VideoWriter(tmp, w, h)
        last_expert = None
        for t in range(n):
            frame = np.asarray(Image.fromarray(video[t]).resize((w, h), Image.BILINEAR))
            last_expert = expert[t] if expert[t] is not None else last_expert
            for plan, rgb in ((last_expert, EXPERT_RGB), (policy[t], POLICY_RGB)):
                if plan is not None and name == "front":
                    frame = draw_path(frame, plan, calibration, scale=SCALE, rgb=rgb)
            if pose:
                inset = _inset(
                    s["x_m"], s["y_m"], s["yaw_rad"], t, [(last_expert, EXPERT_RGB), (policy[t], POLICY_RGB)]
                )
                frame = frame.copy()
                frame[4 : 4 + INSET_PX, w - 4 - INSET_PX : w - 4] = inset
            writer.write(frame)
        writer.close()
    return {
        "frames": n,
        "camera": name,
        "policy_plans": sum(p is not None for p in policy),
        "expert_plans": sum(p is not None for p in expert),
        "inset": pose,
        "size_px": [w, h],
    }
