"""From camera frames to model inputs and from model outputs to a command; numpy only.

Shared by the torch policy, the ONNX policy and the in-car runtime, so all three drive identically.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from e2edrive.core import io
from e2edrive.core.errors import UserError
from e2edrive.core.policy import Action

ACCEL_SOURCES = ("trajectory", "controls", "guarded")

WHEELBASE_M = 5.0
"""highway-env's kinematic bicycle uses the car length (5 m) with the centre of mass in the middle."""


@dataclass(frozen=True)
class ControllerConfig:
    """Pure pursuit on the driving trajectory for steering; for speed, the acceleration that trajectory implies,
    braking harder where the controls head does (or either alone).

    lookahead_s: how far along the path to aim, as time at current speed, clamped to [min, max] metres. Pure
    pursuit aims at a chord, so it cuts a curve by more the farther it aims; at the roundabout's exit, where the
    ring's left curve turns into the exit's right one, 1.0 s / 8 m (the former defaults) took even the expert's own
    plan (`oracle`) off the road in 14 of 20 seeds (600000..), 0.6 s / 5 m in none. The same network (q54, 30 seeds
    600000..) at 1.0 s / 8 m, 0.8 s / 6 m, 0.6 s / 5 m, 0.5 s / 4 m, 0.4 s / 3 m: roundabout 5, 15, 29, 30, 29 of 30;
    highway, merge, exit, racetrack alike within one or two episodes; intersection 19, -, 18, 14, -.
    accel_from: "guarded" (the default), "trajectory" or "controls". "trajectory": the chosen hypothesis drives both
    ways. "controls": the controls head's acceleration. The controls head regresses the expert's acceleration, so
    where the expert either waits or goes (a junction's stop line) it learns their average; the hypotheses are
    winner-takes-all, so the chosen one commits to one. The same network (the 33.6-min run's, trained while the
    controls head set the pace) on 50 held-out seeds 600000..: controls 80 %, trajectory 87 % (intersection 30 -> 54,
    roundabout 86 -> 98, racetrack 68 -> 84); on seeds 800000..: 77 -> 87 %. In denser traffic the controls head
    brakes for the car ahead in time more often (highway at density 2.0, 50 seeds 600000..: `make demo`'s networks
    48 -> 72 and 48 -> 68 %, two generalists 66 -> 76 and 74 -> 82 %), but in the six scenarios one generalist fell
    86.7 -> 85.0 %: roundabout 94 -> 76 %, and at the intersection 56 -> 54 % with 11 of 50 timing out at 3.5 m/s.
    "guarded" joins the two: the trajectory's pace, but the controls head's acceleration wherever it brakes harder
    than guard_brake_mps2 while the car moves faster than guard_min_speed_mps (a standing car starts when its chosen
    hypothesis does). Two generalists (h61, the "mid" prototype of the history, and g60, `--fusion early`; 50
    held-out seeds a scenario, the networks unchanged), trajectory -> guarded: six scenarios 86.7 -> 89.7 and 89.7
    -> 91.3 % on seeds 600000.., 91.3 -> 90.3 and 89.3 -> 90.3 % on 800000..; the highway at density 2.0 66 -> 72
    and 74 -> 90 %; `make demo` with it in its rounds (e62) 98 % and, at density 2.0, 60 % (the trajectory's pace
    alone: 48 % in two runs). Without the speed floor the controls head held standing cars at the junction's line (g60's
    intersection 66 -> 22 %, 31 of 50 timing out), as it did when it set the pace wherever the three hypotheses
    agreed on theirs within 1 m/s² (26 %; docs/results_history.md, "The controls head sets a safer pace").
    accel_fit_s: the trajectory's acceleration is the least-squares constant acceleration of its points up to
    this time (1.0 s and 1.5 s drove alike; 2.0 s reacted late: 83 % on 600000..).
    max_lateral_accel_mps2: a turn speed limit on the pace, as openpilot's turn speed control reads the
    model's path: never faster than the speed from which braking at turn_brake_mps2 reaches, at each point of
    the driving trajectory, the speed that keeps the lateral acceleration on the arc to that point under this
    (`turn_speed_limit_mps`); 0: no limit. The expert's pace peaks at 9-11 m/s² in the racetrack's hairpin,
    and there the learned car left the road. A network trained under 8 (50 seeds 800000..) drove the racetrack
    80 / 80 / 60 / 36 % with 6 / 7 / 8 / 10 (8.2 / 8.5 / 8.8 / 9.2 m/s; the expert 9.75), and 12 % without (on
    the 50 seeds 600000.., where it drove 54 % with 8). The limit was 7 while pure pursuit aimed 1.0 s / 8 m
    ahead: there 6 lifted the racetrack but took the roundabout down (66 -> 36 % on one network, missing the exit).
    Aiming 0.6 s / 5 m, two networks trained under 7 (a55, b55), 50 seeds 600000.. each: racetrack 90 / 100 /
    98 % (a55 with 7 / 6 / 5: 8.8 / 8.5 / 7.9 m/s, the expert 9.7) and 90 -> 98 % (b55, 7 -> 6), roundabout
    86 / 90 / 92 % and 90 -> 98 %, intersection 62 / 62 / 62 % and 66 -> 70 %, the other three alike; on seeds
    800000.. racetrack 92 -> 96 and 80 -> 94 %, roundabout 88 -> 90 and 90 -> 98 %. 5 is slower than 0.85x the
    expert's pace there.
    """

    lookahead_s: float = 0.6
    min_lookahead_m: float = 5.0
    max_lookahead_m: float = 40.0
    accel_from: str = "guarded"
    guard_brake_mps2: float = 1.0
    guard_min_speed_mps: float = 3.0
    accel_fit_s: float = 1.5
    max_lateral_accel_mps2: float = 6.0
    turn_brake_mps2: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.min_lookahead_m <= self.max_lookahead_m:
            raise ValueError(
                f"need 0 < min_lookahead_m <= max_lookahead_m, got {self.min_lookahead_m}, {self.max_lookahead_m}"
            )
        if self.accel_from not in ACCEL_SOURCES:
            raise UserError(f"accel_from={self.accel_from!r}: choose one of {ACCEL_SOURCES}")
        if self.guard_brake_mps2 < 0 or self.guard_min_speed_mps < 0:
            raise UserError(
                f"need guard_brake_mps2 >= 0 and guard_min_speed_mps >= 0, got {self.guard_brake_mps2} and "
                f"{self.guard_min_speed_mps}"
            )
        if not io.TRAJECTORY_DT_S <= self.accel_fit_s <= io.TRAJECTORY_HORIZON_S:
            raise UserError(
                f"accel_fit_s={self.accel_fit_s}: need {io.TRAJECTORY_DT_S}..{io.TRAJECTORY_HORIZON_S} s "
                "(the trajectory's points)"
            )
        if self.max_lateral_accel_mps2 < 0 or self.turn_brake_mps2 <= 0:
            raise UserError(
                f"need max_lateral_accel_mps2 >= 0 (0: no limit) and turn_brake_mps2 > 0, got "
                f"{self.max_lateral_accel_mps2} and {self.turn_brake_mps2}"
            )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> ControllerConfig:
        """Refuses fields it does not know (a controller saved by a newer e2edrive would drive differently)."""
        io.refuse_unknown_fields(cls, d, "controller config")
        return cls(**d)


def point_at_distance(trajectory: np.ndarray, distance_m: float) -> np.ndarray:
    """Point at arc length distance_m along (0, 0) → trajectory points; past the last one, along the chord from
    (0, 0) to it. (Along the last segment, a slow car's plan — points a few centimetres apart — pointed anywhere:
    waiting at a junction, the learned driver steered to the lock and left the road.)"""
    pts = np.vstack([np.zeros((1, 2), np.float32), trajectory])
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if cum[-1] < 1e-3:
        return np.array([distance_m, 0.0])
    if distance_m >= cum[-1]:
        d = pts[-1]
        return pts[-1] + d / max(np.linalg.norm(d), 1e-6) * (distance_m - cum[-1])
    i = int(np.searchsorted(cum, distance_m, side="right") - 1)
    frac = (distance_m - cum[i]) / max(seg[i], 1e-6)
    return pts[i] + frac * (pts[i + 1] - pts[i])


def plan_to_action(
    plan: np.ndarray,
    speed_mps: float,
    config: ControllerConfig = ControllerConfig(),
    layout: io.PlanLayout = io.PLAN_LAYOUT,
) -> Action:
    """Model output (layout.size,) → Action: pure pursuit on the most confident trajectory (the kinematic
    bicycle's steering onto the arc through the point one lookahead along it, `pursuit_steer_rad`), the
    acceleration that trajectory implies (`trajectory_accel_mps2`), the controls head's, or the first guarded by the
    second's braking (config.accel_from),
    held under the turn speed limit (`turn_speed_limit_mps`)."""
    trajectory, controls = layout.split(plan)
    lookahead = float(np.clip(config.lookahead_s * speed_mps, config.min_lookahead_m, config.max_lookahead_m))
    x, y = point_at_distance(trajectory, lookahead)
    if config.accel_from == "controls":
        accel = float(controls[1])
    else:
        accel = trajectory_accel_mps2(trajectory, speed_mps, config.accel_fit_s)
        guarding = config.accel_from == "guarded" and speed_mps > config.guard_min_speed_mps
        if guarding and controls[1] < -config.guard_brake_mps2:
            accel = min(accel, float(controls[1]))
    if config.max_lateral_accel_mps2 > 0:
        limit_mps = turn_speed_limit_mps(trajectory, config.max_lateral_accel_mps2, config.turn_brake_mps2)
        # over the limit: brake; under it: speed up no faster than reaches it within a second
        accel = min(accel, -config.turn_brake_mps2 if speed_mps > limit_mps else limit_mps - speed_mps)
    return Action(steer_rad=pursuit_steer_rad(x, y), accel_mps2=accel).clipped()


TURN_MIN_DISTANCE_M = 3.0
"""Points nearer than this say nothing about the road's curvature (a waiting plan's centimetres of noise)."""


def turn_speed_limit_mps(trajectory: np.ndarray, max_lateral_accel_mps2: float, brake_mps2: float) -> float:
    """The fastest speed now from which braking at brake_mps2 along the trajectory reaches, at every point at
    least TURN_MIN_DISTANCE_M away, sqrt(max_lateral_accel / curvature) of the arc from the car through that
    point (curvature 2 sin(bearing) / distance, pure pursuit's); inf when no point is that far."""
    pts = np.asarray(trajectory, np.float64)
    distance_m = np.hypot(pts[:, 0], pts[:, 1])
    far = distance_m >= TURN_MIN_DISTANCE_M
    if not far.any():
        return math.inf
    curvature = np.abs(2.0 * np.sin(np.arctan2(pts[far, 1], pts[far, 0])) / distance_m[far])
    along_m = _along_path_m(pts)[far]
    v_turn = np.sqrt(max_lateral_accel_mps2 / np.maximum(curvature, 1e-9))
    return float(np.min(np.sqrt(v_turn**2 + 2.0 * brake_mps2 * along_m)))


def trajectory_accel_mps2(trajectory: np.ndarray, speed_mps: float, fit_s: float = 1.5) -> float:
    """The constant acceleration a that best explains (least squares) the distance along the trajectory's
    points up to fit_s from the current speed v: s(t) = v t + a t^2 / 2 at t = 0.5, 1.0, ... s. Distances are
    along the path (a curve is not slowing down)."""
    n = max(1, int(round(fit_s / io.TRAJECTORY_DT_S)))
    s_m = _along_path_m(np.asarray(trajectory, np.float64)[:n])
    t = np.arange(1, len(s_m) + 1) * io.TRAJECTORY_DT_S
    half_t2 = 0.5 * t**2
    return float(np.sum((s_m - speed_mps * t) * half_t2) / np.sum(half_t2**2))


def _along_path_m(points: np.ndarray) -> np.ndarray:
    """Distance along the polyline (0, 0) → points to each point, (N,) metres."""
    return np.cumsum(np.linalg.norm(np.diff(np.vstack([np.zeros((1, 2)), points]), axis=0), axis=1))


def pursuit_steer_rad(x_m: float, y_m: float) -> float:
    """Steering that puts the kinematic bicycle (highway-env's: centre of mass mid-car) on the arc through the
    ego-frame point (x forward, y left). The car moves at its slip angle beta off its heading, on a path of
    curvature 2 sin(beta)/L; pure pursuit's arc from that direction through a point at distance d and bearing
    theta has curvature 2 sin(theta - beta)/d. Equal when tan(beta) = L sin(theta) / (d + L cos(theta)), and
    the steering is atan(2 tan(beta)). (Aiming from the heading alone asked ~1.5x the expert's steering in
    curves; aiming from the slip of the steering held the step before oscillated to the lock at low speed.)"""
    theta = math.atan2(y_m, x_m)
    beta = math.atan2(WHEELBASE_M * math.sin(theta), math.hypot(x_m, y_m) + WHEELBASE_M * math.cos(theta))
    return math.atan(2.0 * math.tan(beta))


class FrameContext:
    """Ring of the last frames of one camera, stacked as the model's (T, C, H, W) uint8 input. Call reset()
    per episode.

    rate_hz: how often push() is called. The context offsets are in FRAME_RATE_HZ frames, so at 20 Hz every
    other frame is skipped; the rate must be a whole multiple of FRAME_RATE_HZ.
    shape_hwc: the camera's (H, W, C) frames.
    """

    def __init__(
        self,
        rate_hz: float = io.FRAME_RATE_HZ,
        offsets_frames: tuple[int, ...] = io.CONTEXT_OFFSETS_FRAMES,
        shape_hwc: tuple[int, int, int] = (io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, io.IMAGE_CHANNELS),
    ) -> None:
        ratio = rate_hz / io.FRAME_RATE_HZ
        if ratio < 1 or abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(f"rate_hz={rate_hz} must be a whole multiple of {io.FRAME_RATE_HZ} Hz")
        if not offsets_frames or max(offsets_frames) > 0:
            raise ValueError(f"context offsets {offsets_frames} must be frames at or before now (<= 0)")
        self.shape_hwc = tuple(shape_hwc)
        self._offsets = [off * round(ratio) for off in offsets_frames]
        self._depth = -min(self._offsets) + 1
        self._frames: list[np.ndarray] = []
        h, w, c = self.shape_hwc
        self._out = np.zeros((len(self._offsets), c, h, w), np.uint8)

    def reset(self) -> None:
        self._frames = []

    def push(self, frame_hwc: np.ndarray) -> np.ndarray:
        """Add this step's (H, W, C) frame; returns the (T, C, H, W) stack (first frame repeated at start)."""
        if frame_hwc.shape != self.shape_hwc:
            raise ValueError(f"frame shape {frame_hwc.shape} != {self.shape_hwc}")
        if not self._frames:
            self._frames = [frame_hwc] * self._depth
        self._frames = self._frames[1:] + [frame_hwc]
        for i, off in enumerate(self._offsets):
            self._out[i] = self._frames[self._depth - 1 + off].transpose(2, 0, 1)
        return self._out


class CameraContexts:
    """One FrameContext per camera a model reads. push() takes this step's frames by camera name and returns
    the (T, C, H, W) stacks in the model's camera order.

    cameras: (name, (H, W, C)) pairs in input order."""

    def __init__(
        self,
        cameras: list[tuple[str, tuple[int, int, int]]],
        offsets_frames: tuple[int, ...] = io.CONTEXT_OFFSETS_FRAMES,
        rate_hz: float = io.FRAME_RATE_HZ,
    ) -> None:
        self.names = [name for name, _ in cameras]
        self._contexts = [FrameContext(rate_hz, offsets_frames, shape) for _, shape in cameras]

    def reset(self) -> None:
        for c in self._contexts:
            c.reset()

    def push(self, frames: dict[str, np.ndarray]) -> list[np.ndarray]:
        missing = [n for n in self.names if n not in frames]
        if missing:
            raise UserError(
                f"the model reads camera(s) {missing} but the frames have only {sorted(frames)}: "
                "drive or record with a rig that has them (e.g. --rig full)"
            )
        return [c.push(frames[n]) for n, c in zip(self.names, self._contexts)]
