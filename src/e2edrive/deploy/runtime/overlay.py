"""The planned path drawn on a camera frame, as the in-car loop records it on a video (and the report's GIFs)."""

from __future__ import annotations

import numpy as np

from e2edrive.core.camera import CameraConfig, project_ground_points

PATH_RGB = (255, 40, 200)


def draw_path(
    frame: np.ndarray, trajectory: np.ndarray, camera: CameraConfig, scale: int = 1, rgb: tuple = PATH_RGB
) -> np.ndarray:
    """Draw the ego-frame path on a camera frame; `scale` when the frame was upsampled from the camera's size."""
    from PIL import Image, ImageDraw

    pts = np.vstack([[[camera.mount_x_m + 1.0, 0.0]], trajectory])
    pix = project_ground_points(pts, camera) * scale
    img = Image.fromarray(frame)
    if len(pix) >= 2:
        ImageDraw.Draw(img).line([tuple(p) for p in pix], fill=rgb, width=scale)
    return np.asarray(img)
