"""Triggers: find the rare, interesting moments in recorded signals (Tesla's "data engine" campaigns).

Each trigger turns a clip's signals into events (clip_id, trigger, frame_start, frame_end, value); an event
spans the frames where the condition holds, hits closer than `merge_gap_s` apart being one event. The car's
motion is judged, not the wheel: hard braking by the measured deceleration, sharp steering by the lateral
acceleration and lateral jerk of the driven path at the car's speed. Frames where collection injected a push
(`perturbed`, DART) and the recovery right after it are left out: they are ours, not the driving's.
Thresholds live in TriggerConfig; each trigger fires on a few percent of a fleet's frames at most.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from e2edrive.core.io import FRAME_DT_S


@dataclass(frozen=True)
class TriggerConfig:
    hard_brake_mps2: float = -3.0
    """Measured deceleration (from speed) below this is a hard brake."""
    near_miss_ttc_s: float = 2.0
    """Time to collision with the car ahead under this is a near miss."""
    sharp_lateral_accel_mps2: float = 3.0
    """|speed x yaw rate| above this is sharp steering (a calm lane change stays under ~2.5 m/s²)..."""
    sharp_lateral_jerk_mps3: float = 15.0
    """...and so is a lateral jerk above this (a swerve, even at low lateral acceleration; the expert's own lane
    changes reach ~12 m/s³ where highway-env's lane keeping takes over, 98th percentile of its frames)."""
    merge_gap_s: float = 1.0
    """Hits of one trigger less than this apart are one event (one manoeuvre, not several)."""
    after_perturbation_s: float = 1.0
    """Frames this long after an injected push are left out with it (the recovery is ours too)."""
    disagreement_m: float = 1.5
    """Shadow mode: planned vs driven position apart by more than this at the plan's horizon."""

    def to_json(self) -> dict:
        return asdict(self)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end] inclusive frame ranges where mask is True."""
    idx = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(idx[::2], idx[1::2])]


def _events(clip_id: str, name: str, mask: np.ndarray, values: np.ndarray, worst) -> list[dict]:
    out = []
    for a, b in _runs(mask):
        out.append(
            {
                "clip_id": clip_id,
                "trigger": name,
                "frame_start": a,
                "frame_end": b,
                "value": float(worst(values[a : b + 1])),
            }
        )
    return out


def _merged(mask: np.ndarray, gap_frames: int) -> np.ndarray:
    """mask with gaps of fewer than gap_frames False frames between two hits filled in."""
    out = mask.copy()
    runs = _runs(mask)
    for (_, end), (start, _) in zip(runs, runs[1:]):
        if start - end - 1 < gap_frames:
            out[end + 1 : start] = True
    return out


def _organic(signals: dict[str, np.ndarray], n: int, config: TriggerConfig) -> np.ndarray:
    """Frames of the car's own driving: not pushed by collection's perturbations, nor recovering from one."""
    perturbed = np.asarray(signals.get("perturbed", np.zeros(n, bool)), bool)
    tail = round(config.after_perturbation_s / FRAME_DT_S)
    pushed = np.convolve(perturbed.astype(int), np.ones(tail + 1, int))[:n] > 0
    return ~pushed


def lateral_motion(speed_mps: np.ndarray, yaw_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lateral acceleration m/s², lateral jerk m/s³) of the driven path: speed x yaw rate, and its rate."""
    if len(speed_mps) < 3:
        return np.zeros_like(speed_mps), np.zeros_like(speed_mps)
    yaw_rate = np.gradient(np.unwrap(yaw_rad), FRAME_DT_S)
    lateral = speed_mps * yaw_rate
    return lateral, np.gradient(lateral, FRAME_DT_S)


def find_events(clip_id: str, signals: dict[str, np.ndarray], config: TriggerConfig = TriggerConfig()) -> list[dict]:
    speed = np.asarray(signals["speed_mps"], float)
    n = len(speed)
    decel = np.gradient(speed, FRAME_DT_S) if n > 1 else np.zeros_like(speed)
    yaw = np.asarray(signals.get("yaw_rad", np.zeros(n)), float)
    lateral, jerk = lateral_motion(speed, yaw)
    gap = np.asarray(signals.get("lead_gap_m", np.full_like(speed, np.nan)), float)
    closing = np.asarray(signals.get("lead_closing_mps", np.full_like(speed, np.nan)), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ttc = np.where((closing > 0.1) & np.isfinite(gap), gap / closing, np.inf)
    crashed = np.asarray(signals["crashed"], bool)
    organic = _organic(signals, n, config)
    merge = round(config.merge_gap_s / FRAME_DT_S)
    sharp = (np.abs(lateral) > config.sharp_lateral_accel_mps2) | (np.abs(jerk) > config.sharp_lateral_jerk_mps3)
    found = (
        ("hard_brake", decel < config.hard_brake_mps2, decel, np.min),
        ("near_miss", ttc < config.near_miss_ttc_s, ttc, np.min),
        ("sharp_steer", sharp, np.abs(lateral), np.max),
    )
    events = []
    for name, mask, values, worst in found:
        events += _events(clip_id, name, _merged(mask & organic, merge), values, worst)
    if crashed.any():
        first = int(np.argmax(crashed))
        events.append(
            {"clip_id": clip_id, "trigger": "crash", "frame_start": first, "frame_end": len(crashed) - 1, "value": 1.0}
        )
    return events


def disagreement_events(
    clip_id: str, planned_xy: np.ndarray, driven_xy: np.ndarray, config: TriggerConfig = TriggerConfig()
) -> list[dict]:
    """Shadow mode: per-frame planned vs actually driven end point (both (N, 2), ego frame, metres)."""
    err = np.linalg.norm(np.asarray(planned_xy) - np.asarray(driven_xy), axis=1)
    return _events(clip_id, "disagreement", err > config.disagreement_m, err, np.max)
