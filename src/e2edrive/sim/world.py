"""The simulated world: a highway-env scenario stepped at 10 Hz with continuous actions, seen by a camera rig.

highway-env's frame has y pointing right (screen coordinates); everything leaving this module is in the
right-handed world frame of `sim/camera.py` (y flipped, yaw and steering positive to the left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from highway_env.vehicle.kinematics import Vehicle

from e2edrive.core.camera import CameraConfig
from e2edrive.core.io import FRAME_DT_S
from e2edrive.core.policy import Action, Observation
from e2edrive.sim.camera import CameraRig
from e2edrive.sim.ego import EgoVehicle
from e2edrive.sim.navigation import FOLLOW, Navigation, RouteProgress, pin_route_lanes, turn_command
from e2edrive.sim.road import speed_up
from e2edrive.sim.scenarios import Scenario, scenario_overrides
from e2edrive.sim.variation import ENV_KEYS, Variation


@dataclass(frozen=True)
class EgoState:
    """Ego pose and status in the world frame."""

    x_m: float
    y_m: float
    yaw_rad: float
    speed_mps: float
    lane_id: int
    lane_offset_m: float
    """Lateral offset from the current lane centre, positive to the left."""
    on_road: bool
    """The car's centre on a lane of the road (`on_road`)."""
    crashed: bool


ON_ROAD_MARGIN_M = 0.5
"""How far past a lane's edge the car's centre may be and still count as on the road: highway-env's lanes do not
quite meet where an entry joins the roundabout, and the expert's and the oracle's centres pass 0.0-0.2 m outside
both there (the learned cars that left the road at the roundabout: 1-5 m)."""


def on_road(vehicle: Vehicle) -> bool:
    """The vehicle's centre on a lane of its road, any lane, within ON_ROAD_MARGIN_M of its edge. highway-env's
    own `on_road` asks only the lane it labels the car with (the closest), so at a seam between lanes a car on
    the road can be off its labelled one."""
    if vehicle.on_road:
        return True
    position = vehicle.position
    return any(lane.on_lane(position, margin=ON_ROAD_MARGIN_M) for lane in vehicle.road.network.lanes_list())


def vehicle_pose(v: Vehicle) -> tuple[float, float, float]:
    return float(v.position[0]), -float(v.position[1]), -float(v.heading)


class World:
    """One scenario instance with its camera rig. Build it inside the process that steps it."""

    def __init__(
        self,
        scenario: Scenario,
        overrides: dict[str, Any] | None = None,
        cameras: tuple[CameraConfig, ...] = (CameraConfig(),),
        rig: CameraRig | None = None,
    ) -> None:
        """rig: a renderer to share with other worlds of this process (its cameras must be `cameras`)."""
        self.scenario = scenario
        self.overrides = scenario_overrides(scenario, overrides)
        """Config keys set by the caller (`--set`): fixed, never varied."""
        self.base_env_config = scenario.make_env_config(self.overrides)
        self.env_config = dict(self.base_env_config)
        """This episode's highway-env config: the base, plus what a varied world drew."""
        self.env = scenario.env_class(config=self.base_env_config)
        self._env_defaults = dict(self.env.unwrapped.config)
        self.cameras = tuple(cameras)
        self.rig = rig if rig is not None else (CameraRig(self.cameras) if self.cameras else None)
        self.variation_drawn: dict[str, Any] | None = None
        self.step_index = 0
        self.terminated = False
        self.truncated = False
        self.arrived = False
        self.off_road = False
        """The car left the road (`on_road`): the episode ends there, in every scenario."""
        self.past_goal = False
        """Driving on after arriving (`drive_past_goal`): the outcome is settled, only a crash or leaving the road
        stops the car."""
        self.start_to_goal_m: float | None = None
        """Metres to a goal without a route (merge) at reset."""
        self.progress: RouteProgress | None = None
        """Progress along the planned route, for scenarios with a destination."""
        self.start_lane_index: tuple | None = None
        """The ego's lane at reset: its approach to the scenario's junction, if it has one."""
        self.navigation: Navigation | None = None
        self.command = scenario.command or FOLLOW

    @property
    def ego(self) -> EgoVehicle:
        return self.env.unwrapped.vehicle

    @property
    def scenario_duration_s(self) -> float:
        return float(self.env_config["duration"])

    def route_completion(self) -> float:
        """Share of the route driven. With a destination: progress projected on the route's lanes (never a lap
        twice, nothing off the route); with a goal but no route (merge): the share of the start's distance to it
        covered; without a goal: time survived."""
        if self.arrived:
            return 1.0
        if self.progress is not None:
            return self.progress.completion
        if self.start_to_goal_m:
            left_m = self.scenario.to_goal_m(self.env.unwrapped, self.ego)
            return float(np.clip(1.0 - left_m / self.start_to_goal_m, 0.0, 1.0))
        return float(min(self.time_s / self.scenario_duration_s, 1.0))

    def success(self) -> bool:
        """No collision, on the road, and the goal reached (or, without a goal, the time limit reached)."""
        state = self.ego_state()
        reached = self.arrived if self.scenario.arrived is not None else self.truncated
        return bool(reached and not state.crashed and state.on_road and not self.deviated)

    @property
    def deviated(self) -> bool:
        """The car left its planned route for another road (an outcome beside collision and off-road)."""
        return self.progress is not None and self.progress.deviated

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated

    @property
    def dt_s(self) -> float:
        """Step length: 1 / policy_frequency (FRAME_DT_S unless overridden)."""
        return 1.0 / float(self.env_config.get("policy_frequency", 1.0 / FRAME_DT_S))

    @property
    def time_s(self) -> float:
        return self.step_index * self.dt_s

    def reset(self, seed: int, variation: Variation | None = None) -> Observation:
        """Start episode `seed`; with a variation, its traffic drawn from the variation's ranges (seeded)."""
        env = self.env.unwrapped
        drawn = variation.draw(seed) if variation is not None else None
        if drawn:
            drawn = {k: v for k, v in drawn.items() if k not in self.overrides}
        varied = variation.env_overrides(drawn) if drawn else {}
        scenario_overrides(self.scenario, varied)  # the drawn values fit the scenario's keys and types
        env.config.update({k: self._env_defaults[k] for k in ENV_KEYS if k in self._env_defaults} | varied)
        self.env_config = self.base_env_config | varied
        self.variation_drawn = drawn
        env.reset(seed=int(seed))
        speed_up(env.road)
        plain = env.vehicle
        ego = EgoVehicle(env.road, plain.position.copy(), heading=plain.heading, speed=plain.speed)
        env.road.vehicles[env.road.vehicles.index(plain)] = ego
        if drawn:
            variation.apply_to_traffic(env.road.vehicles, ego, drawn)
        env.controlled_vehicles = [ego]
        env.define_spaces()
        network = env.road.network
        self.navigation = None
        if self.scenario.destination is not None:
            ego.plan_route_to(self.scenario.destination)
            if self.scenario.pin_lanes:
                ego.route = pin_route_lanes(network, ego.route)
            junction_command = self.scenario.command or turn_command(network, ego.route, ego.heading)
            self.navigation = Navigation(network, ego.route, junction_command, self.scenario.command_lead_m)
        self.start_lane_index = ego.lane_index
        self.arrived = False
        self.off_road = False
        self.past_goal = False
        self.start_to_goal_m = self.scenario.to_goal_m(env, ego) if self.scenario.to_goal_m is not None else None
        self.progress = (
            RouteProgress(network, ego.route, ego.position, self.dt_s)
            if self.scenario.destination is not None
            else None
        )
        self.step_index = 0
        self.terminated = self.truncated = False
        self._slots: dict[int, int] = {}
        self._wreck_s: dict[int, float] = {}  # other car id → seconds since it crashed
        self._seen: list = []
        if self.rig is not None:
            self.rig.set_road(env.road.network)
        return self.observe()

    def step(self, action: Action) -> Observation:
        """Apply one command for one step (dt_s, 0.1 s by default). Steering is clipped to the car's limits."""
        if self.done:
            raise RuntimeError("step() after the episode ended; call reset()")
        a = action.clipped()
        self.ego.act({"steering": -a.steer_rad, "acceleration": a.accel_mps2})
        _, _, terminated, truncated, _ = self.env.step(None)
        self.step_index += 1
        if self.scenario.tow_wrecks_after_s is not None:
            self._tow_wrecks()
        goal = self.scenario.arrived
        self.off_road = not on_road(self.ego)
        self.arrived = self.arrived or (  # off the road past the goal is not arriving (nor 100 % of the route)
            goal is not None and not self.ego.crashed and not self.off_road and goal(self.env.unwrapped, self.ego)
        )
        if self.progress is not None and not self.arrived:
            self.progress.update(self.ego.lane_index, self.ego.position)
        if self.past_goal:  # highway-env's own end (the intersection's arrival) and the clock no longer count
            self.terminated, self.truncated = bool(self.ego.crashed or self.off_road), False
        else:
            self.terminated = bool(terminated) or self.arrived or self.deviated or self.off_road
            self.truncated = (bool(truncated) or self.time_s >= self.scenario_duration_s) and not self.terminated
        return self.observe()

    def drive_past_goal(self) -> None:
        """Let the car drive on after it arrived (the episode's outcome is settled: read it first) until it
        crashes or leaves the road. A recording drives on so that the frames before the goal have the future their
        trajectory labels need, as a fleet log goes on past a route's end."""
        if not self.arrived or self.ego.crashed or self.off_road:
            raise RuntimeError("drive_past_goal() before arriving, or after a crash or leaving the road")
        self.past_goal = True
        self.terminated = self.truncated = False

    def _tow_wrecks(self) -> None:
        """Remove other cars crashed for tow_wrecks_after_s (the ego's own crash ends the episode anyway)."""
        road = self.env.unwrapped.road
        wrecks = [v for v in road.vehicles if v.crashed and v is not self.ego]
        # rebuilt every step: cars highway-env removed itself leave no stale timers behind
        self._wreck_s = {id(v): self._wreck_s.get(id(v), 0.0) + self.dt_s for v in wrecks}
        towed = {id(v) for v in wrecks if self._wreck_s[id(v)] >= self.scenario.tow_wrecks_after_s}
        road.vehicles[:] = [v for v in road.vehicles if id(v) not in towed]

    def render(self) -> dict[str, np.ndarray]:
        if self.rig is None:
            return {}
        ego = self.ego
        # One slot per vehicle, in order of first appearance, so a car keeps its colour when others leave
        # (the intersection removes and spawns traffic every step).
        present = {id(v): v for v in self.env.unwrapped.road.vehicles if v is not ego}
        for key, v in present.items():
            if key not in self._slots:
                self._slots[key] = len(self._slots)
                self._seen.append(v)  # holding it keeps its id from being reused by a newcomer
        others: list = [None] * len(self._slots)
        for key, v in present.items():
            others[self._slots[key]] = (*vehicle_pose(v), float(v.LENGTH), float(v.WIDTH))
        return self.rig.render(vehicle_pose(ego), others)

    def observe(self) -> Observation:
        if self.navigation is not None:
            self.command = self.navigation.command(self.ego.lane_index, self.ego.position)
        return Observation(
            frames=self.render(),
            speed_mps=float(self.ego.speed),
            command=self.command,
            time_s=self.time_s,
            state=self,
        )

    def ego_state(self) -> EgoState:
        ego = self.ego
        x, y, yaw = vehicle_pose(ego)
        _, lateral = ego.lane.local_coordinates(ego.position)
        return EgoState(
            x_m=x,
            y_m=y,
            yaw_rad=yaw,
            speed_mps=float(ego.speed),
            lane_id=int(ego.lane_index[2]),
            lane_offset_m=-float(lateral),
            on_road=not self.off_road,  # as World.step found it: not a second lane search per call
            crashed=bool(ego.crashed),
        )

    def lead(self) -> tuple[float, float] | None:
        """Radar-style view of the car ahead in the ego lane: (bumper gap m, closing speed m/s), or None."""
        ego = self.ego
        front, _ = ego.road.neighbour_vehicles(ego, ego.lane_index)
        if front is None:
            return None
        gap_m = ego.lane_distance_to(front) - (ego.LENGTH + front.LENGTH) / 2
        closing_mps = float(np.dot(ego.velocity - front.velocity, ego.direction))
        return max(float(gap_m), 0.0), closing_mps

    def close(self) -> None:
        if self.rig is not None:
            self.rig.close()
        self.env.close()
