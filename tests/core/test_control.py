import json
import math

import numpy as np
import pytest
from highway_env.vehicle.kinematics import Vehicle
from hypothesis import given
from hypothesis import strategies as st

from e2edrive.core import io
from e2edrive.core.control import (
    TURN_MIN_DISTANCE_M,
    WHEELBASE_M,
    ControllerConfig,
    plan_to_action,
    point_at_distance,
    pursuit_steer_rad,
    trajectory_accel_mps2,
    turn_speed_limit_mps,
)
from e2edrive.core.errors import UserError


def _drive(steer_rad: float, distance_m: float, speed_mps: float = 2.0, dt_s: float = 0.01) -> np.ndarray:
    """highway-env's own kinematic bicycle from the origin, heading +x, holding a steering command the way the
    world sends it (`World.step`: highway-env's y points right): its path in the ego frame (y left), (N, 2) m."""
    car = Vehicle(None, np.zeros(2), heading=0.0, speed=speed_mps)
    car.act({"steering": -steer_rad, "acceleration": 0.0})
    path = []
    for _ in range(int(distance_m / speed_mps / dt_s)):
        car.step(dt_s)
        path.append((car.position[0], -car.position[1]))
    return np.array(path)


@pytest.mark.parametrize("point", [(20.0, 0.5), (10.0, -2.0), (8.0, 3.0), (6.0, 5.0), (5.0, -6.0), (30.0, 4.0)])
def test_the_car_steering_the_pursuit_angle_drives_through_the_point(point):
    """Pure pursuit's arc starts in the direction the car will move in (its heading plus the slip of the new
    steering), so a car holding the steering reaches the point, however tight the turn (a junction at 8 m)."""
    path = _drive(pursuit_steer_rad(*point), 2.0 * math.hypot(*point))
    assert np.min(np.linalg.norm(path - np.array(point), axis=1)) < 0.05


@pytest.mark.parametrize("radius_m", [15.0, 30.0, 80.0])
def test_pursuit_holds_a_circle_it_already_drives(radius_m):
    """A car on a circle, steering for it, moves tangent to it but points `slip` inside: aiming at a point of the
    circle keeps its steering (measured from the heading alone, pursuit asked ~1.5x more in tight curves)."""
    beta = math.asin(WHEELBASE_M / (2 * radius_m))
    steer = math.atan(2 * math.tan(beta))
    arc = 10.0
    xv, yv = radius_m * math.sin(arc / radius_m), radius_m * (1 - math.cos(arc / radius_m))  # velocity frame
    x = xv * math.cos(beta) - yv * math.sin(beta)  # heading frame: the heading is beta right of the motion
    y = xv * math.sin(beta) + yv * math.cos(beta)
    assert pursuit_steer_rad(x, y) == pytest.approx(steer, rel=1e-6)
    assert pursuit_steer_rad(x, y - 0.5) < steer < pursuit_steer_rad(x, y + 0.5)


def test_a_short_plan_extends_along_its_chord():
    """A slow car's plan is a few centimetres per point: past its end the aim point follows the chord from the
    car to the last point, not the direction of the last, noise-sized, segment."""
    plan = np.array([[0.5, 0.0], [1.0, 0.05], [1.5, 0.1], [2.0, 0.1], [2.05, -0.3], [2.1, 0.2]], np.float32)
    x, y = point_at_distance(plan, 8.0)
    assert math.atan2(y, x) == pytest.approx(math.atan2(0.2, 2.1), abs=1e-3)


@given(speed_mps=st.floats(4.5, 35.0), accel_mps2=st.floats(-3.0, 3.0))
def test_trajectory_accel_recovers_a_constant_acceleration(speed_mps, accel_mps2):
    t = np.arange(1, io.TRAJECTORY_POINTS + 1) * io.TRAJECTORY_DT_S
    s = speed_mps * t + 0.5 * accel_mps2 * t**2  # moving forwards over the 1.5 s fitted
    path = np.stack([s, np.zeros_like(s)], -1)
    assert trajectory_accel_mps2(path, speed_mps, 1.5) == pytest.approx(accel_mps2, abs=1e-6)


def test_trajectory_accel_of_a_curve_at_constant_speed_is_near_zero():
    """Distances are along the path: a 50-m-radius curve at 10 m/s is not braking."""
    heading = 10.0 * np.arange(1, io.TRAJECTORY_POINTS + 1) * io.TRAJECTORY_DT_S / 50.0
    arc = np.stack([50.0 * np.sin(heading), 50.0 * (1 - np.cos(heading))], -1)
    assert abs(trajectory_accel_mps2(arc, 10.0)) < 0.05


def test_an_unknown_pace_source_or_fit_beyond_the_plan_is_refused():
    with pytest.raises(UserError):
        ControllerConfig(accel_from="throttle")
    with pytest.raises(UserError):
        ControllerConfig(accel_from="trajectory", accel_fit_s=5.0)


def _arc(radius_m: float, speed_mps: float, left: bool = True) -> np.ndarray:
    """A plan at constant speed on a circle tangent to the heading at the car, (TRAJECTORY_POINTS, 2) m."""
    along_m = speed_mps * np.arange(1, io.TRAJECTORY_POINTS + 1) * io.TRAJECTORY_DT_S
    heading = along_m / radius_m
    y = radius_m * (1 - np.cos(heading))
    return np.stack([radius_m * np.sin(heading), y if left else -y], -1)


def _plan(trajectory: np.ndarray, layout: io.PlanLayout = io.PLAN_LAYOUT) -> np.ndarray:
    """A flat model output whose first (most confident) hypothesis is the trajectory; controls hold speed."""
    plan = np.zeros(layout.size, np.float32)
    plan[: 2 * io.TRAJECTORY_POINTS] = trajectory.reshape(-1)
    plan[layout.confidences.start] = 5.0
    return plan


@given(radius_m=st.floats(8.0, 500.0), speed_mps=st.floats(3.0, 30.0), left=st.booleans())
def test_the_turn_speed_limit_on_a_circle_is_its_lateral_acceleration_after_braking(radius_m, speed_mps, left):
    """On a circle tangent to the heading every point's arc is the circle itself: the limit is the speed that
    brakes to sqrt(a R) by the first point far enough to count (along the plan's polyline)."""
    arc = _arc(radius_m, speed_mps, left)
    distance_m = np.hypot(arc[:, 0], arc[:, 1])
    if not (distance_m >= TURN_MIN_DISTANCE_M).any():
        assert turn_speed_limit_mps(arc, 8.0, 2.0) == math.inf
        return
    along_m = np.cumsum(np.linalg.norm(np.diff(np.vstack([np.zeros((1, 2)), arc]), axis=0), axis=1))
    first_m = along_m[int(np.argmax(distance_m >= TURN_MIN_DISTANCE_M))]  # the points' polyline, as driven
    expected = math.sqrt(8.0 * radius_m + 2.0 * 2.0 * first_m)
    assert turn_speed_limit_mps(arc, 8.0, 2.0) == pytest.approx(expected, rel=1e-3)


def test_a_plan_too_fast_for_its_curve_brakes_and_a_gentle_one_keeps_its_pace():
    """A racetrack hairpin (20 m) at 15 m/s is 11 m/s² of lateral acceleration: over an 8 m/s² limit the car
    brakes. A highway curve (500 m) at 25 m/s and a waiting plan (centimetres) keep the plan's own pace."""
    config = ControllerConfig(max_lateral_accel_mps2=8.0, turn_brake_mps2=2.0)
    unlimited = ControllerConfig(max_lateral_accel_mps2=0.0)
    hairpin = _plan(_arc(20.0, 15.0))
    assert plan_to_action(hairpin, 15.0, config).accel_mps2 == pytest.approx(-2.0)
    assert plan_to_action(hairpin, 15.0, unlimited).accel_mps2 > -0.2  # the plan's own pace: holding speed
    highway = _plan(_arc(500.0, 25.0))
    assert plan_to_action(highway, 25.0, config) == plan_to_action(highway, 25.0, unlimited)
    waiting = np.stack([np.linspace(0.01, 0.06, io.TRAJECTORY_POINTS), np.linspace(0, 0.04, io.TRAJECTORY_POINTS)], -1)
    assert turn_speed_limit_mps(waiting, 8.0, 2.0) == math.inf


def test_the_guarded_pace_brakes_with_the_controls_head_only_when_it_brakes_hard_on_a_moving_car():
    """The trajectory holds 10 m/s; the controls head brakes at 3 m/s²: guarded follows it while the car moves, and
    a standing car (or one the head slows gently) keeps the trajectory's pace."""
    cruise = _plan(_arc(1e4, 10.0))
    braking = cruise.copy()
    braking[io.PLAN_LAYOUT.control.start + 1] = -3.0
    guarded, trajectory = ControllerConfig(accel_from="guarded"), ControllerConfig(accel_from="trajectory")
    assert plan_to_action(braking, 10.0, guarded).accel_mps2 == pytest.approx(-3.0)
    held = plan_to_action(braking, 10.0, trajectory).accel_mps2
    assert abs(held) < 0.05
    assert plan_to_action(cruise, 10.0, guarded) == plan_to_action(cruise, 10.0, trajectory)
    standing = ControllerConfig(accel_from="guarded", guard_min_speed_mps=12.0)  # as if the car crawled
    assert plan_to_action(braking, 10.0, standing).accel_mps2 == pytest.approx(held)
    gentle = ControllerConfig(accel_from="guarded", guard_brake_mps2=4.0)
    assert plan_to_action(braking, 10.0, gentle).accel_mps2 == pytest.approx(held)
    with pytest.raises(UserError):
        ControllerConfig(guard_brake_mps2=-1.0)


def test_a_negative_turn_limit_or_braking_is_refused():
    with pytest.raises(UserError):
        ControllerConfig(max_lateral_accel_mps2=-1.0)
    with pytest.raises(UserError):
        ControllerConfig(turn_brake_mps2=0.0)


def test_a_controller_saved_as_json_reads_back_and_one_from_a_newer_version_is_refused():
    config = ControllerConfig(accel_from="controls", lookahead_s=0.5)
    assert ControllerConfig.from_json(json.loads(json.dumps(config.to_json()))) == config
    with pytest.raises(UserError, match="newer version"):
        ControllerConfig.from_json(config.to_json() | {"jerk_limit_mps3": 2.0})
