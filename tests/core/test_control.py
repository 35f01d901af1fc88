import math

import pytest

from e2edrive.core.control import WHEELBASE_M, pursuit_steer_rad, slip_rad


@pytest.mark.parametrize("radius_m", [15.0, 30.0, 80.0])
def test_pursuit_holds_a_circle_it_already_drives(radius_m):
    """A car on a circle, steering for it, moves tangent to it but points `slip` inside: aiming at a point of the
    circle must keep its steering. Measured from the heading alone, pursuit asked ~1.5x more in tight curves."""
    beta = math.asin(WHEELBASE_M / (2 * radius_m))
    steer = math.atan(2 * math.tan(beta))
    assert slip_rad(steer) == pytest.approx(beta)
    arc = 10.0
    xv, yv = radius_m * math.sin(arc / radius_m), radius_m * (1 - math.cos(arc / radius_m))  # velocity frame
    x = xv * math.cos(beta) - yv * math.sin(beta)  # heading frame: the heading is beta right of the motion
    y = xv * math.sin(beta) + yv * math.cos(beta)
    assert pursuit_steer_rad(x, y, steer) == pytest.approx(steer, rel=1e-6)
    assert pursuit_steer_rad(x, y, 0.0) > 1.3 * steer, "from the heading alone it over-steers"
    assert pursuit_steer_rad(x, y - 0.5, steer) < steer < pursuit_steer_rad(x, y + 0.5, steer)
