import numpy as np
import pytest

from e2edrive.sim.drivers.rules import lanes


def _paint(c0: float, c2: float, width: float = 4.0, dashed_right: bool = False) -> np.ndarray:
    """Points on both boundaries of a lane y = c0 + c2 x², sampled like the camera does (denser near)."""
    x = np.concatenate([np.arange(3.0, 12.0, 0.25), np.arange(12.0, 35.0, 1.5)])
    left = np.stack([x, c0 + c2 * x**2 + width / 2], axis=1)
    xr = x[(x % 12.0) < 3.0] if dashed_right else x
    right = np.stack([xr, c0 + c2 * xr**2 - width / 2], axis=1)
    return np.concatenate([left, right])


def test_fit_recovers_offset_and_bend_from_a_straight_prior():
    lane = lanes.STRAIGHT_AHEAD
    for _ in range(15):  # 1.5 s of frames: the prior holds each update back, the paint wins
        lane = lanes.fit_lane(_paint(0.6, 0.004), lane)
    assert lane.seen
    assert lane.coeffs[0] == pytest.approx(0.6, abs=0.1)
    assert lane.coeffs[2] == pytest.approx(0.004, abs=0.001)
    assert lane.width_m == pytest.approx(4.0, abs=0.1)
    assert not lane.right_dashed


def test_width_is_learned_when_both_lines_show():
    lane = lanes.STRAIGHT_AHEAD
    for _ in range(20):
        lane = lanes.fit_lane(_paint(0.0, 0.0, width=4.8), lane)
    assert lane.width_m == pytest.approx(4.8, abs=0.1)


def test_dashed_right_line_is_told_from_a_solid_one():
    assert lanes.fit_lane(_paint(0.0, 0.0, dashed_right=True), lanes.STRAIGHT_AHEAD).right_dashed
    assert not lanes.fit_lane(_paint(0.0, 0.0), lanes.STRAIGHT_AHEAD).right_dashed


def test_without_paint_the_prior_is_kept_and_marked_lost():
    prior = lanes.Lane((0.3, 0.01, 0.0), 4.0, seen=True)
    lane = lanes.fit_lane(np.empty((0, 2)), prior)
    assert not lane.seen and lane.coeffs == prior.coeffs


def test_paint_of_the_next_lane_is_gated_out():
    neighbour = _paint(4.0, 0.0)[:, :]  # lines at +2 and +6
    far = neighbour[neighbour[:, 1] > 3]  # only the +6 line: one lane over, must not pull the fit
    lane = lanes.fit_lane(np.concatenate([_paint(0.0, 0.0), far]), lanes.STRAIGHT_AHEAD)
    assert abs(lane.coeffs[0]) < 0.05


def test_moving_forward_keeps_a_straight_lane_and_turning_left_tilts_it_right():
    straight = lanes.Lane((0.5, 0.0, 0.0), 4.0, seen=True)
    ahead = lanes.moved(straight, forward_m=2.0, yaw_rad=0.0)
    assert ahead.coeffs == pytest.approx((0.5, 0.0, 0.0), abs=1e-6)
    turned = lanes.moved(straight, forward_m=0.0, yaw_rad=0.05)
    assert turned.coeffs[1] == pytest.approx(-0.05, abs=2e-3)


def test_a_diverging_prediction_is_clamped():
    wild = lanes.Lane((100.0, -50.0, 3.0), 4.0, seen=False)
    c0, c1, c2 = lanes.moved(wild, 2.0, 0.0).coeffs
    assert abs(c0) <= 4.0 and abs(c1) <= lanes.MAX_HEADING and abs(c2) <= lanes.MAX_HALF_CURVATURE_PER_M


def test_shifted_right_is_one_lane_over():
    lane = lanes.Lane((0.2, 0.01, 0.0), 4.0, seen=True)
    assert lanes.shifted_right(lane).coeffs == pytest.approx((-3.8, 0.01, 0.0))
