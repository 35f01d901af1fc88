"""Training-loss plot and a GIF of one drive with the predicted path drawn on the camera frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.sim.camera import CameraConfig

PATH_RGB = (255, 40, 200)


def plot_loss(history: list[dict], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    steps = [h["step"] for h in history]
    for key in ("loss", "traj", "steer", "accel"):
        ax.plot(steps, [h[key] for h in history], label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("smooth-L1 (scaled)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)


def project_path(trajectory: np.ndarray, camera: CameraConfig) -> np.ndarray:
    """Ego-frame ground points (N, 2) metres → pixel coordinates (M, 2) of those in front of the camera."""
    k = camera.intrinsics()
    pitch = np.radians(camera.pitch_deg)
    x = trajectory[:, 0] - camera.mount_x_m
    y = trajectory[:, 1] - camera.mount_y_m
    z = -camera.mount_z_m * np.ones_like(x)
    # camera axes: forward, left, up after pitching down by -pitch
    fwd = x * np.cos(pitch) + z * np.sin(pitch)
    up = -x * np.sin(pitch) + z * np.cos(pitch)
    keep = fwd > 0.5
    u = k["cx"] - k["fx"] * y[keep] / fwd[keep]
    v = k["cy"] - k["fy"] * up[keep] / fwd[keep]
    return np.stack([u, v], axis=-1)


def draw_path(frame: np.ndarray, trajectory: np.ndarray, camera: CameraConfig, scale: int = 1) -> np.ndarray:
    """Draw the ego-frame path on a camera frame; `scale` when the frame was upsampled from the camera's size."""
    from PIL import Image, ImageDraw

    pts = np.vstack([[[camera.mount_x_m + 1.0, 0.0]], trajectory])
    pix = project_path(pts, camera) * scale
    img = Image.fromarray(frame)
    if len(pix) >= 2:
        ImageDraw.Draw(img).line([tuple(p) for p in pix], fill=PATH_RGB, width=scale)
    return np.asarray(img)


def save_gif(frames: list[np.ndarray], out_gif: Path, fps: int = 10, scale: int = 2) -> None:
    from PIL import Image

    images = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in frames]
    images[0].save(out_gif, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
