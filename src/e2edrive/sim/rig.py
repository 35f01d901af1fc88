"""Camera rig presets. The model's input is the `front` camera; the others are recorded for later models
(side contacts the front camera cannot see were the prototype's main crash cause)."""

from __future__ import annotations

from e2edrive.core.camera import CameraConfig
from e2edrive.core.errors import UserError

FRONT = CameraConfig()
"""The model's input: 160x96, 90° horizontal FOV, 1 m ahead of the car centre, 1.4 m high, 8° down."""

FULL_RIG = (
    FRONT,
    CameraConfig(name="front_wide", width_px=192, height_px=96, hfov_deg=140.0, mount_x_m=1.0, pitch_deg=-10.0),
    CameraConfig(
        name="left", hfov_deg=100.0, mount_x_m=0.0, mount_y_m=0.9, mount_z_m=1.3, yaw_deg=90.0, pitch_deg=-10.0
    ),
    CameraConfig(
        name="right", hfov_deg=100.0, mount_x_m=0.0, mount_y_m=-0.9, mount_z_m=1.3, yaw_deg=-90.0, pitch_deg=-10.0
    ),
    CameraConfig(name="rear", hfov_deg=90.0, mount_x_m=-2.4, mount_z_m=1.3, yaw_deg=180.0, pitch_deg=-8.0),
)

RIGS: dict[str, tuple[CameraConfig, ...]] = {"front": (FRONT,), "full": FULL_RIG}


def get_rig(name: str) -> tuple[CameraConfig, ...]:
    if name not in RIGS:
        raise UserError(f"unknown rig {name!r}; known: {sorted(RIGS)}")
    return RIGS[name]


def rig_cameras(names: tuple[str, ...] | list[str]) -> tuple[CameraConfig, ...]:
    """The full rig's cameras of these names, in this order (the cameras a model reads)."""
    by_name = {c.name: c for c in FULL_RIG}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise UserError(f"unknown camera(s) {unknown}; the rig has {list(by_name)}")
    return tuple(by_name[n] for n in names)
