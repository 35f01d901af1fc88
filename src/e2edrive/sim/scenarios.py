"""Scenario registry: each scenario names a highway-env world (`envs.py`), its config, its route, what success
means and the expert's settings there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from e2edrive.core.errors import UserError
from e2edrive.core.io import FRAME_RATE_HZ
from e2edrive.sim.drivers.expert import ExpertConfig
from e2edrive.sim.envs import (
    ExitScenarioEnv,
    HighwayScenarioEnv,
    IntersectionScenarioEnv,
    MergeScenarioEnv,
    RacetrackScenarioEnv,
    RoundaboutScenarioEnv,
)
from e2edrive.sim.navigation import COMMAND_LEAD_M
from e2edrive.sim.variation import Variation

CHEAP_OBSERVATION = {"type": "AttributesObservation", "attributes": []}
"""highway-env's default Kinematics observation costs ~7 ms a step (pandas); ours renders its own."""


def _to_merge_end_m(env: Any, ego: Any) -> float:
    return float(MERGE_END_X_M - ego.position[0])  # the merge's road runs along x


def _past_merge(env: Any, ego: Any) -> bool:
    return _to_merge_end_m(env, ego) < 0.0


def _took_exit(env: Any, ego: Any) -> bool:
    # Not highway-env's _is_success(): it reads a controlled car's *target* lane, which the route planner
    # points at the exit even when the car is three lanes away from it.
    return ego.lane_index[:2] == ("2", "exit") and ego.lane.local_coordinates(ego.position)[0] > EXIT_CLEAR_M


def _left_roundabout(env: Any, ego: Any) -> bool:
    return ego.lane_index[1] == ROUNDABOUT_DESTINATION and ego.lane.local_coordinates(ego.position)[0] > EXIT_CLEAR_M


def _crossed_junction(env: Any, ego: Any) -> bool:
    # highway-env's has_arrived() takes any exit road ("il*" → "o*"): ours must be the route's destination.
    return ego.lane_index[1] == INTERSECTION_DESTINATION and bool(env.has_arrived(ego))


def _per_step(probability_per_s: float) -> float:
    """The chance per 10 Hz step of an event with this chance per second."""
    return 1.0 - (1.0 - probability_per_s) ** (1.0 / FRAME_RATE_HZ)


JUNCTION_SPAWN_PROBABILITY_PER_S = 0.6
"""highway-env's intersection spawns a car with probability 0.6 per env step, tuned for its 1 Hz policy rate.
Stepped at 10 Hz that is six tries a second: every approach fills to its 15 m spawn spacing, and a left turn
across three saturated streams waits for a gap that does not come. We keep its 0.6 a second."""

MERGE_END_X_M = 370.0
"""highway-env's merge ends its episode once the ego passes x = 370 m (past the ramp)."""
ROUNDABOUT_DESTINATION = "nxs"
INTERSECTION_DESTINATION = "o1"
ROUNDABOUT_EXPERT = ExpertConfig(yields=True, max_speed_mps=12.0)
"""- yields: a route-aware time-to-collision check on top of IDM (54 % → 90 % on 50 held-out seeds).
- 12 m/s: at up to 13 m/s in the ring it met cars cutting out of the inner lane and entering without
  yielding (3 crashes in 50)."""
ROUNDABOUT_COMMAND_LEAD_M = 15.0
"""The roundabout's "exit" is given this far before the exit's fork (~2 s at the ring's 8 m/s), as a sat-nav's
"take the exit now", instead of all the way from the exit before it (~28 m): told which exit but not when, the
learned car cut across the ring's edge towards the exit, or kept to the ring past it."""
EXIT_CLEAR_M = 10.0
EXIT_TRAFFIC = {"vehicles_count": 20, "vehicles_density": 1.0, "neighbour_vehicles_connected_lanes": True}
"""- vehicles_density 1.0 (highway-env's exit: 1.5, its highway: 1.0). At 1.5 it spawns the right lane's
  cars ~11 m apart at their 15.8 m/s limit, where IDM wants 34 m: a stop-and-go wave from the first second.
- connected lanes: highway-env's cars look for a leader on their own road segment only, so a car about to
  cross into the exit section ('1' → '2') does not see one standing just past the join, and runs into it.
  highway-env's own option searches the next and previous segments too.
Expert on seeds 100000.. and 400000.. (50 each): 100 % / 100 % with these; 96 % / 90 % with 15 cars and
highway-env's density and search (all timeouts behind a stalled right lane)."""


@dataclass(frozen=True)
class Scenario:
    """A world to drive in.

    env_config: highway-env config overrides on top of the env class defaults.
    duration_s: episode length; success = no collision, stayed on the road, reached this time.
    """

    name: str
    env_class: type
    env_config: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 30.0
    command: str | None = "follow"
    """Navigation command where the route leaves its road (`sim/navigation.py`); None derives left/straight/right
    from the route's turn."""
    command_lead_m: float = COMMAND_LEAD_M
    """How far before the route's last fork the command is given (`sim/navigation.Navigation`)."""
    pin_lanes: bool = False
    """The goal is reached from one lane (an exit): the route names each road's lane that leads to it and the
    expert heads for those lanes (`sim/navigation.pin_route_lanes`)."""
    destination: str | None = None
    """Road-network node the ego's route leads to (roundabout, junction, exit); None = follow the road."""
    arrived: Callable[[Any, Any], bool] | None = None
    """(env, ego) → the goal is reached. None: success means surviving to duration_s."""
    to_goal_m: Callable[[Any, Any], float] | None = None
    """(env, ego) → metres left to a goal that has no route (merge): route completion is the share of the start's
    distance covered. A destination's route measures its own progress (`sim/navigation.RouteProgress`)."""
    expert: ExpertConfig = ExpertConfig()
    """How the privileged expert drives here (`sim/drivers/expert.py`)."""
    variation: Variation = Variation()
    """The ranges a varied collection draws this scenario's traffic from (`sim/variation.py`)."""
    tow_wrecks_after_s: float | None = None
    """Other cars that crashed into each other are removed this long after (None: never). highway-env's
    roundabout and intersection traffic collides among itself, and the wrecks blocked the ego's way for good
    (roundabout: 5 of 50 seeds)."""

    def make_env_config(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        config = {
            "observation": CHEAP_OBSERVATION,
            "action": {"type": "ContinuousAction"},
            "simulation_frequency": FRAME_RATE_HZ,
            "policy_frequency": FRAME_RATE_HZ,
            "duration": self.duration_s,
            "offroad_terminal": False,  # leaving the road ends every scenario's episode in World (sim/world.on_road)
            **self.env_config,
        }
        for key, value in (overrides or {}).items():
            config[key] = value
        return config


SCENARIOS: dict[str, Scenario] = {
    "highway": Scenario(
        name="highway",
        env_class=HighwayScenarioEnv,
        env_config={"lanes_count": 4, "vehicles_count": 30, "vehicles_density": 1.0},
        duration_s=30.0,
        variation=Variation(
            vehicles_density=(0.8, 1.6), vehicles_count=(20, 40), lanes_count=(3, 4), ego_speed_mps=(20.0, 28.0)
        ),
    ),
    "merge": Scenario(
        name="merge",
        env_class=MergeScenarioEnv,
        arrived=_past_merge,
        to_goal_m=_to_merge_end_m,
        variation=Variation(ego_speed_mps=(24.0, 30.0)),
    ),
    "exit": Scenario(
        name="exit",
        env_class=ExitScenarioEnv,
        env_config={"lanes_count": 4, **EXIT_TRAFFIC},
        duration_s=40.0,
        command="exit",
        pin_lanes=True,
        destination="exit",
        arrived=_took_exit,
        variation=Variation(vehicles_density=(0.8, 1.2), vehicles_count=(15, 25), ego_speed_mps=(20.0, 26.0)),
    ),
    "roundabout": Scenario(
        name="roundabout",
        env_class=RoundaboutScenarioEnv,
        duration_s=20.0,
        command="exit",  # the sat-nav's "take the exit", given ROUNDABOUT_COMMAND_LEAD_M before it
        command_lead_m=ROUNDABOUT_COMMAND_LEAD_M,
        destination=ROUNDABOUT_DESTINATION,
        arrived=_left_roundabout,
        expert=ROUNDABOUT_EXPERT,
        tow_wrecks_after_s=3.0,
    ),
    "intersection": Scenario(
        name="intersection",
        env_class=IntersectionScenarioEnv,
        env_config={
            "destination": INTERSECTION_DESTINATION,
            "other_vehicles_type": "e2edrive.sim.envs.JunctionIDMVehicle",
            "spawn_probability": _per_step(JUNCTION_SPAWN_PROBABILITY_PER_S),
        },
        duration_s=30.0,
        command=None,
        destination=INTERSECTION_DESTINATION,
        arrived=_crossed_junction,
        tow_wrecks_after_s=3.0,
        variation=Variation(initial_vehicle_count=(5, 15)),
    ),
    "racetrack": Scenario(
        name="racetrack",
        env_class=RacetrackScenarioEnv,
        env_config={"other_vehicles": 1, "terminate_off_road": False},  # World ends it off the road, as elsewhere
        duration_s=30.0,
        variation=Variation(other_vehicles=(1, 3)),
    ),
}


ALL = "all"


def scenario_names(spec: str) -> list[str]:
    """'all' → every registered scenario; 'a,b' → those (checked)."""
    names = sorted(SCENARIOS) if spec == ALL else [n.strip() for n in spec.split(",") if n.strip()]
    for n in names:
        get_scenario(n)
    if not names:
        raise UserError(f"no scenario in {spec!r}; known: {sorted(SCENARIOS)} or 'all'")
    return names


def get_scenario(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise UserError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
    return SCENARIOS[name]


def scenario_overrides(scenario: Scenario, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Check `--set` overrides against the scenario's highway-env config (keys and value types); returns them."""
    from e2edrive.sim.overrides import check_overrides

    overrides = dict(overrides or {})
    check_overrides(scenario.env_class.default_config() | scenario.make_env_config(), overrides, scenario.name)
    return overrides
