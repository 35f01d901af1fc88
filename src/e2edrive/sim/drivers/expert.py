"""The privileged expert: IDM for speed, MOBIL for lane changes, read from the simulator's full state."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from highway_env import utils
from highway_env.road.regulation import RegulatedRoad

from e2edrive.core.policy import Action, Observation
from e2edrive.sim.prediction import along_route, possible_routes


@dataclass(frozen=True)
class ExpertConfig:
    """target_speed_mps: IDM desired speed. lane_change_min_gain_mps2: MOBIL threshold (higher = calmer).
    Each scenario of the registry carries one (`Scenario.expert`)."""

    target_speed_mps: float = 25.0
    max_speed_mps: float | None = None
    """Cap on the desired speed in this scenario (None: target_speed_mps)."""
    yields: bool = False
    """Add a route-aware time-to-collision check to IDM (`_must_yield`): brake for any car predicted to meet
    ours along both routes, not only the lane leader IDM sees."""
    lane_change_min_gain_mps2: float = 0.2
    knows_routes: bool = True
    """Whether its conflict checks (`_gap_too_short`, `_must_yield`) know which way the other cars will go: their
    planned routes, privileged (the simulator's cars signal nothing, so no camera shows them). False: they allow
    for every way each car could go (`possible_routes`), deciding on what a camera can show, where the cars are
    and how fast they go (highway-env's own yield marks at a regulated junction still come from the routes; they
    only ever hold the car back)."""
    yield_horizon_s: float = 3.0
    """Conflict check: both cars predicted along their routes at constant speed for this long."""
    yield_gap_m: float = 6.0
    """Predicted centre distance under which two cars are in conflict."""
    yield_decel_mps2: float = -5.0
    yield_radius_m: float = 60.0
    merge_lookahead_m: float = 60.0
    """Route lane changes: match the speed of the next lane's car ahead when it is within this distance..."""
    merge_min_speed_mps: float = 10.0
    """...but slow to no less than this."""
    route_lane_change_delay_s: float = 0.5
    """Time between MOBIL decisions while the route needs another lane (highway-env's default: 1 s)."""
    entry_horizon_s: float = 6.0
    """Gap acceptance at a junction's stop line: how far ahead conflicts are looked for..."""
    entry_zone_m: float = 20.0
    """...checked only within this distance of the stop line..."""
    entry_margin_s: float = 0.75
    """...and a conflict is two cars' footprints overlapping at predicted times less than this far apart
    (post-encroachment time)."""
    exit_queue_speed_mps: float = 6.0
    """A car slower than this heading into our exit: wait rather than be stuck behind it in the junction."""
    stop_line_gap_m: float = 1.0
    """While it waits, the front bumper stops this far short of the stop line."""
    other_reaction_s: float = 1.0
    other_brake_mps2: float = 3.0
    """A car that should yield to us is predicted braking this hard after this long (highway-env's own
    yielding starts late: cars with lower priority ran into us at the line)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.target_speed_mps <= 40.0:
            raise ValueError(f"target_speed_mps={self.target_speed_mps} outside (0, 40]")


class ExpertPolicy:
    """config: None drives each world with its scenario's expert config (`Scenario.expert`). knows_routes=False
    overrides the config's `knows_routes`: the expert without the other cars' routes ('expert-no-routes')."""

    privileged = True

    def __init__(self, config: ExpertConfig | None = None, knows_routes: bool = True) -> None:
        self.config = config
        self.knows_routes = knows_routes
        self.yielding = False
        """Its last decision: did it hold back for another car (wait at a stop line, or brake for a predicted
        conflict)? Recorded as the clips' `expert_yielding` label (`sim/rollout.py`), never a driving input."""

    def reset(self, seed: int) -> None:
        """Stateless between episodes: its lane-change intent lives on the ego vehicle, reset by the world."""
        self.yielding = False

    def act(self, observation: Observation) -> Action:
        world = observation.state
        if world is None:
            raise ValueError("the expert is privileged: it needs observation.state (the World)")
        c = self.config or world.scenario.expert
        if not self.knows_routes and c.knows_routes:
            c = replace(c, knows_routes=False)
        ego = world.ego
        # A regulated junction (highway-env's RegulatedRoad) marks lower-priority cars in a predicted conflict
        # as yielding. The expert yields then, or when its own gap acceptance says so, by stopping at the line,
        # and on its approach lane only: once past the line, stopping would leave it standing in the crossing
        # traffic's path, so it clears the junction.
        road = world.env.unwrapped.road
        approaching = isinstance(road, RegulatedRoad) and ego.lane_index[:2] == world.start_lane_index[:2]
        _abandon_a_missed_exit(ego)
        merge_speed = _merge_speed(ego, c)
        cruise = min(c.target_speed_mps, c.max_speed_mps or float("inf"), merge_speed)
        yielding = approaching and (getattr(ego, "is_yielding", False) or _gap_too_short(world, cruise, c))
        ego.target_speed = cruise
        if merge_speed < float("inf"):  # changing lanes for the route: decide as often as it may
            ego.LANE_CHANGE_DELAY = c.route_lane_change_delay_s
        ego.LANE_CHANGE_MIN_ACC_GAIN = c.lane_change_min_gain_mps2
        steering_right_rad, accel_mps2 = ego.decide()
        if yielding:
            accel_mps2 = min(accel_mps2, _stop_at_line_accel(ego, c.stop_line_gap_m))
        elif approaching and world.navigation is not None and _stop_line_gap_m(ego) < c.entry_zone_m:
            # cleared to go: follow cars on our own route only. IDM also braked for cars crossing it, which the
            # gap check had cleared, and we came late for the gap we took.
            accel_mps2 = _route_leader_accel(ego, world.navigation)
        conflict = c.yields and _must_yield(world, c)
        if conflict:
            accel_mps2 = min(accel_mps2, c.yield_decel_mps2)
        self.yielding = bool(yielding or conflict)
        accel_mps2 = max(accel_mps2, -max(ego.speed, 0.0) / world.dt_s)  # brake to a stop, never into reverse
        return Action(steer_rad=-steering_right_rad, accel_mps2=accel_mps2)


def _merge_speed(ego, c: ExpertConfig) -> float:
    """When the route needs another lane of this road (an exit ahead), the speed of the car ahead in the
    next lane over: alongside the gap behind it MOBIL finds the change safe, where racing past the whole
    queue it never would. Infinite when no lane change is needed."""
    if not ego.route or ego.route[0][2] is None or ego.route[0][:2] != ego.lane_index[:2]:
        return float("inf")
    step = int(np.sign(ego.route[0][2] - ego.lane_index[2]))
    if step == 0:
        return float("inf")
    side = (*ego.lane_index[:2], ego.lane_index[2] + step)
    ahead, _ = ego.road.neighbour_vehicles(ego, side)
    if ahead is None or ego.lane_distance_to(ahead) > c.merge_lookahead_m:
        return float("inf")
    return max(float(ahead.speed), c.merge_min_speed_mps)


def _gap_too_short(world, cruise_mps: float, c: ExpertConfig) -> bool:
    """Gap acceptance at a stop line: would another car's footprint overlap ours within entry_margin_s of
    the same moment if we drove on along our route, speeding up as IDM does to cruise_mps? Cars with right of way
    are predicted at constant speed; cars that should yield to us, braking as hard as they comfortably can
    after a reaction time (they may not manage to stop). highway-env's own check predicts us at our
    current speed, so a car waiting at the line sees no conflict and pulls out, and it has no margin."""
    ego = world.ego
    s_now = ego.lane.local_coordinates(ego.position)[0]
    if ego.lane.length - s_now > c.entry_zone_m:
        return False  # not at the stop line yet
    times = np.arange(0.0, c.entry_horizon_s + 1e-9, PREDICTION_STEP_S)
    travel_m = _free_road_travel_m(ego, times, min(cruise_mps, ego.lane.speed_limit or cruise_mps))
    ego_path = along_route(ego, travel_m)
    # the junction lane, then the exit
    ahead = [lane[:2] for lane in ego.route or [] if lane[:2] != ego.lane_index[:2]]
    ego_priority = _crossing_priority(ego, ego.route or [])
    for other in ego.road.vehicles:
        if other is ego or np.linalg.norm(other.position - ego.position) > c.yield_radius_m:
            continue
        if other.lane_index[:2] == ego.lane_index[:2]:
            continue  # in our lane: IDM follows it
        if ahead and other.lane_index[1] == ahead[0][1] and other.speed < c.exit_queue_speed_mps:
            return True  # someone slow is heading into our exit: don't block the junction behind it
        v = max(other.speed, 0.0)
        for route in _routes(other, v * c.entry_horizon_s, c):
            if _crossing_priority(other, route) >= ego_priority:
                other_m = v * times  # it has right of way: it drives on
            else:  # it should yield to us: it brakes, late
                braking_s = np.clip(times - c.other_reaction_s, 0.0, v / c.other_brake_mps2)
                other_m = (
                    v * np.minimum(times, c.other_reaction_s) + v * braking_s - 0.5 * c.other_brake_mps2 * braking_s**2
                )
            other_path = along_route(other, other_m, route)
            if _footprints_meet(ego, ego_path, other, other_path, round(c.entry_margin_s / PREDICTION_STEP_S)):
                return True
    return False


def _must_yield(world, c: ExpertConfig) -> bool:
    """Time-to-collision check against every nearby car, along both cars' routes (not just the lane
    leader IDM sees): brake when a conflict is predicted and we would not clear it first."""
    ego = world.ego
    times = np.arange(PREDICTION_STEP_S, c.yield_horizon_s + 1e-9, PREDICTION_STEP_S)
    ego_path = None
    for other in world.env.unwrapped.road.vehicles:
        if other is ego or np.linalg.norm(other.position - ego.position) > c.yield_radius_m:
            continue
        rel = other.position - ego.position
        if np.dot(rel, ego.direction) < -ego.LENGTH:  # behind us: theirs to avoid
            continue
        if ego_path is None:
            ego_path = _predict(ego, times)
        for route in [None] if other.crashed else _routes(other, max(other.speed, 0.0) * times[-1], c):
            other_path = _predict(other, times, route)
            gaps = np.linalg.norm(ego_path - other_path, axis=1)
            hit = np.flatnonzero(gaps < c.yield_gap_m)
            if hit.size and (other.crashed or np.linalg.norm(other_path[hit[0]] - other.position) > 1.0):
                return True  # a moving car reaches the conflict point with us (let it pass), or a wreck is there
    return False


PREDICTION_STEP_S = 0.25

MISSED_EXIT_S = 1.0
"""Less than this much road left at the current speed, and not yet in the exit's lane: the exit is missed."""


def _abandon_a_missed_exit(ego) -> None:
    """Not in the route's lane with under a second of road left: drive on instead of cutting across lanes
    (highway-env's route following would steer straight at the exit from wherever the car is)."""
    if not ego.route or ego.route[0][2] is None or ego.route[0][:2] != ego.lane_index[:2]:
        return
    left_m = ego.lane.length - ego.lane.local_coordinates(ego.position)[0]
    if ego.route[0][2] == ego.lane_index[2] or left_m > max(ego.speed, 0.0) * MISSED_EXIT_S or len(ego.route) < 2:
        return
    # Only where the next road does not go on from our lane (an exit), not where every lane continues.
    network = ego.road.network
    a, b, _ = ego.route[1]
    end = ego.lane.position(ego.lane.length, 0)
    if min(np.linalg.norm(lane.position(0, 0) - end) for lane in network.graph[a][b]) > ego.lane.width_at(0):
        ego.route = [ego.lane_index]  # no plan: highway-env continues in the nearest lane straight on


def _free_road_travel_m(ego, times: np.ndarray, speed_mps: float) -> np.ndarray:
    """Distance the ego covers by each of the (evenly spaced, from 0) times, speeding up to speed_mps as its
    IDM does on a free road: the crossing it would make if it went now."""
    dt_s = times[1] - times[0]
    v, d, out = max(ego.speed, 0.0), 0.0, []
    for _ in times:
        out.append(d)
        a = ego.COMFORT_ACC_MAX * (1 - (v / speed_mps) ** ego.DELTA)
        d += v * dt_s + 0.5 * a * dt_s**2
        v += a * dt_s
    return np.array(out)


def _stop_line_gap_m(ego) -> float:
    """Front bumper to the end of the ego's lane (a junction's stop line); negative once the nose is over it."""
    return float(ego.lane.length - ego.lane.local_coordinates(ego.position)[0] - ego.LENGTH / 2)


def _stop_at_line_accel(ego, jam_m: float) -> float:
    """IDM's acceleration toward a standing car at the end of the ego's lane (a junction's stop line): the
    front bumper stops jam_m short of it, where highway-env's own yielding stops a car wherever it is."""
    v = max(ego.speed, 0.0)
    desired_m = jam_m + v * ego.TIME_WANTED + v**2 / (2 * np.sqrt(ego.COMFORT_ACC_MAX * -ego.COMFORT_ACC_MIN))
    return float(ego.COMFORT_ACC_MAX * (1 - (desired_m / max(_stop_line_gap_m(ego), 0.1)) ** 2))


def _route_leader_accel(ego, navigation) -> float:
    """IDM behind the nearest car ahead on the ego's own route lanes. highway-env's leader search projects
    every car near the ego's (or its target's) lane onto it, so a car only crossing the junction leads too."""
    roads = [lane[:2] for lane in navigation.route]
    here = roads.index(ego.lane_index[:2]) if ego.lane_index[:2] in roads else 0
    starts_m = np.concatenate([[0.0], np.cumsum(navigation.lengths_m)])
    ego_m = starts_m[here] + ego.lane.local_coordinates(ego.position)[0]
    leader, gap_m = None, np.inf
    for other in ego.road.vehicles:
        if other is ego or other.lane_index[:2] not in roads[here:]:
            continue
        ahead_m = starts_m[roads.index(other.lane_index[:2])] + other.lane.local_coordinates(other.position)[0] - ego_m
        if 0 < ahead_m < gap_m:
            leader, gap_m = other, ahead_m
    accel = ego.acceleration(ego)  # IDM's free-road term
    if leader is not None:  # its interaction term, over the distance along the route
        accel -= ego.COMFORT_ACC_MAX * (ego.desired_gap(ego, leader) / max(gap_m, 0.1)) ** 2
    return float(np.clip(accel, -ego.ACC_MAX, ego.ACC_MAX))


def _routes(vehicle, reach_m: float, c: ExpertConfig) -> list[list]:
    """The routes of another car a conflict check allows for: its planned one (the lanes after its current one),
    or without `knows_routes` every one it could take over reach_m metres."""
    return [vehicle.route or []] if c.knows_routes else possible_routes(vehicle, reach_m)


def _crossing_priority(vehicle, route: list) -> int:
    """Right of way at a junction: the lower of the priorities of the lane it is on and the next one of route
    (the lanes after its own; a left turn ranks below the approach it comes from). highway-env's
    respect_priorities compares the lanes the cars are on now, so a car at the stop line looks as important as
    its approach road."""
    network = vehicle.road.network
    lanes = [vehicle.lane_index] + [lane for lane in route if lane[:2] != vehicle.lane_index[:2]][:1]
    return min(network.get_lane((a, b, i or 0)).priority for a, b, i in lanes)


def _footprints_meet(a, path_a: list, b, path_b: list, margin_steps: int) -> bool:
    """Do the two cars' rectangles overlap at any pair of predicted steps at most margin_steps apart?"""
    if not path_a or not path_b:
        return False
    pos_a = np.array([p for p, _ in path_a])
    pos_b = np.array([p for p, _ in path_b])
    reach_m = (np.hypot(a.LENGTH, a.WIDTH) + np.hypot(b.LENGTH, b.WIDTH)) / 2  # no overlap beyond this
    near = np.linalg.norm(pos_a[:, None] - pos_b[None], axis=2) < reach_m
    rows, cols = np.nonzero(near)
    close_in_time = np.abs(rows - cols) <= margin_steps
    for i, j in zip(rows[close_in_time], cols[close_in_time]):
        if utils.rotated_rectangles_intersect(
            (pos_a[i], a.LENGTH, a.WIDTH, path_a[i][1]), (pos_b[j], b.LENGTH, b.WIDTH, path_b[j][1])
        ):
            return True
    return False


def _predict(vehicle, times: np.ndarray, route: list | None = None) -> np.ndarray:
    """(len(times), 2) positions along route (the lanes after the vehicle's own; None: its planned route) at
    constant speed; straight ahead without one. A wreck slides straight on, braking as highway-env brakes it
    (acceleration = -speed: v0 (1 - e^-t) metres)."""
    if vehicle.crashed:
        return vehicle.position + np.outer(max(vehicle.speed, 0.0) * (1 - np.exp(-times)), vehicle.direction)
    path = along_route(vehicle, max(vehicle.speed, 0.0) * times, route)
    if not path:  # no route highway-env can follow
        return vehicle.position + np.outer(times, vehicle.velocity)
    return np.array([position for position, _ in path])
