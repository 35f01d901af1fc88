"""Open-loop scores of a learned policy on held-out fleet clips: it is fed the recorded frames, speed and command
frame by frame (as in the car, with its frame context), and its chosen plan is compared with where the expert
then drove.

    l2_<k>s_m          mean distance between planned and driven position k = 1, 2, 3 s ahead
    best_l2_<k>s_m     the same for the hypothesis nearest the driven path at each horizon (best of K, as
                       trajectory-prediction benchmarks' minFDE): what the plan would score if choosing were free
    confidence_picks_best_rate
                       share of frames whose most confident hypothesis (the one that drives) is the nearest
                       (least mean distance over the plan); 1 with one hypothesis
    plan_overlap_rate  share of frames whose plan runs into the car ahead: the clip knows that car's gap and
                       closing speed (radar-style), so it is predicted at constant speed along the lane; a plan
                       point within half a lane of the lane's centre line whose front bumper passes the lead
                       car's rear at the same time overlaps it (other cars are not in the signals: a lower bound)
    yield_accuracy     for a network with the yield head (`expert_yielding`), on clips that record the expert's
    yield_recall       decision: the share of frames where the head (probability > 0.5) agrees with it, and the
                       share of the expert's yielding frames the head flags (yielding is rare: accuracy alone
                       would reward never yielding); absent without such a head or such clips
    standstill_go_where_expert_waits_rate
    standstill_go_where_expert_goes_rate
                       where the car stands (below STANDSTILL_MPS; `standstill_frames`) and the expert then waited or
                       set off (moved SET_OFF_M within SET_OFF_S), the share of frames whose plan sets off: the
                       wait-or-go choice at a stop line, read from the plan itself (any network); absent without such
                       frames

Nothing here drives: the policy's mistakes never change what it sees next — the reason open-loop scores can
look good for a driver that fails closed loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core.control import ControllerConfig
from e2edrive.core.io import TRAJECTORY_DT_S, TRAJECTORY_POINTS
from e2edrive.core.policy import Observation

HORIZONS_S = (1.0, 2.0, 3.0)
STANDSTILL_MPS = 0.5
SET_OFF_M = 0.3
SET_OFF_S = ControllerConfig.accel_fit_s
"""A plan sets off when its point SET_OFF_S ahead (the span the controller fits its pace over) lies SET_OFF_M or more
from where the car stands: a straight-line distance, so a waiting plan's lateral jitter is not read as motion."""
CAR_LENGTH_M = 5.0
HALF_LANE_M = 2.0


def overlaps_lead(plan: np.ndarray, speed_mps: float, gap_m: float, closing_mps: float) -> bool:
    """Does the plan ((P, 2) ego positions at TRAJECTORY_DT_S steps) run into the car ahead, predicted at constant
    speed? gap_m: bumper to bumper now."""
    times = np.arange(1, TRAJECTORY_POINTS + 1) * TRAJECTORY_DT_S
    lead_rear = CAR_LENGTH_M / 2 + gap_m + (speed_mps - closing_mps) * times
    ego_front = plan[:, 0] + CAR_LENGTH_M / 2
    return bool(np.any((ego_front > lead_rear) & (np.abs(plan[:, 1]) < HALF_LANE_M)))


def sets_off(trajectory: np.ndarray) -> bool:
    """Does a plan ((P, 2) ego positions at TRAJECTORY_DT_S steps) leave where the car stands within SET_OFF_S?"""
    return bool(np.linalg.norm(trajectory[round(SET_OFF_S / TRAJECTORY_DT_S) - 1]) >= SET_OFF_M)


def open_loop(policy, clip_dirs: list[Path]) -> dict:
    """Score a policy (anything with reset/plan/layout: torch, ONNX, blind) on expert-driven clips."""
    from e2edrive.data.clip import FUTURE_FRAMES, future_trajectory, read_clip

    index = [round(h / TRAJECTORY_DT_S) - 1 for h in HORIZONS_S]
    errors: list[np.ndarray] = []
    best_errors: list[np.ndarray] = []
    overlaps, with_lead, clips, picks_best = 0, 0, 0, 0
    yield_said: list[bool] = []
    yield_truth: list[bool] = []
    standstill: dict[bool, list[bool]] = {False: [], True: []}  # the expert set off: does the plan?
    reads_yield = "expert_yielding" in getattr(policy.layout, "aux", ())
    cameras = tuple(getattr(policy, "cameras", ()))
    for path in clip_dirs:
        clip = read_clip(path)
        s = clip.signals
        if "expert_trajectory_m" in s or clip.meta.get("failure_replay"):
            continue  # the expert did not drive it: no ground truth here
        videos = {c: clip.video(c) for c in cameras}
        n = min([clip.n_frames, *(len(v) for v in videos.values())])
        policy.reset(int(clip.meta.get("seed", 0)))
        clips += 1
        scores_yield = reads_yield and "expert_yielding" in s  # clips older than the label have none
        for t in range(n - FUTURE_FRAMES):
            obs = Observation({c: v[t] for c, v in videos.items()}, float(s["speed_mps"][t]), str(s["command"][t]), t)
            plan = policy.plan(obs)
            hypotheses, confidence = policy.layout.hypotheses_of(plan)
            if scores_yield:
                yield_said.append(policy.layout.aux_of(plan)["expert_yielding"] > 0.5)
                yield_truth.append(bool(s["expert_yielding"][t]))
            chosen = policy.layout.driving(confidence)
            trajectory = hypotheses[chosen]
            truth = future_trajectory(s["x_m"], s["y_m"], s["yaw_rad"], t)
            distance = np.linalg.norm(hypotheses - truth[None], axis=-1)  # (K, P)
            errors.append(distance[chosen, index])
            best_errors.append(distance[:, index].min(axis=0))
            picks_best += chosen == int(distance.mean(axis=1).argmin())
            if s["speed_mps"][t] < STANDSTILL_MPS:
                standstill[sets_off(truth)].append(sets_off(trajectory))
            gap = s["lead_gap_m"][t]
            if gap is not None and np.isfinite(gap):
                with_lead += 1
                overlaps += overlaps_lead(
                    trajectory, float(s["speed_mps"][t]), float(gap), float(s["lead_closing_mps"][t])
                )
            if hasattr(policy, "steer_rad"):
                policy.steer_rad = float(s["steer_rad"][t])  # what the car held: the blind baseline reads it
    if not errors:
        raise ValueError("no expert-driven frames to score open loop")
    e, best = np.stack(errors), np.stack(best_errors)
    said, truth = np.array(yield_said, bool), np.array(yield_truth, bool)
    decisions = {"yield_accuracy": float(np.mean(said == truth)), "yield_frames": len(truth)} if len(truth) else {}
    if truth.any():
        decisions["yield_recall"] = float(said[truth].mean())
    if standstill[False] or standstill[True]:
        decisions["standstill_frames"] = len(standstill[False]) + len(standstill[True])
    for expert_goes, name in ((False, "waits"), (True, "goes")):
        if standstill[expert_goes]:
            decisions[f"standstill_go_where_expert_{name}_rate"] = float(np.mean(standstill[expert_goes]))
    return {
        **decisions,
        **{f"l2_{h:g}s_m": float(e[:, k].mean()) for k, h in enumerate(HORIZONS_S)},
        **{f"best_l2_{h:g}s_m": float(best[:, k].mean()) for k, h in enumerate(HORIZONS_S)},
        "confidence_picks_best_rate": picks_best / len(e),
        "plan_overlap_rate": overlaps / len(e),
        "frames_with_lead_car": with_lead,
        "frames": len(e),
        "clips": clips,
    }
