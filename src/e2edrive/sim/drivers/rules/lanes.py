"""The ego lane's centre line from lane paint: gate paint points around the predicted lane boundaries,
turn each into a centre estimate, fit a quadratic y(x) held towards the motion-compensated last fit.

Runs on road-plane points (`ground.py`), so lane width and curvature are in metres. When too little paint is
seen (junctions, dashes out of view) the prediction alone is kept: the lane is "lost".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LANE_WIDTH_M = 4.0
"""Starting lane-width guess (highway-env and most motorways use about 4 m); refined when both lines show."""
MIN_LANE_WIDTH_M = 3.0
MAX_LANE_WIDTH_M = 6.0
GATE_M = 1.0
"""A paint point counts for a boundary when within this of where the boundary is predicted."""
MIN_RANGE_M = 3.0
MAX_RANGE_M = 35.0
MIN_POINTS = 6
"""Fewer gated paint points than this: the lane is lost this frame."""
PRIOR_SAMPLES_X_M = np.linspace(0.0, MAX_RANGE_M, 8)
PRIOR_WEIGHT = 0.5
"""Weight of each prior sample against one paint point: higher = smoother, slower to follow."""
WIDTH_SMOOTHING = 0.2
WINDOW_REACH_M = (12.0, 20.0, MAX_RANGE_M)
"""Sliding windows: paint up to each reach is gated around the fit of the windows before it."""
MAX_HEADING = 0.8
"""Largest lane heading relative to the car (slope dy/dx at the car), about 39°."""
MAX_HALF_CURVATURE_PER_M = 0.04
"""Largest c2 (half the curvature): a 12.5 m radius."""
COVERAGE_RANGE_M = (3.0, 10.0)
"""Where a line's paint is checked for gaps: close enough that every metre has an image row."""
SOLID_SHARE = 0.8
CURVATURE_RIDGE = 10.0
"""Pull of c2 (half the curvature, 1/m) towards a straight road: a 50 m radius still wins on a few points."""


@dataclass(frozen=True)
class Lane:
    """Ego-lane centre line y = c0 + c1·x + c2·x² in the ego frame (m), its width, and whether paint was seen."""

    coeffs: tuple[float, float, float]
    width_m: float
    seen: bool
    right_dashed: bool = False
    """The right boundary's paint has gaps near the car (a lane line one may cross, not the road edge)."""

    def centre_y_m(self, x_m):
        c0, c1, c2 = self.coeffs
        return c0 + c1 * x_m + c2 * x_m * x_m


def shifted_right(lane: Lane) -> Lane:
    """The neighbouring lane to the right: a lane change is following it instead."""
    c0, c1, c2 = lane.coeffs
    return Lane((c0 - lane.width_m, c1, c2), lane.width_m, lane.seen)


STRAIGHT_AHEAD = Lane((0.0, 0.0, 0.0), LANE_WIDTH_M, seen=False)


def moved(lane: Lane, forward_m: float, yaw_rad: float) -> Lane:
    """The same lane seen from the car after it drove forward_m and turned yaw_rad (left positive)."""
    xs = PRIOR_SAMPLES_X_M + forward_m
    ys = lane.centre_y_m(xs)
    dx = xs - forward_m
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    x_new = c * dx + s * ys
    y_new = -s * dx + c * ys
    c0, c1, c2 = np.polyfit(x_new, y_new, 2)[::-1]
    return _plausible(Lane((float(c0), float(c1), float(c2)), lane.width_m, seen=False))


def _plausible(lane: Lane) -> Lane:
    """Clamp a lane to what a road can look like from a car in it: centre within a lane width, heading and
    bend within limits (a diverging prediction must not feed on itself)."""
    c0, c1, c2 = lane.coeffs
    return Lane(
        (
            float(np.clip(c0, -lane.width_m, lane.width_m)),
            float(np.clip(c1, -MAX_HEADING, MAX_HEADING)),
            float(np.clip(c2, -MAX_HALF_CURVATURE_PER_M, MAX_HALF_CURVATURE_PER_M)),
        ),
        lane.width_m,
        lane.seen,
        lane.right_dashed,
    )


def fit_lane(paint_xy: np.ndarray, prior: Lane) -> Lane:
    """Update the prior lane with this frame's paint points ((N, 2) ego-frame metres).

    Sliding windows outwards: fit the near paint first, then gate the farther paint around the boundaries
    that fit predicts, so a bend ahead is followed rather than gated out by a straight prior."""
    x, y = paint_xy[:, 0], paint_xy[:, 1]
    keep = (x >= MIN_RANGE_M) & (x <= MAX_RANGE_M)
    x, y = x[keep], y[keep]
    lane = Lane(prior.coeffs, prior.width_m, seen=False)
    for reach_m in WINDOW_REACH_M:
        near = x <= reach_m
        lane = _fit_window(x[near], y[near], lane, prior, reach_m) or lane  # a window without paint keeps the last fit
    return lane


def _fit_window(x: np.ndarray, y: np.ndarray, lane: Lane, prior: Lane, reach_m: float) -> Lane | None:
    """Fit the paint up to reach_m, gated around `lane`, held towards `prior` over the same stretch."""
    offset = y - lane.centre_y_m(x)
    half = lane.width_m / 2
    left = np.abs(offset - half) <= GATE_M
    right = np.abs(offset + half) <= GATE_M
    if left.sum() + right.sum() < MIN_POINTS:
        return None
    width = prior.width_m
    if left.sum() >= MIN_POINTS // 2 and right.sum() >= MIN_POINTS // 2:
        measured = float(np.median(offset[left]) - np.median(offset[right]))
        width += WIDTH_SMOOTHING * (float(np.clip(measured, MIN_LANE_WIDTH_M, MAX_LANE_WIDTH_M)) - width)
    cx = np.concatenate([x[left], x[right]])
    cy = np.concatenate([y[left] - width / 2, y[right] + width / 2])
    px = PRIOR_SAMPLES_X_M
    py = prior.centre_y_m(px)
    sw = math.sqrt(PRIOR_WEIGHT)
    a = np.concatenate(
        [np.vander(cx, 3, increasing=True), sw * np.vander(px, 3, increasing=True), [[0.0, 0.0, CURVATURE_RIDGE]]]
    )
    b = np.concatenate([cy, sw * py, [0.0]])
    coeffs, *_ = np.linalg.lstsq(a, b, rcond=None)
    dashed = _paint_share(x[right]) < SOLID_SHARE
    return _plausible(Lane((float(coeffs[0]), float(coeffs[1]), float(coeffs[2])), width, True, dashed))


def _paint_share(x: np.ndarray) -> float:
    """Share of the 1 m bins from COVERAGE_RANGE_M that hold paint: about 1 for a solid line, under half for a
    dashed one (3 m of paint every 12 m)."""
    lo, hi = COVERAGE_RANGE_M
    bins = np.floor(x[(x >= lo) & (x < hi)] - lo).astype(int)
    return len(np.unique(bins)) / (hi - lo)
