"""highway-env's environment classes as our scenarios need them: rewards removed, the exit's start lane, the
intersection's traffic class. The registry (`scenarios.py`) names which scenario uses which."""

from __future__ import annotations

from typing import Any

from highway_env.envs.exit_env import ExitEnv
from highway_env.envs.highway_env import HighwayEnv
from highway_env.envs.intersection_env import IntersectionEnv
from highway_env.envs.merge_env import MergeEnv
from highway_env.envs.racetrack_env import RacetrackEnv
from highway_env.envs.roundabout_env import RoundaboutEnv
from highway_env.vehicle.behavior import IDMVehicle

from e2edrive.sim.navigation import is_fork
from e2edrive.sim.prediction import RoutePrediction

EXIT_START_AHEAD_M = 50.0
EXIT_START_BEHIND_M = 20.0
EXIT_START_STEP_M = 5.0
"""The exit's ego starts with no car within 50 m ahead or 20 m behind in its lane."""


class _NoReward:
    """highway-env's rewards removed: we score driving ourselves (`evaluate/`). Their reward code also assumes
    discrete actions and crashes at reset with continuous ones (merge, roundabout, u-turn)."""

    def _reward(self, action: Any) -> float:
        return 0.0

    def _rewards(self, action: Any) -> dict[str, float]:
        return {}


class HighwayScenarioEnv(_NoReward, HighwayEnv):
    pass


class MergeScenarioEnv(_NoReward, MergeEnv):
    pass


class ExitScenarioEnv(_NoReward, ExitEnv):
    """highway-env's exit, with the ego starting in the rightmost through lane. highway-env starts it in the
    leftmost, four lane changes and 300 m from the exit: in its dense traffic IDM/MOBIL finds no gap it
    accepts (the expert took the exit in 1 of 50 seeds). A driver told of an exit keeps right; so does ours.
    Its traffic (EXIT_TRAFFIC) keeps highway-env's 20 cars but two of its settings are changed, each of which
    stalled the right lane behind the ego in some seeds, and the episode is 40 s."""

    def _create_vehicles(self) -> None:
        super()._create_vehicles()
        ego = self.controlled_vehicles[0]
        lane_index = ("0", "1", self.config["lanes_count"] - 1)
        lane = self.road.network.get_lane(lane_index)
        taken = [lane.local_coordinates(v.position)[0] for v in self.road.vehicles if v.lane_index == lane_index]
        s = lane.local_coordinates(ego.position)[0]
        while any(-EXIT_START_BEHIND_M < t - s < EXIT_START_AHEAD_M for t in taken):
            s -= EXIT_START_STEP_M  # drop back until the lane around the start is free
        ego.position = lane.position(s, 0)
        ego.heading = lane.heading_at(s)
        ego.lane_index, ego.lane = lane_index, lane


class RoundaboutScenarioEnv(_NoReward, RoundaboutEnv):
    pass


class JunctionIDMVehicle(RoutePrediction, IDMVehicle):
    """The intersection's traffic. highway-env's intersection writes its jam distance and comfort limits onto
    the class of its other vehicles; giving it this class keeps IDMVehicle (and our ego) untouched for every
    other scenario run later in the same process.

    Told to yield once inside the junction (its lane starts at a fork), it clears the junction instead of
    stopping in it: highway-env stops it wherever it is, and cars stopped in each other's way deadlocked."""

    def act(self, action: Any = None) -> None:
        if getattr(self, "is_yielding", False) and is_fork(self.road.network, self.lane_index[0]):
            self.target_speed = self.lane.speed_limit
        super().act(action)


class IntersectionScenarioEnv(_NoReward, IntersectionEnv):
    def _agent_reward(self, action: Any, vehicle: Any) -> float:
        return 0.0

    def _agent_rewards(self, action: Any, vehicle: Any) -> dict[str, float]:
        return {}


class RacetrackScenarioEnv(_NoReward, RacetrackEnv):
    pass
