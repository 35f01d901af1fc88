"""How human does a driver drive? Distributions of speed, longitudinal acceleration, jerk and lateral
acceleration from clips' signals, for a real human log vs the expert vs the learned driver."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core.files import atomic_path
from e2edrive.core.io import FRAME_DT_S
from e2edrive.data.clip import list_clips, read_clip

QUANTITIES = {
    "speed_mps": "speed (m/s)",
    "accel_mps2": "longitudinal acceleration (m/s²)",
    "jerk_mps3": "jerk (m/s³)",
    "lat_accel_mps2": "lateral acceleration (m/s²)",
}


def clip_quantities(signals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-frame quantities from speed and yaw, the same way for simulated and real logs."""
    speed = signals["speed_mps"].astype(float)
    yaw = np.unwrap(signals["yaw_rad"].astype(float))
    ok = np.isfinite(speed) & np.isfinite(yaw)
    speed, yaw = speed[ok], yaw[ok]
    if len(speed) < 3:
        return {k: np.zeros(0) for k in QUANTITIES}
    accel = np.gradient(speed, FRAME_DT_S)
    return {
        "speed_mps": speed,
        "accel_mps2": accel,
        "jerk_mps3": np.gradient(accel, FRAME_DT_S),
        "lat_accel_mps2": speed * np.gradient(yaw, FRAME_DT_S),
    }


def driver_quantities(root: Path) -> dict[str, np.ndarray]:
    parts: dict[str, list[np.ndarray]] = {k: [] for k in QUANTITIES}
    for path in list_clips(root):
        clip = read_clip(path)
        s = clip.signals
        crashed = np.flatnonzero(s["crashed"].astype(bool)) if "crashed" in s else []
        end = int(crashed[0]) if len(crashed) else clip.n_frames  # a crash is not driving style
        for k, v in clip_quantities({k: s[k][:end] for k in ("speed_mps", "yaw_rad")}).items():
            parts[k].append(v)
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in parts.items()}


def summary(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    return {
        "mean": float(values.mean()),
        "std": float(values.std()),
        "p5": float(np.percentile(values, 5)),
        "p95": float(np.percentile(values, 95)),
        "max_abs": float(np.abs(values).max()),
    }


def human_likeness(drivers: dict[str, Path], out_png: Path) -> dict[str, dict[str, dict[str, float]]]:
    """drivers: label → clip directory. Writes a 2x2 histogram figure; returns label → quantity → stats."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = {label: driver_quantities(root) for label, root in drivers.items()}
    fig, axes = plt.subplots(2, 2, figsize=(9, 6), dpi=100)
    for ax, (key, title) in zip(axes.ravel(), QUANTITIES.items()):
        values = [d[key] for d in data.values() if d[key].size]
        if not values:
            continue
        lo, hi = np.percentile(np.concatenate(values), [0.5, 99.5])
        bins = np.linspace(lo, hi, 40)
        for label, d in data.items():
            if d[key].size:
                ax.hist(np.clip(d[key], lo, hi), bins=bins, density=True, histtype="step", label=label)
        ax.set_title(title)
    axes[0, 0].legend()
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return {label: {k: summary(v) for k, v in d.items()} for label, d in data.items()}
