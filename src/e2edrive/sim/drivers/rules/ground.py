"""Inverse perspective mapping: where a pixel's ray meets the flat road, in the ego frame.

Ego frame: x forward from the car centre, y left, metres. Uses only the camera's calibration (intrinsics and
mount pose), as a real car would from its calibration file.
"""

from __future__ import annotations

import math

import numpy as np

from e2edrive.core.camera import CameraConfig

MAX_RANGE_M = 80.0
"""Pixels whose ground point lies farther than this are left out (too few pixels per metre to trust)."""


class GroundProjector:
    """Per-pixel road-plane coordinates, computed once per camera.

    x_m, y_m: (H, W) arrays; NaN where the pixel's ray does not hit the road within MAX_RANGE_M.
    """

    def __init__(self, camera: CameraConfig) -> None:
        k = camera.intrinsics()
        v, u = np.mgrid[0 : camera.height_px, 0 : camera.width_px].astype(np.float64) + 0.5
        right = (u - k["cx"]) / k["fx"]
        up = (k["cy"] - v) / k["fy"]
        pitch = math.radians(camera.pitch_deg)
        # Ray in a frame aligned with the camera's heading: forward along the optical axis, tilted by pitch.
        fwd = math.cos(pitch) - up * math.sin(pitch)
        z = math.sin(pitch) + up * math.cos(pitch)
        left = -right
        yaw = math.radians(camera.yaw_deg)
        dx = fwd * math.cos(yaw) - left * math.sin(yaw)
        dy = fwd * math.sin(yaw) + left * math.cos(yaw)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(z < -1e-6, camera.mount_z_m / -z, np.nan)
        x = camera.mount_x_m + t * dx
        y = camera.mount_y_m + t * dy
        far = ~(np.hypot(x - camera.mount_x_m, y - camera.mount_y_m) <= MAX_RANGE_M)
        x[far] = np.nan
        y[far] = np.nan
        self.camera = camera
        self.x_m = x
        self.y_m = y
        self.horizon_row = int(math.ceil(k["cy"] + k["fy"] * math.tan(pitch)))
        """First image row below the horizon (for a level, forward-looking camera)."""

    def project(self, mask: np.ndarray) -> np.ndarray:
        """(N, 2) ego-frame road points of the pixels set in an (H, W) bool mask (NaN rays dropped)."""
        pts = np.stack([self.x_m[mask], self.y_m[mask]], axis=1)
        return pts[np.isfinite(pts[:, 0])]
