"""Navigation: the ego's route through a highway-env road network and the command it gives each frame.

Like a navigation prompt (openpilot's "desire", CARLA's RoadOption), the command is `follow` on open road and
names the manoeuvre (`left` / `straight` / `right` through a junction, `exit`) where the route leaves its road:
from COMMAND_LEAD_M before the route's last fork until the car has driven out of the road that leaves it. At
the route's earlier forks the route keeps to its road (a roundabout's ring past the exits it does not take), so
the command stays `follow` until the car is PAST_FORK_M beyond them: "take the exit" comes after the exit
before it, as a sat-nav says it, and a driver without a map or a memory can tell which exit is meant.
"""

from __future__ import annotations

import numpy as np

LaneIndex = tuple[str, str, int | None]

FOLLOW = "follow"
COMMAND_LEAD_M = 200.0
"""The junction's command is given this far (along the route) before the route's last fork: 8 s at 25 m/s,
time to get into the lane the manoeuvre leaves from (an exit's lane opens 100 m before its fork)."""
PAST_FORK_M = 10.0
"""After an earlier fork of the route, the command waits until the car is this far past it: a roundabout's
"exit" given where the car's lane is first labelled the ring past the exit before it came while that exit's
road still branched off beside the car (one learner took it)."""
TURN_THRESHOLD_RAD = np.radians(30.0)
"""Route heading change beyond which the junction command is a turn rather than `straight`."""


def _lane(network, index: LaneIndex):
    a, b, i = index
    return network.get_lane((a, b, i if i is not None else 0))


def pin_route_lanes(network, route: list[LaneIndex]) -> list[LaneIndex]:
    """Give every road of a route the lane that leads into the next road (the lane whose end is nearest the
    next lane's start), working back from the destination. highway-env's planner leaves lane ids open, and its
    MOBIL then never moves over to reach an exit; with pinned lanes it changes lanes towards them, safely."""
    pinned = list(route)
    for k in range(len(pinned) - 2, -1, -1):
        a, b, _ = pinned[k]
        start = _lane(network, pinned[k + 1]).position(0, 0)
        lanes = network.graph[a][b]
        best = min(
            range(len(lanes)), key=lambda i: float(np.linalg.norm(lanes[i].position(lanes[i].length, 0) - start))
        )
        pinned[k] = (a, b, best)
    return pinned


def turn_command(network, route: list[LaneIndex], heading_rad: float) -> str:
    """left / straight / right from the heading change between now and the end of the route.

    highway-env's headings turn clockwise (its y axis points down), so a left turn is a negative change."""
    last = _lane(network, route[-1])
    delta = (last.heading_at(last.length) - heading_rad + np.pi) % (2 * np.pi) - np.pi
    if abs(delta) < TURN_THRESHOLD_RAD:
        return "straight"
    return "left" if delta < 0 else "right"


def is_fork(network, node: str) -> bool:
    """More than one road leaves this node of the network: a driver must choose (an exit, a junction)."""
    return len(network.graph.get(node, {})) > 1


class Navigation:
    """The command along one planned route. `command()` is asked once a frame with the car's lane and position.

    route: lane indices from the car's lane at the start to the destination (highway-env's `plan_route_to`).
    junction_command: what to say through the junction (`exit`, or a turn from `turn_command`).
    lead_m: how far along the route before its last fork the command is given (COMMAND_LEAD_M, or a scenario's).
    """

    def __init__(self, network, route: list[LaneIndex], junction_command: str, lead_m: float = COMMAND_LEAD_M) -> None:
        self.network = network
        self.lead_m = lead_m
        """How far before the route's last fork the command is given."""
        self.route = [tuple(index) for index in route]
        self.junction_command = junction_command
        self.lengths_m = [_lane(network, index).length for index in self.route]
        """Length of each route lane (lane 0 of a road whose lane the route leaves open)."""
        forks = [k for k, (_, b, _) in enumerate(self.route[:-1]) if is_fork(network, b)]
        self._fork = forks[-1] if forks else None
        """Route index of the lane that ends at the route's last fork, where it leaves its road (None: no choice
        anywhere on the route)."""
        self._passed = forks[-2] if len(forks) > 1 else -1
        """Route index of the lane ending at the fork before it: the command waits until the car is past it."""
        self._junction_end = forks[-1] + 1 if forks else len(self.route)
        """Route index of the lane leaving the last fork: past it the car is out of the junction."""
        self._progress = 0
        """Furthest route lane reached. The car's lane inside a junction can snap to a crossing lane for a
        frame (highway-env picks the closest): progress never goes back, so the command does not flicker."""

    def command(self, lane_index: LaneIndex, position: np.ndarray) -> str:
        """This frame's command for a car on lane_index at position (highway-env's frame)."""
        k = self._locate(lane_index)
        if k > self._junction_end:
            return FOLLOW
        if self._fork is None or k > self._fork:
            return self.junction_command
        if k <= self._passed:
            return FOLLOW
        on_route = self.route[k][:2] == tuple(lane_index[:2])
        lane = self.network.get_lane(lane_index) if on_route else _lane(self.network, self.route[k])
        s_now, _ = lane.local_coordinates(position)
        past_fork_m = sum(self.lengths_m[self._passed + 1 : k]) + max(s_now, 0.0)
        if self._passed >= 0 and past_fork_m < PAST_FORK_M:
            return FOLLOW
        later_m = sum(self.lengths_m[k + 1 : self._fork + 1])
        to_fork_m = max(lane.length - s_now, 0.0) + later_m
        return self.junction_command if to_fork_m <= self.lead_m else FOLLOW

    def _locate(self, lane_index: LaneIndex) -> int:
        """Route index of the car's lane; an off-route lane keeps the last one."""
        for k in range(self._progress, len(self.route)):
            if self.route[k][:2] == tuple(lane_index[:2]):
                self._progress = k
                break
        return self._progress


DEVIATION_S = 1.0
"""Off the route this long (not a frame's snap to a crossing lane inside a junction) is a deviation."""
ROUTE_LOOKAHEAD_LANES = 3
ON_ROUTE_MARGIN_M = 1.0
"""A car within this of the edges of its current or next two route lanes is on its route, whatever lane
highway-env labels it with."""


class RouteProgress:
    """How far along its planned route the car has come, in metres, and whether it has left the route.

    Progress is the car's position projected on the route's lanes (the lanes before its current one counted
    whole); it never goes back and only advances on the route's roads, in route order, so circling a
    roundabout past its exit or driving a road twice counts nothing. Leaving the route's roads for
    DEVIATION_S is a route deviation (CARLA's leaderboard ends the route there too)."""

    def __init__(self, network, route: list[LaneIndex], position: np.ndarray, dt_s: float) -> None:
        self.network = network
        self.route = [tuple(index) for index in route]
        self.roads = [index[:2] for index in self.route]
        lengths = [_lane(network, index).length for index in self.route]
        self._starts_m = np.concatenate([[0.0], np.cumsum(lengths)])
        s0, _ = _lane(network, self.route[0]).local_coordinates(position)
        self._origin_m = float(np.clip(s0, 0.0, lengths[0]))
        self.length_m = float(self._starts_m[-1] - self._origin_m)
        """Route length from the car's start to the end of the route's last lane."""
        self.progress_m = 0.0
        self._k = 0
        self._off_frames = 0
        self._deviation_frames = max(1, round(DEVIATION_S / dt_s))
        self.deviated = False

    @property
    def completion(self) -> float:
        return float(min(self.progress_m / self.length_m, 1.0)) if self.length_m > 0 else 1.0

    def update(self, lane_index: LaneIndex, position: np.ndarray) -> None:
        """The car on lane_index at position (highway-env's frame). It is on its route when its lane is one of
        the route's roads ahead, or when it lies on one of the next route lanes (highway-env labels a car
        waiting at a roundabout entry, or turning inside a junction, with whichever lane is closest, often a
        crossing one)."""
        road = tuple(lane_index[:2])
        ahead = [k for k in range(self._k, len(self.roads)) if self.roads[k] == road]
        if ahead:
            k, lane = ahead[0], self.network.get_lane(lane_index)
        else:
            near = range(self._k, min(self._k + ROUTE_LOOKAHEAD_LANES, len(self.route)))
            lanes = [(k, _lane(self.network, self.route[k])) for k in near]
            k, lane = next(((k, ln) for k, ln in lanes if ln.on_lane(position, margin=ON_ROUTE_MARGIN_M)), (None, None))
        if k is None:
            self._off_frames += 1
            self.deviated = self.deviated or self._off_frames >= self._deviation_frames
            return
        self._off_frames = 0
        self._k = k
        s, _ = lane.local_coordinates(position)
        along_m = self._starts_m[self._k] + float(np.clip(s, 0.0, lane.length)) - self._origin_m
        self.progress_m = max(self.progress_m, along_m)
