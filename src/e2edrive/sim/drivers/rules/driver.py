"""The rules driver: lane keeping by pure pursuit on the painted lane, adaptive cruise on the nearest vehicle
in that lane, and junctions handled from the navigation command.

It sees what the learned driver sees (front camera, own speed, command) plus its own steering and speed
history (odometry), and nothing of the simulator's state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from e2edrive.core.camera import CameraConfig
from e2edrive.core.control import WHEELBASE_M, pursuit_steer_rad
from e2edrive.core.io import FRAME_DT_S
from e2edrive.core.policy import MAX_ACCEL_MPS2, Action, Observation
from e2edrive.sim.drivers.rules import lanes, obstacles
from e2edrive.sim.drivers.rules.ground import GroundProjector
from e2edrive.sim.drivers.rules.segment import segment
from e2edrive.sim.rig import FRONT

COMMAND_HEADING_RAD = {"left": math.pi / 2, "straight": 0.0, "right": -math.pi / 2}
"""Where each junction command points, as a heading change from where the episode started; a committed turn
ends once it has turned this far."""


@dataclass(frozen=True)
class RulesConfig:
    """Hand-tuned constants of the rules driver. Speeds m/s, distances m, times s."""

    target_speed_mps: float = 25.0
    junction_speed_mps: float = 8.0
    """Speed cap while the lane is lost (inside a junction)."""
    lookahead_s: float = 1.0
    min_lookahead_m: float = 8.0
    max_lookahead_m: float = 20.0
    headway_s: float = 1.5
    min_gap_m: float = 6.0
    max_accel_mps2: float = 2.0
    comfort_decel_mps2: float = 3.0
    idm_exponent: float = 4.0
    front_bumper_m: float = 2.5
    """Car centre to front bumper (half highway-env's 5 m car)."""
    corridor_margin_m: float = 0.3
    """Vehicles this far beyond the lane edge still count as in the lane (cut-ins)."""
    closing_smoothing: float = 0.5
    gap_jump_m: float = 5.0
    """A gap that changes more than this in one frame is another car: the closing-speed estimate restarts."""
    max_lateral_accel_mps2: float = 2.5
    """Bends: the desired speed is capped at sqrt(this / curvature) of the lane ahead."""
    turn_radius_m: float = 15.0
    turn_lost_frames: int = 3
    """Frames without paint, with a turn command, before the car commits to the turn."""
    forget_lane_frames: int = 10
    """Frames without paint after which the predicted lane is dropped for straight ahead."""
    exit_past_command_rad: float = 0.5
    """Circling (a roundabout): once the heading has turned this far past the command's direction, take the
    next road off to the right."""
    lane_change_interval_s: float = 2.5
    """`exit` command: at most one lane change to the right per this long, and only over a dashed line."""

    lane_change_clear_s: float = 1.5
    """A lane change needs the target lane free ahead for this long at the current speed."""

    def __post_init__(self) -> None:
        if not 0 < self.junction_speed_mps <= self.target_speed_mps:
            raise ValueError(f"need 0 < junction_speed_mps <= target_speed_mps, got {self}")


class RulesPolicy:
    privileged = False

    def __init__(self, config: RulesConfig = RulesConfig(), camera: CameraConfig = FRONT) -> None:
        self.config = config
        self.camera = camera
        self.ground = GroundProjector(camera)
        self.reset(0)

    def reset(self, seed: int) -> None:
        self.lane = lanes.STRAIGHT_AHEAD
        self.heading_rad = 0.0
        """Odometry: heading change since the episode started (from own speed and steering)."""
        self._time_s = 0.0
        self._last_steer_rad = 0.0
        self._last_gap_m: float | None = None
        self._closing_mps = 0.0
        self._lost_frames = 0
        self._turned_rad: float | None = None  # heading turned so far in a committed turn; None = not turning
        self._turn_rad = 0.0  # the committed turn's heading change (COMMAND_HEADING_RAD)
        self._left_circle = False
        self._last_change_s = 0.0

    # --- perception ---------------------------------------------------------------------------------
    def _perceive(self, frame: np.ndarray, speed_mps: float) -> tuple[lanes.Lane, np.ndarray]:
        yaw_rad = _yaw_rate_rps(speed_mps, self._last_steer_rad) * FRAME_DT_S
        self.heading_rad += yaw_rad
        self._time_s += FRAME_DT_S
        if self._turned_rad is not None:
            self._turned_rad += abs(yaw_rad)
        prior = lanes.moved(self.lane, speed_mps * FRAME_DT_S, yaw_rad)
        seg = segment(frame, self.ground.horizon_row)
        lane = lanes.fit_lane(self.ground.project(seg.paint), prior)
        return lane, obstacles.contact_points(seg.vehicle, self.ground)

    def _gap(self, points: np.ndarray, lane: lanes.Lane) -> float | None:
        """Bumper gap to the nearest vehicle seen in the lane (within the camera's range), or None."""
        half = lane.width_m / 2 + self.config.corridor_margin_m
        nearest = obstacles.nearest_in_corridor(points, lane.centre_y_m, half)
        return None if nearest is None else max(nearest - self.config.front_bumper_m, 0.1)

    # --- decisions from the navigation command -------------------------------------------------------
    def _route(self, lane: lanes.Lane, command: str, points: np.ndarray, v: float) -> lanes.Lane:
        """Which lane to follow: this one, the one to its right, a committed turn arc, or straight ahead."""
        c = self.config
        self._lost_frames = 0 if lane.seen else self._lost_frames + 1
        target = COMMAND_HEADING_RAD.get(command)
        if target and self._turned_rad is None and self._lost_frames >= c.turn_lost_frames:
            self._turned_rad = 0.0  # paint gone inside a junction: commit to the commanded turn
            self._turn_rad = target  # and finish it, whatever the command says next
        if self._turned_rad is not None and self._turned_rad >= abs(self._turn_rad):
            self._turned_rad = None
            self._lost_frames = 0
            return lanes.STRAIGHT_AHEAD  # look for the new road's paint straight ahead
        if self._turned_rad is not None:
            turn = math.copysign(1.0, self._turn_rad)  # left +1, right -1
            return lanes.Lane((0.0, 0.0, turn / c.turn_radius_m / 2), lane.width_m, seen=False)  # the arc
        if self._lost_frames >= c.forget_lane_frames:
            return lanes.STRAIGHT_AHEAD
        if (
            target is not None
            and not self._left_circle
            and lane.seen
            and self.heading_rad - target >= c.exit_past_command_rad
        ):
            self._left_circle = True  # circled past where the command points: leave at the next exit
            return lanes.shifted_right(lane)
        if (
            command == "exit"
            and lane.seen
            and lane.right_dashed
            and self._time_s - self._last_change_s >= c.lane_change_interval_s
            and (self._gap(points, lanes.shifted_right(lane)) or math.inf) > c.lane_change_clear_s * max(v, 1.0)
        ):
            self._last_change_s = self._time_s
            return lanes.shifted_right(lane)
        return lane

    # --- control ------------------------------------------------------------------------------------
    def act(self, observation: Observation) -> Action:
        c = self.config
        v = float(observation.speed_mps)
        lane, points = self._perceive(observation.frames[self.camera.name], v)
        lane = self._route(lane, observation.command, points, v)
        self.lane = lane
        lookahead = float(np.clip(c.lookahead_s * v, c.min_lookahead_m, c.max_lookahead_m))
        steer = pursuit_steer_rad(lookahead, float(lane.centre_y_m(lookahead)))
        self._last_steer_rad = steer
        in_junction = self._turned_rad is not None or self._lost_frames >= c.turn_lost_frames
        desired = c.junction_speed_mps if in_junction else c.target_speed_mps
        bend_curvature = max(abs(2 * lane.coeffs[2]), abs(_yaw_rate_rps(1.0, steer)))
        desired = min(desired, math.sqrt(c.max_lateral_accel_mps2 / max(bend_curvature, 1e-4)))
        accel = self._cruise(v, desired, self._gap(points, lane))
        return Action(steer_rad=steer, accel_mps2=accel).clipped()

    def _cruise(self, v: float, desired_mps: float, gap_m: float | None) -> float:
        """IDM on the perceived gap; the closing speed is the smoothed change of that gap."""
        c = self.config
        if gap_m is not None and self._last_gap_m is not None and abs(gap_m - self._last_gap_m) < c.gap_jump_m:
            measured = (self._last_gap_m - gap_m) / FRAME_DT_S
            self._closing_mps += c.closing_smoothing * (measured - self._closing_mps)
        else:
            self._closing_mps = 0.0
        self._last_gap_m = gap_m
        free = 1.0 - (v / desired_mps) ** c.idm_exponent
        interaction = 0.0
        if gap_m is not None:
            wanted = (
                c.min_gap_m
                + v * c.headway_s
                + v * self._closing_mps / (2 * math.sqrt(c.max_accel_mps2 * c.comfort_decel_mps2))
            )
            interaction = (max(wanted, 0.0) / gap_m) ** 2
        accel = float(np.clip(c.max_accel_mps2 * (free - interaction), -MAX_ACCEL_MPS2, c.max_accel_mps2))
        return max(accel, -max(v, 0.0) / FRAME_DT_S)  # brake to a stop, never into reverse


def _yaw_rate_rps(speed_mps: float, steer_rad: float) -> float:
    """Kinematic bicycle (centre of mass mid-car): yaw rate from speed and front-wheel angle."""
    beta = math.atan(0.5 * math.tan(steer_rad))
    return speed_mps * math.sin(beta) / (WHEELBASE_M / 2)
