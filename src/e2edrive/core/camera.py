"""Camera calibration maths: a pinhole camera rigidly mounted on the ego car, its intrinsics, and the
projection between the road plane and pixels. numpy only: the rules driver, the plots and the in-car runtime
use it; the Panda3D rig (`sim/camera.py`) renders with it.

Ego frame: right-handed, x forward from the car centre, y left, z up from the road, metres (ISO 8855).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from e2edrive.core.io import IMAGE_HEIGHT_PX, IMAGE_WIDTH_PX

MIN_PROJECTION_DEPTH_M = 0.5
"""Points closer than this in front of the camera are not projected."""


@dataclass(frozen=True)
class CameraConfig:
    """A pinhole camera rigidly mounted on the ego car.

    Mount pose is in the ego frame (x forward from the car centre, y left, z up from the road), angles in
    degrees (pitch negative = looking down).
    """

    name: str = "front"
    width_px: int = IMAGE_WIDTH_PX
    height_px: int = IMAGE_HEIGHT_PX
    hfov_deg: float = 90.0
    mount_x_m: float = 1.0
    mount_y_m: float = 0.0
    mount_z_m: float = 1.4
    yaw_deg: float = 0.0
    pitch_deg: float = -8.0
    near_m: float = 0.5
    far_m: float = 300.0

    def __post_init__(self) -> None:
        if self.width_px <= 0 or self.height_px <= 0:
            raise ValueError(f"camera {self.name!r}: size must be positive, got {self.width_px}x{self.height_px}")
        if not 10.0 <= self.hfov_deg <= 170.0:
            raise ValueError(f"camera {self.name!r}: hfov_deg={self.hfov_deg} outside [10, 170]")

    @property
    def vfov_deg(self) -> float:
        half = math.atan(math.tan(math.radians(self.hfov_deg) / 2) * self.height_px / self.width_px)
        return math.degrees(2 * half)

    def intrinsics(self) -> dict[str, float]:
        """Pinhole intrinsics in pixels: fx, fy, cx, cy (square pixels, principal point at the centre)."""
        fx = (self.width_px / 2) / math.tan(math.radians(self.hfov_deg) / 2)
        return {"fx": fx, "fy": fx, "cx": self.width_px / 2, "cy": self.height_px / 2}

    def calibration(self) -> dict:
        return {**asdict(self), "vfov_deg": self.vfov_deg, "intrinsics": self.intrinsics()}


def project_ground_points(points_m: np.ndarray, camera: CameraConfig) -> np.ndarray:
    """Ego-frame road-plane points (N, 2) metres → pixel coordinates (M, 2) (u right, v down) of those in
    front of a forward-looking camera (yaw 0)."""
    k = camera.intrinsics()
    pitch = np.radians(camera.pitch_deg)
    x = points_m[:, 0] - camera.mount_x_m
    y = points_m[:, 1] - camera.mount_y_m
    z = -camera.mount_z_m * np.ones_like(x)
    # camera axes: forward, left, up after pitching down by -pitch
    fwd = x * np.cos(pitch) + z * np.sin(pitch)
    up = -x * np.sin(pitch) + z * np.cos(pitch)
    keep = fwd > MIN_PROJECTION_DEPTH_M
    u = k["cx"] - k["fx"] * y[keep] / fwd[keep]
    v = k["cy"] - k["fy"] * up[keep] / fwd[keep]
    return np.stack([u, v], axis=-1)
