"""Triggers: find the rare, interesting moments in recorded signals (Tesla's "data engine" campaigns).

Each trigger turns a clip's signals into events (clip_id, trigger, frame_start, frame_end, value); an event
spans consecutive frames where the condition holds. Thresholds live in TriggerConfig.
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
    sharp_steer_radps: float = 0.15
    """Steering rate above this (rad/s) is sharp steering."""
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


def find_events(clip_id: str, signals: dict[str, np.ndarray], config: TriggerConfig = TriggerConfig()) -> list[dict]:
    speed = np.asarray(signals["speed_mps"], float)
    decel = np.gradient(speed, FRAME_DT_S) if len(speed) > 1 else np.zeros_like(speed)
    steer_rate = (
        np.abs(np.gradient(np.asarray(signals["steer_rad"], float), FRAME_DT_S))
        if len(speed) > 1
        else np.zeros_like(speed)
    )
    gap = np.asarray(signals.get("lead_gap_m", np.full_like(speed, np.nan)), float)
    closing = np.asarray(signals.get("lead_closing_mps", np.full_like(speed, np.nan)), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ttc = np.where((closing > 0.1) & np.isfinite(gap), gap / closing, np.inf)
    crashed = np.asarray(signals["crashed"], bool)
    events = []
    events += _events(clip_id, "hard_brake", decel < config.hard_brake_mps2, decel, np.min)
    events += _events(clip_id, "near_miss", ttc < config.near_miss_ttc_s, ttc, np.min)
    events += _events(clip_id, "sharp_steer", steer_rate > config.sharp_steer_radps, steer_rate, np.max)
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
