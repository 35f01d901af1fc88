"""Vehicles from the vehicle mask: where each image column's nearest vehicle touches the road.

A box standing on the road shows its lowest pixel where it meets the ground, so the lowest vehicle pixel of
a column, projected to the road plane, is the nearest obstacle point along that column (a one-row
"stixel" scan). No labels, no tracking: the driver differentiates the gap over time.
"""

from __future__ import annotations

import numpy as np

from e2edrive.sim.drivers.rules.ground import GroundProjector


def contact_points(vehicle: np.ndarray, ground: GroundProjector) -> np.ndarray:
    """(K, 2) ego-frame road points (x forward, y left, m) where vehicles touch the road, one per column
    with a vehicle pixel on the road plane."""
    h, _ = vehicle.shape
    rows = np.arange(h)[:, None]
    lowest = np.where(vehicle, rows, -1).max(axis=0)  # (W,) lowest vehicle row per column, -1 if none
    cols = np.flatnonzero(lowest >= 0)
    pts = np.stack([ground.x_m[lowest[cols], cols], ground.y_m[lowest[cols], cols]], axis=1)
    return pts[np.isfinite(pts[:, 0])]


def nearest_in_corridor(points: np.ndarray, centre_y_m, half_width_m: float) -> float | None:
    """Distance ahead (x, m) of the nearest point within half_width_m of the path y = centre_y_m(x)."""
    if len(points) == 0:
        return None
    x, y = points[:, 0], points[:, 1]
    inside = (x > 0) & (np.abs(y - centre_y_m(x)) <= half_width_m)
    return float(x[inside].min()) if inside.any() else None
