"""Closed-loop driving metrics over a set of episodes."""

from __future__ import annotations

import numpy as np

METRES_PER_100KM = 100_000.0
METRIC_KEYS = (
    "success_rate",
    "collision_rate",
    "offroad_rate",
    "route_deviation_rate",
    "collisions_per_100km",
    "mean_speed_mps",
    "distance_m",
    "route_completion",
    "max_abs_jerk_mps3",
    "max_abs_lateral_accel_mps2",
    "close_following_share",
)
"""The headline metrics of `summarize`, in the order tables show them."""
DEFAULT_STEP_S = 0.1
"""Step length assumed for rows that carry no time_s (10 Hz)."""


def _comfort(rows: list[dict]) -> dict:
    """Worst and typical (median over episodes) of each episode's max |jerk| and max |lateral accel|."""
    out = {}
    for key in ("max_abs_jerk_mps3", "max_abs_lateral_accel_mps2"):
        values = [r[key] for r in rows if key in r]
        if values:
            out[key] = float(np.max(values))
            out[f"median_{key}"] = float(np.median(values))
    return out


def summarize(rows: list[dict]) -> dict:
    """rows: one dict per episode (seed, success, collided, offroad, distance_m, steps, time_s).

    collisions_per_100km divides collisions by the total distance driven; mean_speed_mps is distance over
    time, so a driver that crawls shows it here and in distance_m.
    """
    if not rows:
        raise ValueError("no episodes to summarize")
    rows = sorted(rows, key=lambda r: r["seed"])
    n = len(rows)
    total_m = float(sum(r["distance_m"] for r in rows))
    total_s = float(sum(r.get("time_s", r["steps"] * DEFAULT_STEP_S) for r in rows))
    collisions = sum(bool(r["collided"]) for r in rows)
    return {
        "episodes_count": n,
        "success_rate": sum(bool(r["success"]) for r in rows) / n,
        "collision_rate": collisions / n,
        "offroad_rate": sum(bool(r["offroad"]) for r in rows) / n,
        "route_deviation_rate": sum(bool(r.get("route_deviation", False)) for r in rows) / n,
        "collisions_per_100km": collisions / max(total_m, 1e-9) * METRES_PER_100KM,
        "mean_speed_mps": total_m / total_s if total_s > 0 else 0.0,
        "distance_m": total_m / n,
        "route_completion": float(np.mean([r.get("route_completion", float(r["success"])) for r in rows])),
        "close_following_share": float(np.mean([r.get("close_following_share", 0.0) for r in rows])),
        **_comfort(rows),
        "total_distance_m": total_m,
        "seeds": [r["seed"] for r in rows],
        "episodes": rows,
    }
