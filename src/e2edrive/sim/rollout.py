"""Drive one episode: any policy at the wheel, optionally an expert labelling and a perturbation injected.

Used by fleet recording (expert drives, small perturbations teach recovery — DART, Laskey et al. 2017),
by closed-loop evaluation (the policy drives alone) and DAgger (the learner drives, mixed with the expert by
a share beta; the expert labels every visited state with its command and, every few steps, its plan).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from e2edrive.core.policy import Observation, Policy
from e2edrive.sim.perturb import PerturbConfig, Perturber
from e2edrive.sim.relabel import expert_trajectory
from e2edrive.sim.variation import Variation
from e2edrive.sim.world import World


@dataclass
class EpisodeResult:
    """Outcome of one episode. success = no collision, stayed on the road, reached the time limit."""

    seed: int
    steps: int
    distance_m: float
    collided: bool
    offroad: bool
    success: bool
    mean_speed_mps: float
    time_s: float
    route_completion: float
    route_deviation: bool = False
    """The car left its planned route for another road (the episode ends there)."""
    max_abs_jerk_mps3: float = 0.0
    """Largest |d accel / dt| over the episode: how smooth the longitudinal control is."""
    max_abs_lateral_accel_mps2: float = 0.0
    """Largest |speed × yaw rate| over the episode: how hard the car turns or changes lanes."""
    p95_abs_jerk_mps3: float = 0.0
    p95_abs_lateral_accel_mps2: float = 0.0
    """The same, 95th percentiles over the episode's steps: typical comfort, not one worst moment."""
    close_following_share: float = 0.0
    """Share of the steps driven above CLOSE_FOLLOWING_MIN_SPEED_MPS with the car ahead in the lane closer than
    CLOSE_HEADWAY_S of the ego's speed (bumper gap / speed): tailgating, which success at one density hides."""
    past_goal_steps: int = 0
    """Steps recorded after the goal (`run_episode`'s past_goal_steps), not part of the episode's metrics."""

    def row(self) -> dict:
        return {
            "seed": self.seed,
            "success": self.success,
            "collided": self.collided,
            "offroad": self.offroad,
            "distance_m": self.distance_m,
            "steps": self.steps,
            "time_s": self.time_s,
            "route_completion": self.route_completion,
            "route_deviation": self.route_deviation,
            "mean_speed_mps": self.mean_speed_mps,
            "max_abs_jerk_mps3": self.max_abs_jerk_mps3,
            "max_abs_lateral_accel_mps2": self.max_abs_lateral_accel_mps2,
            "p95_abs_jerk_mps3": self.p95_abs_jerk_mps3,
            "p95_abs_lateral_accel_mps2": self.p95_abs_lateral_accel_mps2,
            "close_following_share": self.close_following_share,
        }


Recorder = Callable[[Observation, dict], None]

CLOSE_HEADWAY_S = 1.0
"""Time headway under which `close_following_share` counts a step. On the highway's 20 demo seeds the expert (IDM:
1.5 s plus a 5-m jam gap) and the rules driver are under it in 2 % of their steps at the default traffic and 9 % at
density 2.0; the generalist's network in 6 % and 54 %, where it crashes in 12 of 20 (README)."""
CLOSE_FOLLOWING_MIN_SPEED_MPS = 5.0
"""Below this, a short gap is queueing, not tailgating."""

MIX_SEGMENT_STEPS = 10
"""With an expert share beta, who drives is drawn per segment of this many steps (1 s), not per step: a car
whose driver flips at 10 Hz visits states neither driver would."""


def run_episode(
    world: World,
    driver: Policy,
    seed: int,
    labeller: Policy | None = None,
    perturb: PerturbConfig | None = None,
    recorder: Recorder | None = None,
    max_steps: int | None = None,
    variation: Variation | None = None,
    expert_share: float = 0.0,
    relabel_every_steps: int = 0,
    past_goal_steps: int = 0,
) -> EpisodeResult:
    """Run one episode to its end. `recorder(obs, signals)` is called once per step with the row to log.
    variation: draw the episode's traffic from these ranges (collection); None: the scenario as it is.
    With a labeller that is not the driver (DAgger): expert_share is the chance beta that the labeller's command
    drives a segment instead of the driver's; relabel_every_steps > 0 records the labeller's planned trajectory
    (`sim/relabel.py`) every that many steps (the rows carry OPTIONAL_SIGNAL_SCHEMA's columns).
    past_goal_steps > 0: a recorded episode that arrives drives on (`World.drive_past_goal`) and records this many
    steps more, all or none (none if the car crashes or leaves the road meanwhile): the frames before the goal
    then have the future their trajectory labels need. The result is the episode's, settled at the goal; its
    `past_goal_steps` says how many were recorded."""
    obs = world.reset(seed, variation)
    driver.reset(seed)
    if labeller is not None and labeller is not driver:
        labeller.reset(seed)
    perturber = Perturber(perturb, seed + 1_000_003) if perturb else None
    dagger = labeller is not None and labeller is not driver
    mix = np.random.default_rng(seed + 2_000_003)
    expert_drives = False
    if not driver.privileged:
        obs.state = None
    distance_m = 0.0
    start = world.ego_state()
    speeds: list[float] = []
    yaws: list[float] = [start.yaw_rad]
    steps = 0
    moving_steps = close_steps = 0

    def drive(record: Recorder | None):
        """One step: who drives, what is recorded (before the step), the step. Returns the state before it."""
        nonlocal obs, expert_drives
        state = world.ego_state()
        lead = world.lead()
        plan = None
        if dagger and relabel_every_steps > 0 and steps % relabel_every_steps == 0:
            plan = expert_trajectory(world, labeller)  # before the labeller acts: its decisions move its state
        command = driver.act(obs)
        label = command
        if dagger:
            label = labeller.act(_privileged(obs, world))
            if steps % MIX_SEGMENT_STEPS == 0:
                expert_drives = bool(mix.random() < expert_share)
            command = label if expert_drives else command
        applied, perturbed = perturber(command) if perturber else (command, False)
        if dagger and hasattr(driver, "steer_rad"):  # a learner that reads the steering the car holds (blind)
            driver.steer_rad = applied.clipped().steer_rad
        if record is not None:
            extra = {}
            if dagger and relabel_every_steps > 0:
                extra = {
                    "expert_trajectory_m": None if plan is None else plan.reshape(-1).tolist(),
                    "expert_in_control": expert_drives,
                }
            expert_yielding = getattr(labeller if dagger else driver, "yielding", None)  # an expert's decision
            if expert_yielding is not None:
                extra["expert_yielding"] = bool(expert_yielding)
            sent = applied.clipped()  # what the car actually receives
            record(
                obs,
                {
                    "frame_index": steps,
                    "time_s": obs.time_s,
                    "x_m": state.x_m,
                    "y_m": state.y_m,
                    "yaw_rad": state.yaw_rad,
                    "speed_mps": state.speed_mps,
                    "steer_rad": sent.steer_rad,
                    "accel_mps2": sent.accel_mps2,
                    "expert_steer_rad": label.steer_rad,
                    "expert_accel_mps2": label.accel_mps2,
                    "lane_id": state.lane_id,
                    "lane_offset_m": state.lane_offset_m,
                    "on_road": state.on_road,
                    "crashed": state.crashed,
                    "command": obs.command,
                    "perturbed": perturbed,
                    "lead_gap_m": None if lead is None else lead[0],
                    "lead_closing_mps": None if lead is None else lead[1],
                    **extra,
                },
            )
        obs = world.step(applied)
        if not driver.privileged:
            obs.state = None
        return state, lead

    while not world.done and (max_steps is None or steps < max_steps):
        state, lead = drive(recorder)
        if state.speed_mps > CLOSE_FOLLOWING_MIN_SPEED_MPS:
            moving_steps += 1
            close_steps += lead is not None and lead[0] < CLOSE_HEADWAY_S * state.speed_mps
        after = world.ego_state()
        distance_m += math.hypot(after.x_m - state.x_m, after.y_m - state.y_m)
        speeds.append(after.speed_mps)
        yaws.append(after.yaw_rad)
        steps += 1
    jerk, lateral = _comfort(np.array([start.speed_mps, *speeds]), np.array(yaws), world.dt_s)
    final = world.ego_state()
    collided = final.crashed
    offroad = not final.on_road
    result = EpisodeResult(
        seed=seed,
        steps=steps,
        distance_m=distance_m,
        collided=collided,
        offroad=offroad,
        success=world.success(),
        mean_speed_mps=float(np.mean(speeds)) if speeds else 0.0,
        time_s=steps * world.dt_s,
        route_completion=world.route_completion(),
        route_deviation=world.deviated,
        max_abs_jerk_mps3=float(jerk.max(initial=0.0)),
        max_abs_lateral_accel_mps2=float(lateral.max(initial=0.0)),
        p95_abs_jerk_mps3=float(np.percentile(jerk, 95)) if jerk.size else 0.0,
        p95_abs_lateral_accel_mps2=float(np.percentile(lateral, 95)) if lateral.size else 0.0,
        close_following_share=close_steps / moving_steps if moving_steps else 0.0,
    )
    if recorder is not None and past_goal_steps > 0 and result.success and world.arrived:  # not a time limit
        rows: list[tuple[Observation, dict]] = []
        world.drive_past_goal()
        while not world.done and len(rows) < past_goal_steps:
            drive(lambda o, r: rows.append((o, r)))
            steps += 1
        if len(rows) == past_goal_steps and not world.done:
            for row in rows:
                recorder(*row)
            result.past_goal_steps = past_goal_steps
    return result


def _comfort(speed_mps: np.ndarray, yaw_rad: np.ndarray, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-step |jerk| m/s³ and |lateral acceleration| m/s² from per-step speed and heading, the first entry being
    the start; every scenario starts at constant speed, so the acceleration before the first step is zero."""
    if len(speed_mps) < 2:
        return np.zeros(0), np.zeros(0)
    accel = np.concatenate([[0.0], np.diff(speed_mps) / dt_s])
    jerk = np.diff(accel) / dt_s
    yaw_rate = np.diff(np.unwrap(yaw_rad)) / dt_s
    lateral = speed_mps[1:] * yaw_rate
    return np.abs(jerk), np.abs(lateral)


def _privileged(obs: Observation, world: World) -> Observation:
    return Observation(obs.frames, obs.speed_mps, obs.command, obs.time_s, state=world)
