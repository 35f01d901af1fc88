"""The safety monitor: sits between the model and the actuators. numpy only.

Every emitted command is finite, within the actuator limits and within the rate limits, whatever the
model says (NaN, inf, huge values, nothing at all). Each change it makes is reported with a reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from e2edrive.core.policy import Action


@dataclass(frozen=True)
class MonitorConfig:
    """Limits in physical units; rates are per second and scaled by the cycle time."""

    max_steer_rad: float = 0.3
    max_steer_rate_radps: float = 0.6
    max_accel_mps2: float = 2.5
    min_accel_mps2: float = -5.0
    max_jerk_mps3: float = 10.0
    emergency_decel_mps2: float = -5.0
    emergency_ttc_s: float = 1.5
    emergency_gap_m: float = 5.0
    fallback_decel_mps2: float = -1.5
    """Gentle braking after a held command, while outputs stay missing."""

    def __post_init__(self) -> None:
        if self.max_steer_rad <= 0 or self.max_steer_rate_radps <= 0 or self.max_jerk_mps3 <= 0:
            raise ValueError("steering limit, steering rate and jerk limits must be positive")
        if not self.min_accel_mps2 <= self.emergency_decel_mps2 < 0 < self.max_accel_mps2:
            raise ValueError(
                f"need min_accel_mps2 <= emergency_decel_mps2 < 0 < max_accel_mps2, got "
                f"{self.min_accel_mps2}, {self.emergency_decel_mps2}, {self.max_accel_mps2}"
            )
        if not self.min_accel_mps2 <= self.fallback_decel_mps2 < 0:
            raise ValueError(f"fallback_decel_mps2={self.fallback_decel_mps2} must be in [min_accel_mps2, 0)")


@dataclass(frozen=True)
class LeadEstimate:
    """Distance to the vehicle ahead in the ego lane and the speed at which it closes (positive = closing)."""

    distance_m: float
    closing_speed_mps: float

    @property
    def ttc_s(self) -> float:
        return self.distance_m / self.closing_speed_mps if self.closing_speed_mps > 1e-3 else math.inf


@dataclass
class MonitorOutput:
    action: Action
    interventions: list[str] = field(default_factory=list)


class SafetyMonitor:
    def __init__(self, config: MonitorConfig = MonitorConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._last = Action(0.0, 0.0)
        self._missing = 0

    def _clamp(self, value: float, low: float, high: float, name: str, reasons: list[str]) -> float:
        if value < low or value > high:
            reasons.append(f"{name}_limit")
            return min(max(value, low), high)
        return value

    def filter(self, command: Action | None, dt_s: float, lead: LeadEstimate | None = None) -> MonitorOutput:
        """One cycle: the model's command (None when missing or late) → the command sent to the actuators."""
        c = self.config
        reasons: list[str] = []
        if command is None or not (math.isfinite(command.steer_rad) and math.isfinite(command.accel_mps2)):
            reasons.append("missing_output" if command is None else "non_finite_output")
            self._missing += 1
            # Hold the last safe command for one cycle, then brake gently with the wheel held.
            accel = self._last.accel_mps2 if self._missing == 1 else min(self._last.accel_mps2, c.fallback_decel_mps2)
            target = Action(self._last.steer_rad, accel)
        else:
            self._missing = 0
            target = command
        steer = self._clamp(target.steer_rad, -c.max_steer_rad, c.max_steer_rad, "steer", reasons)
        accel = self._clamp(target.accel_mps2, c.min_accel_mps2, c.max_accel_mps2, "accel", reasons)
        emergency = lead is not None and (lead.ttc_s < c.emergency_ttc_s or lead.distance_m < c.emergency_gap_m)
        if emergency:
            reasons.append("emergency_brake")
            accel = min(accel, c.emergency_decel_mps2)
        max_dsteer = c.max_steer_rate_radps * dt_s
        steer = self._clamp(
            steer, self._last.steer_rad - max_dsteer, self._last.steer_rad + max_dsteer, "steer_rate", reasons
        )
        max_daccel = c.max_jerk_mps3 * dt_s
        # An emergency may brake at once; every other change of acceleration is jerk-limited.
        low = c.min_accel_mps2 if emergency else self._last.accel_mps2 - max_daccel
        accel = self._clamp(accel, low, self._last.accel_mps2 + max_daccel, "jerk", reasons)
        self._last = Action(steer, accel)
        return MonitorOutput(self._last, reasons)


class PassThrough:
    """No monitor: the model's command goes straight to the actuators (the last one when it is missing).

    Only for measuring what the monitor buys; never the default.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._last = Action(0.0, 0.0)

    def filter(self, command: Action | None, dt_s: float, lead: LeadEstimate | None = None) -> MonitorOutput:
        if command is not None and math.isfinite(command.steer_rad) and math.isfinite(command.accel_mps2):
            self._last = command.clipped()
        return MonitorOutput(self._last, [])
